/**
 * Loads `@kubernetes/client-node` lazily (dynamic import: offline subcommands such as `validate` and `migrate`
 * never load it) and builds the API clients from `--kubeconfig` or, without it, the in-cluster ServiceAccount
 * (falling back to the default kubeconfig locations outside a cluster, as client-go's BuildConfigFromFlags does).
 * Shared by controller and speaker.
 */
import { delimiter, join } from 'node:path';
import type * as K8s from '@kubernetes/client-node';

/** The loaded module plus clients on one KubeConfig. */
export interface KubeClients {
  readonly k8s: typeof K8s;
  readonly kc: K8s.KubeConfig;
  readonly core: K8s.CoreV1Api;
  readonly apps: K8s.AppsV1Api;
}

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** How every subcommand's help states where the configuration comes from without --kubeconfig (loadKubeClients' order). */
export const KUBECONFIG_DEFAULT = 'default: the in-cluster config in a Pod, else $KUBECONFIG, else ~/.kube/config';

/** What to say when no configuration exists at all (no flag, no KUBECONFIG, no ~/.kube/config, not in a Pod). */
export const NO_KUBECONFIG = 'no kubeconfig: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config';

/** Thrown by loadKubeClients when there is no configuration to load (message NO_KUBECONFIG). */
export class NoKubeconfigError extends Error {
  constructor() {
    super(NO_KUBECONFIG);
    this.name = 'NoKubeconfigError';
  }
}

/**
 * Where loadKubeClients takes its configuration without `--kubeconfig`: the Pod's ServiceAccount (in-cluster),
 * the KUBECONFIG files, `$HOME/.kube/config`, the ServiceAccount token alone (client-node's last resort), or
 * nothing. For nothing, client-node would fall back to http://localhost:8080 and fail every request with
 * "HTTP protocol is not allowed when skipTLSVerify is not set or false", which names no cause.
 */
export function defaultConfigSource(env: NodeJS.ProcessEnv, exists: (path: string) => boolean): 'in-cluster' | 'default' | 'none' {
  if (env['KUBERNETES_SERVICE_HOST'] && exists(IN_CLUSTER_TOKEN)) return 'in-cluster';
  if ((env['KUBECONFIG'] ?? '').split(delimiter).some((f) => f !== '')) return 'default';
  if (env['HOME'] && exists(join(env['HOME'], '.kube', 'config'))) return 'default';
  if (exists(IN_CLUSTER_TOKEN)) return 'default';
  return 'none';
}

/** Builds clients; throws (a start-up failure) when no configuration can be loaded (NoKubeconfigError: none exists). */
export async function loadKubeClients(kubeconfigPath: string | undefined): Promise<KubeClients> {
  const { existsSync } = await import('node:fs');
  const source = kubeconfigPath ? 'flag' : defaultConfigSource(process.env, existsSync);
  if (source === 'none') throw new NoKubeconfigError();
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else if (source === 'in-cluster') kc.loadFromCluster();
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
