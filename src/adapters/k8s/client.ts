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
  return { k8s, kc, core: kc.makeApiClient(k8s.CoreV1Api), apps: kc.makeApiClient(k8s.AppsV1Api) };
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
