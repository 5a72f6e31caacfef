/**
 * `validate --cluster`: reads what the controller reads (the config ConfigMap, its last-applied store
 * `<name>-last-applied`, every Service) and prints the dry run of src/controller/dry-run.ts. Loaded by dynamic import
 * from validate.ts, so plain `validate` never loads the Kubernetes client.
 */
import { describeApiError, httpStatusOf, type KubeClients } from '../adapters/k8s/client.js';
import { lastAppliedName } from '../adapters/k8s/config-source.js';
import { storedConfigOf } from '../core/config/fail-static.js';
import { parseConfig } from '../core/config/parse.js';
import type { ConfigResult } from '../core/config/types.js';
import type { ConfigMapObject, ServiceObject } from '../core/k8s/objects.js';
import { dryRun, dryRunExitCode, type DryRunResult } from '../controller/dry-run.js';
import { connect, type ClusterResult } from './migrate-cluster.js';

export interface ClusterOptions {
  readonly kubeconfig: string | undefined;
  readonly namespace: string;
  readonly name: string;
  readonly lbClass: string | undefined;
  readonly json: boolean;
}

async function readConfigMap(read: () => Promise<ConfigMapObject>): Promise<ConfigMapObject | undefined> {
  try {
    return await read();
  } catch (err) {
    if (httpStatusOf(err) === 404) return undefined;
    throw err;
  }
}

const FATE_WORD = { keep: 'keep', change: 'change', lose: 'lose', gain: 'gain', none: 'none' } as const;

/** Left-aligned columns separated by two spaces. */
function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** The human report of a dry run. */
export function humanReport(name: string, result: DryRunResult): string {
  const lines: string[] = [];
  const d = result.decision;
  if (d.kind === 'refuse') {
    lines.push(`${name}: the controller would REFUSE this config and keep running its current one: ${d.reason}`);
    if (d.blockers.length > 0) lines.push(`blocking Services (hold addresses outside every pool): ${d.blockers.join(', ')}`);
  } else {
    const counts = new Map<string, number>();
    for (const s of result.services) counts.set(s.fate, (counts.get(s.fate) ?? 0) + 1);
    const summary = (['keep', 'change', 'lose', 'gain', 'none'] as const)
      .filter((f) => counts.has(f)).map((f) => `${counts.get(f)} ${FATE_WORD[f]}`).join(', ');
    lines.push(`${name}: the controller would apply this config (${result.services.length} LoadBalancer Service${result.services.length === 1 ? '' : 's'}${summary ? `: ${summary}` : ''})`);
  }
  if (result.services.length > 0) {
    const rows = [['SERVICE', 'NOW', 'AFTER', 'FATE', 'REASON']];
    for (const s of result.services) {
      rows.push([s.service, s.before.join(',') || '-', s.after.join(',') || '-', FATE_WORD[s.fate], s.reason ?? '']);
    }
    lines.push('', table(rows));
  }
  return `${lines.join('\n')}\n`;
}

export interface PredictOptions {
  readonly namespace: string;
  readonly name: string;
  readonly lbClass: string | undefined;
}

/**
 * Reads what the controller reads (the config ConfigMap `namespace/name`, its last-applied store, every Service)
 * through `core` and dry-runs the parsed, valid `candidate` over them; an error (describeApiError's text) when the
 * API cannot be read. Shared with `npm run lab -- config`.
 */
export async function predict(core: KubeClients['core'], candidate: ConfigResult, opts: PredictOptions): Promise<ClusterResult<DryRunResult>> {
  let configMap: ConfigMapObject | undefined;
  let store: ConfigMapObject | undefined;
  let services: ServiceObject[];
  try {
    [configMap, store, services] = await Promise.all([
      readConfigMap(() => core.readNamespacedConfigMap({ name: opts.name, namespace: opts.namespace }) as Promise<ConfigMapObject>),
      readConfigMap(() => core.readNamespacedConfigMap({ name: lastAppliedName(opts.name), namespace: opts.namespace }) as Promise<ConfigMapObject>),
      core.listServiceForAllNamespaces().then((list) => list.items as ServiceObject[]),
    ]);
  } catch (err) {
    return { ok: false, error: `reading the cluster: ${describeApiError(err)}` };
  }
  return {
    ok: true,
    value: dryRun({
      candidate, configMap, stored: storedConfigOf(store), services, parse: (text) => parseConfig(text),
      ...(opts.lbClass !== undefined ? { lbClass: opts.lbClass } : {}),
    }),
  };
}

/** Runs the dry run for an already parsed, valid candidate; resolves to the exit code (0, 3, 4; 2 on API errors). */
export async function runCluster(name: string, candidate: ConfigResult, opts: ClusterOptions): Promise<number> {
  const connected = await connect(opts.kubeconfig);
  if (!connected.ok) {
    process.stderr.write(`metallb-ts validate: ${connected.error}\n`);
    return 2;
  }
  const predicted = await predict(connected.value.core, candidate, opts);
  if (!predicted.ok) {
    process.stderr.write(`metallb-ts validate: ${predicted.error}\n`);
    return 2;
  }
  const result = predicted.value;
  const code = dryRunExitCode(result);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ file: name, valid: true, exitCode: code, ...result }, null, 2)}\n`);
  } else {
    process.stdout.write(humanReport(name, result));
  }
  return code;
}
