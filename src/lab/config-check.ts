/**
 * `npm run lab -- config FILE`'s check before it changes anything: the file must be a valid config for the
 * ConfigMap MetalLB reads (metallb-system/config), and `validate --cluster`'s prediction (src/cli/validate-cluster.ts,
 * the controller's own fail-static rule) must not refuse it. A refused config would leave the lab half switched: the
 * ConfigMap edited but the controller and speakers still running the old config (ConfigRefused Event,
 * metallb_k8s_client_config_stale_bool 1) while the router expects the new one.
 */
import { readFileSync } from 'node:fs';
import { loadKubeClients } from '../adapters/k8s/client.js';
import { parseConfigDocument } from '../core/config/parse.js';
import type { DryRunDecision } from '../controller/dry-run.js';
import { otherConfigMap } from '../cli/validate.js';
import { predict } from '../cli/validate-cluster.js';

/** The lab's MetalLB ConfigMap. */
const LAB_CONFIGMAP = { namespace: 'metallb-system', name: 'config' } as const;

/** ok: apply it; else `message` (what is wrong and what to do) and the exit code (1 invalid or unreadable, 4 refused). */
export type LabConfigVerdict = { readonly ok: true } | { readonly ok: false; readonly code: 1 | 4; readonly message: string };

/** The lines `lab config` prints when MetalLB would refuse `file`: why, the blockers, and the two ways out. */
export function refusalAdvice(file: string, decision: Extract<DryRunDecision, { kind: 'refuse' }>): string {
  const lines = [
    `lab config: MetalLB would refuse ${file} and keep running its current config: ${decision.reason}`,
    ...(decision.blockers.length > 0 ? [`blocking Services (hold addresses outside every pool of ${file}): ${decision.blockers.join(', ')}`] : []),
    'nothing changed (ConfigMap and router as they were). To switch to this config, either:',
    `  npm run lab -- down && npm run lab -- up --config ${file}    # a fresh lab on it`,
  ];
  for (const b of decision.blockers) {
    const [ns, name] = b.split('/');
    lines.push(`  kubectl delete service -n ${ns} ${name}    # then run lab config again`);
  }
  return `${lines.join('\n')}\n`;
}

/** Checks `file` against the lab's cluster (admin kubeconfig `kubeconfig`); never throws for a bad file. */
export async function checkLabConfig(file: string, kubeconfig: string): Promise<LabConfigVerdict> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, code: 1, message: `lab config: cannot read ${file}: ${(err as Error).message}\n` };
  }
  const candidate = parseConfigDocument(text);
  if (!candidate.ok) {
    const errors = candidate.errors.map((e) => `${file}${e.position ? `:${e.position.line}:${e.position.column}` : ''}: ${e.message}`);
    return { ok: false, code: 1, message: `lab config: ${file} is not a valid MetalLB config; nothing changed:\n${errors.join('\n')}\n` };
  }
  const other = otherConfigMap(file, text, LAB_CONFIGMAP);
  if (other !== undefined) return { ok: false, code: 1, message: `lab config: ${other}; nothing changed\n` };
  const { core } = await loadKubeClients(kubeconfig);
  const predicted = await predict(core, candidate, { ...LAB_CONFIGMAP, lbClass: undefined });
  if (!predicted.ok) return { ok: false, code: 1, message: `lab config: ${predicted.error}; nothing changed\n` };
  const decision = predicted.value.decision;
  return decision.kind === 'refuse' ? { ok: false, code: 4, message: refusalAdvice(file, decision) } : { ok: true };
}
