// The lab's node daemons: the speaker (as the DaemonSet in manifests/metallb.yaml starts it) and the kube-proxy
// stand-in, one of each per node namespace. Both reach the apiserver through the cluster's netns relay, so the
// kubeconfigs written on the host work unchanged inside the namespaces.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestCluster } from '../testing/cluster/cluster.js';
import { repoRoot } from '../testing/cluster/binaries.js';
import { startDaemon, waitFor, isAlive, run, StopWaiting } from '../testing/cluster/processes.js';
import type { LabNode } from './topology.js';
import { SPEAKER_LABELS } from './kubelet.js';

/** The speaker's --port (the DaemonSet's `monitoring` port); each node namespace has its own. */
export const SPEAKER_PORT = 7472;

/** The CLI the lab runs: METALLB_TS_CLI (another build, or a stand-in in tests) or this checkout's. */
export function cliPath(): string {
  return process.env.METALLB_TS_CLI ?? join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
}

/** True when the CLI has a `speaker` subcommand (it lists its subcommands in `--help`). */
export async function cliHasSpeaker(cli = cliPath()): Promise<boolean> {
  if (!existsSync(cli)) return false;
  const result = await run(process.execPath, [cli, '--help']);
  return /^\s+speaker\s/m.test(result.stdout);
}

/** What a speaker process is started with, recorded in the lab state so `lab restart-speaker` repeats it. */
export interface SpeakerLaunch {
  node: LabNode;
  kubeconfig: string;
  secretKey: string;
  logFile: string;
}

/**
 * The DaemonSet's container, run in the node namespace: its args (`speaker --port=7472 --config=config
 * --log-level=info`) plus the two a process outside a Pod needs (--kubeconfig with the speaker ServiceAccount's
 * token, and --namespace, which a Pod reads from its ServiceAccount mount), and its env from the downward API:
 * spec.nodeName, status.hostIP and status.podIP (hostNetwork: both the node's IPv4), the labels, the Secret key.
 * `ip netns exec` execs, so the PID returned is the speaker's own.
 */
export function startSpeaker(launch: SpeakerLaunch): number {
  const { node } = launch;
  return startDaemon({
    command: 'ip',
    args: ['netns', 'exec', node.netns, process.execPath, cliPath(), 'speaker',
      `--port=${SPEAKER_PORT}`, '--config=config', '--log-level=info',
      '--kubeconfig', launch.kubeconfig, '--namespace', 'metallb-system'],
    env: {
      ...process.env,
      METALLB_NODE_NAME: node.name,
      METALLB_HOST: node.ipv4,
      METALLB_ML_BIND_ADDR: node.ipv4,
      METALLB_ML_LABELS: Object.entries(SPEAKER_LABELS).map(([k, v]) => `${k}=${v}`).join(','),
      METALLB_ML_SECRET_KEY: launch.secretKey,
    },
    logFile: launch.logFile,
  });
}

/** The speaker's Prometheus text from inside its namespace (empty string when it does not answer). */
export async function speakerMetrics(node: LabNode): Promise<string> {
  const result = await run('ip', ['netns', 'exec', node.netns, 'curl', '-s', '--max-time', '2', `http://${node.ipv4}:${SPEAKER_PORT}/metrics`]);
  return result.code === 0 ? result.stdout : '';
}

/** Waits until the speaker serves /metrics (as the DaemonSet's readiness probe would); throws if it exits. */
export async function waitSpeakerReady(pid: number, node: LabNode, timeoutMs = 20_000): Promise<void> {
  await waitFor(`the speaker on ${node.name} to serve /metrics`, timeoutMs, async () => {
    if (!isAlive(pid)) throw new StopWaiting('it exited');
    return (await speakerMetrics(node)) !== '';
  }, 200);
}

/** The memberlist key the controller stores in Secret `memberlist` (what the DaemonSet's secretKeyRef reads). */
export async function memberlistKey(cluster: TestCluster, timeoutMs = 20_000): Promise<string> {
  let key = '';
  await waitFor('the controller to create Secret metallb-system/memberlist', timeoutMs, async () => {
    const out = await cluster.kubectlResult(['get', 'secret', 'memberlist', '-n', 'metallb-system', '-o', 'jsonpath={.data.secretkey}']);
    if (out.code !== 0 || !out.stdout.trim()) return false;
    key = Buffer.from(out.stdout.trim(), 'base64').toString('utf8');
    return true;
  }, 200);
  return key;
}

/** The kube-proxy stand-in for one node (src/lab/kube-proxy-main.ts) in the node's namespace. */
export function startKubeProxy(node: LabNode, kubeconfig: string, logFile: string): number {
  const main = fileURLToPath(new URL('./kube-proxy-main.js', import.meta.url));
  return startDaemon({
    command: 'ip',
    args: ['netns', 'exec', node.netns, process.execPath, main, '--node', node.name, '--kubeconfig', kubeconfig],
    logFile,
  });
}

/**
 * kube-proxy's identity: ServiceAccount kube-system/kube-proxy bound to the built-in ClusterRole
 * system:node-proxier, as kubeadm sets it up. Idempotent.
 */
export async function ensureKubeProxyAccount(cluster: TestCluster): Promise<string> {
  const objects = {
    apiVersion: 'v1', kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'kube-proxy', namespace: 'kube-system' } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding',
        metadata: { name: 'metallb-ts-lab:node-proxier' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-proxier' },
        subjects: [{ kind: 'ServiceAccount', name: 'kube-proxy', namespace: 'kube-system' }],
      },
    ],
  };
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(objects) });
  return cluster.kubeconfigFor('kube-system', 'kube-proxy');
}
