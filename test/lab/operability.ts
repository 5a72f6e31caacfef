// Issue 13's operability commands against a running lab (test/lab/lab-harness.ts): `metallb-ts status` and
// `metallb-ts validate --cluster` run as a user runs them (the real CLI, a kubeconfig), and the evidence of what
// the lab's controller really did with a config edit (its last-applied store, its Warning Events on the ConfigMap,
// its `metallb_k8s_client_config_stale_bool`, the Services' status addresses). No timing assertions: every wait
// is generous and only bounds how long a broken lab takes to fail.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../src/testing/cluster/binaries.js';
import { waitFor } from '../../src/testing/cluster/processes.js';
import type { StatusReport } from '../../src/cli/status-report.js';
import type { Lab } from './lab-harness.js';

const cliMain = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');

/** Runs `metallb-ts <args>` (the built CLI); its exit code and output. */
export function metallbTs(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliMain, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += String(d); });
    child.stderr.on('data', (d) => { stderr += String(d); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** `metallb-ts status --json` with the lab's admin kubeconfig, polled until `until` holds (60 s); the report. */
export async function labStatus(lab: Lab, until: (r: StatusReport) => boolean): Promise<StatusReport> {
  let report: StatusReport | undefined;
  await waitFor('metallb-ts status to show the expected state', 60_000, async () => {
    const r = await metallbTs(['status', '--kubeconfig', join(lab.dir, 'kubeconfig'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    report = JSON.parse(r.stdout) as StatusReport;
    return until(report);
  }, 500).catch((err: Error) => { throw new Error(`${err.message}; last report: ${JSON.stringify(report)}`); });
  return report!;
}

/** Every LoadBalancer Service of the cluster (no loadBalancerClass) → its status IPs, by `ns/name`, sorted. */
export async function lbStatuses(lab: Lab): Promise<Record<string, string[]>> {
  const list = JSON.parse(await lab.cluster.kubectl(['get', 'services', '-A', '-o', 'json'])) as {
    items: Array<{ metadata: { namespace: string; name: string }; spec: { type?: string; loadBalancerClass?: string }; status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } }>;
  };
  const out: Record<string, string[]> = {};
  for (const s of list.items.filter((x) => x.spec.type === 'LoadBalancer' && !x.spec.loadBalancerClass)
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))) {
    out[`${s.metadata.namespace}/${s.metadata.name}`] = (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((ip) => ip !== '');
  }
  return out;
}

const same = (a: Record<string, string[]>, b: Record<string, string[]>): boolean =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/** What `validate --cluster --json` printed, and its exit status. */
export interface Prediction {
  readonly code: number;
  readonly decision: { readonly kind: string; readonly reason?: string; readonly blockers?: readonly string[] };
  readonly services: ReadonlyArray<{ readonly service: string; readonly before: string[]; readonly after: string[]; readonly fate: string }>;
}

/** What the lab's controller did with its config: read through the API and its metrics port. */
export interface ControllerEvidence {
  /** A kubeconfig with the controller ServiceAccount's token: `validate --cluster` needs only its reads. */
  readonly kubeconfig: string;
  /** metallb_k8s_client_config_stale_bool on the controller's /metrics (NaN when absent). */
  stale(): Promise<number>;
  /** data.config of the controller's last-applied store `config-last-applied`. */
  lastApplied(): Promise<string | undefined>;
  /** The controller's ConfigRefused Events on the ConfigMap: their total count and messages. */
  refusals(): Promise<{ count: number; messages: string[] }>;
  /** Puts `text` in the ConfigMap and waits until the controller has applied it (store holds it, not stale). */
  restore(text: string): Promise<void>;
}

export async function putConfigText(lab: Lab, text: string): Promise<void> {
  await lab.cluster.kubectl(['patch', 'configmap', 'config', '-n', 'metallb-system', '--type=merge', '-p', JSON.stringify({ data: { config: text } })]);
}

export async function controllerEvidence(lab: Lab): Promise<ControllerEvidence> {
  const port = /^controller: running .* metrics http:\/\/127\.0\.0\.1:(\d+)\/metrics/m.exec(lab.upOutput)?.[1];
  assert.ok(port, `the lab's controller metrics port in:\n${lab.upOutput}`);
  const kubeconfig = await lab.cluster.kubeconfigFor('metallb-system', 'controller');
  const evidence: ControllerEvidence = {
    kubeconfig,
    async stale() {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const m = /^metallb_k8s_client_config_stale_bool\s+(\S+)/m.exec(text);
      return m ? Number(m[1]) : NaN;
    },
    async lastApplied() {
      const out = await lab.cluster.kubectl(['get', 'configmap', 'config-last-applied', '-n', 'metallb-system', '-o', 'json']);
      return (JSON.parse(out) as { data?: Record<string, string> }).data?.['config'];
    },
    async refusals() {
      const list = JSON.parse(await lab.cluster.kubectl(['get', 'events', '-n', 'metallb-system', '--field-selector', 'involvedObject.kind=ConfigMap,involvedObject.name=config,reason=ConfigRefused', '-o', 'json'])) as {
        items: Array<{ message?: string; count?: number; source?: { component?: string } }>;
      };
      const mine = list.items.filter((e) => e.source?.component === 'metallb-controller');
      return { count: mine.reduce((n, e) => n + (e.count ?? 1), 0), messages: mine.map((e) => e.message ?? '') };
    },
    async restore(text) {
      await putConfigText(lab, text);
      await waitFor('the controller to apply the restored config', 60_000, async () => (await evidence.lastApplied()) === text && (await evidence.stale()) === 0, 250);
    },
  };
  return evidence;
}

/** The lab controller's log lines about its config and Events (the last 30), for a failure message. */
function controllerConfigLog(lab: Lab): string {
  const file = join(lab.dir, 'logs', 'controller.log');
  if (!existsSync(file)) return `(no ${file})`;
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => /config|[Ee]vent|refus|stale/.test(l));
  return `controller log (config and Events, last 30 of ${lines.length}):\n${lines.slice(-30).join('\n')}`;
}

/**
 * Predicts `text` with `validate --cluster` (controller token), applies it to the ConfigMap, and checks that the
 * controller did exactly that: a refusal (a new ConfigRefused Event naming every predicted blocker, stale 1, no
 * status moved, `status` showing REFUSED with the same blockers) or an application (the store holds the text,
 * stale 0, every Service's status addresses equal to the predicted AFTER). Returns the prediction.
 */
export async function predictEdit(lab: Lab, evidence: ControllerEvidence, text: string): Promise<Prediction> {
  const file = join(mkdtempSync(join(tmpdir(), 'metallb-ts-validate-')), 'config.yaml');
  writeFileSync(file, text);
  const before = await lbStatuses(lab);
  const r = await metallbTs(['validate', '--cluster', `--kubeconfig=${evidence.kubeconfig}`, '--json', file]);
  assert.ok([0, 3, 4].includes(r.code), `validate --cluster exit ${r.code}: ${r.stderr}`);
  const report = JSON.parse(r.stdout) as Omit<Prediction, 'code'> & { exitCode: number };
  assert.equal(report.exitCode, r.code, 'the JSON report carries the exit status');
  const p: Prediction = { code: r.code, decision: report.decision, services: report.services };
  const nowOf = Object.fromEntries(p.services.map((s) => [s.service, s.before]));
  const afterOf = Object.fromEntries(p.services.map((s) => [s.service, s.after]));
  assert.deepEqual(nowOf, before, 'the prediction covers every LoadBalancer Service, NOW being its status');

  const refusedBefore = (await evidence.refusals()).count;
  await putConfigText(lab, text);
  let last = '';
  if (p.decision.kind === 'refuse') {
    const blockers = p.decision.blockers ?? [];
    await waitFor(`the controller to refuse the edit naming ${blockers.join(', ')}`, 60_000, async () => {
      const now = await evidence.refusals();
      last = `${now.count} refusals: ${now.messages.join(' | ')}; stale ${await evidence.stale()}`;
      return now.count > refusedBefore && now.messages.some((m) => blockers.every((b) => m.includes(b))) && (await evidence.stale()) === 1;
    }, 250).catch((err: Error) => { throw new Error(`${err.message}; ${last}\n${controllerConfigLog(lab)}`); });
    assert.deepEqual(await lbStatuses(lab), afterOf, 'a refused config moves nothing');
    const status = await labStatus(lab, (s) => s.config.state === 'refused');
    assert.deepEqual(status.config.state === 'refused' ? [...status.config.blockers] : [], [...blockers], 'status names the predicted blockers');
    const human = await metallbTs(['status', '--kubeconfig', join(lab.dir, 'kubeconfig')]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^Config: REFUSED: /m, human.stdout);
    assert.ok(human.stdout.includes(`\n  blocked by Services: ${blockers.join(', ')}\n`), human.stdout);
  } else {
    await waitFor('the controller to apply the edit (last-applied store, stale 0) and the statuses to reach the prediction', 60_000, async () => {
      const statuses = await lbStatuses(lab);
      last = `statuses ${JSON.stringify(statuses)}, predicted ${JSON.stringify(afterOf)}`;
      return (await evidence.lastApplied()) === text && (await evidence.stale()) === 0 && same(statuses, afterOf);
    }, 250).catch((err: Error) => { throw new Error(`${err.message}; ${last}`); });
    const status = await labStatus(lab, (s) => s.config.state === 'applied');
    assert.equal(status.config.state, 'applied');
  }
  return p;
}
