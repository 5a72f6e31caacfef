/**
 * Loads `@kubernetes/client-node` lazily (dynamic import: offline subcommands such as `validate` and `migrate`
 * never load it) and builds the API clients from `--kubeconfig` or, without it, the in-cluster ServiceAccount
 * (falling back to the default kubeconfig locations outside a cluster, as client-go's BuildConfigFromFlags does).
 * Shared by controller and speaker.
 */
import type * as K8s from '@kubernetes/client-node';

/** The loaded module plus clients on one KubeConfig. */
export interface KubeClients {
  readonly k8s: typeof K8s;
  readonly kc: K8s.KubeConfig;
  readonly core: K8s.CoreV1Api;
  readonly apps: K8s.AppsV1Api;
}

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Builds clients; throws (a start-up failure) when no configuration can be loaded. */
export async function loadKubeClients(kubeconfigPath: string | undefined): Promise<KubeClients> {
  const k8s = await import('@kubernetes/client-node');
  const { existsSync } = await import('node:fs');
  const kc = new k8s.KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else if (process.env['KUBERNETES_SERVICE_HOST'] && existsSync(IN_CLUSTER_TOKEN)) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error('no Kubernetes cluster configured (use --kubeconfig or run in a pod)');
  await reuseConnections(kc);
  return { k8s, kc, core: kc.makeApiClient(k8s.CoreV1Api), apps: kc.makeApiClient(k8s.AppsV1Api) };
}

/** Per-agent socket cap: watches hold one each, the reconcile workers and event senders one per request. */
const MAX_SOCKETS = 64;

/**
 * client-node 1.4 builds a new https.Agent (without keep-alive) for every request, so every status write and Event
 * costs a full TLS handshake on both ends: measured, that was most of the controller's CPU and it slowed the
 * apiserver for everyone (bench/controller.ts). This keeps one keep-alive agent per distinct TLS identity
 * (CA, client certificate and key; a rotated certificate gets a new agent) and leaves proxies to the library.
 */
async function reuseConnections(kc: K8s.KubeConfig): Promise<void> {
  const { Agent } = await import('node:https');
  type AgentFactory = (cluster: { server?: string; proxyUrl?: string } | null, options: Record<string, unknown>) => unknown;
  const target = kc as unknown as { createAgent: AgentFactory };
  const original = target.createAgent.bind(kc);
  const agents = new Map<string, InstanceType<typeof Agent>>();
  target.createAgent = (cluster, options) => {
    if (cluster?.proxyUrl || !cluster?.server?.startsWith('https:')) return original(cluster, options);
    const identity = ['ca', 'cert', 'key', 'pfx', 'rejectUnauthorized', 'servername'].map((k) => String(options[k] ?? '')).join('\0');
    let agent = agents.get(identity);
    if (!agent) {
      agent = new Agent({ ...options, keepAlive: true, maxSockets: MAX_SOCKETS });
      agents.set(identity, agent);
    }
    return agent;
  };
}

/** HTTP status of a client-node error (ApiException.code, or statusCode on watch errors); undefined if none. */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const record = err as { code?: unknown; statusCode?: unknown };
  if (typeof record.code === 'number') return record.code;
  if (typeof record.statusCode === 'number') return record.statusCode;
  return undefined;
}

/** A short, log-friendly description of a client-node error (status code plus the apiserver's message). */
export function describeApiError(err: unknown): string {
  const status = httpStatusOf(err);
  const body = (err as { body?: unknown } | null)?.body;
  let message = err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err);
  if (typeof body === 'string') {
    try { message = (JSON.parse(body) as { message?: string }).message ?? message; } catch { /* keep the error text */ }
  }
  return status === undefined ? message : `${status}: ${message}`;
}
