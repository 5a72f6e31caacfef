/**
 * The cluster side of `migrate --from-cluster`: read the live ConfigMap, and find the Services whose
 * `metallb.universe.tf/address-pool` annotation names a pool the migration renames (upstream's
 * converter leaves them pointing at a pool that no longer exists). The Kubernetes client is loaded
 * lazily by loadKubeClients, so file mode never imports it.
 */
import { describeApiError, httpStatusOf, loadKubeClients, NoKubeconfigError, type KubeClients } from '../adapters/k8s/client.js';
import type { Rename } from '../core/migrate/issues.js';

export const ADDRESS_POOL_ANNOTATION = 'metallb.universe.tf/address-pool';

export interface LiveConfigMap {
  /** `data.config`; undefined when the ConfigMap has none. */
  readonly config: string | undefined;
}

export interface AffectedService {
  readonly namespace: string;
  readonly name: string;
  readonly pool: string;
  readonly newPool: string;
}

/** `noKubeconfig`: there was no configuration to load at all (status and validate --cluster exit 2, a usage error). */
export type ClusterResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string; readonly noKubeconfig?: true };

/** Connects with `--kubeconfig` (or in-cluster / default config); NO_KUBECONFIG when there is none. */
export async function connect(kubeconfig: string | undefined): Promise<ClusterResult<KubeClients>> {
  try {
    return { ok: true, value: await loadKubeClients(kubeconfig) };
  } catch (err) {
    if (err instanceof NoKubeconfigError) return { ok: false, error: err.message, noKubeconfig: true };
    return { ok: false, error: `cannot load Kubernetes configuration: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Reads the ConfigMap MetalLB would read. */
export async function readConfigMap(clients: KubeClients, namespace: string, name: string): Promise<ClusterResult<LiveConfigMap>> {
  try {
    const cm = await clients.core.readNamespacedConfigMap({ name, namespace });
    return { ok: true, value: { config: cm.data?.['config'] } };
  } catch (err) {
    if (httpStatusOf(err) === 404) return { ok: false, error: `ConfigMap ${namespace}/${name} not found (use --namespace/--name)` };
    return { ok: false, error: `reading ConfigMap ${namespace}/${name}: ${describeApiError(err)}` };
  }
}

/** Services, in every namespace, annotated with a renamed pool; sorted by namespace then name. */
export async function servicesUsingRenamedPools(
  clients: KubeClients,
  renames: readonly Rename[],
): Promise<ClusterResult<AffectedService[]>> {
  const newName = new Map(renames.filter((r) => r.kind === 'pool').map((r) => [r.from, r.to]));
  if (newName.size === 0) return { ok: true, value: [] };
  try {
    const list = await clients.core.listServiceForAllNamespaces();
    const affected = list.items.flatMap((svc): AffectedService[] => {
      const pool = svc.metadata?.annotations?.[ADDRESS_POOL_ANNOTATION];
      const newPool = pool === undefined ? undefined : newName.get(pool);
      if (pool === undefined || newPool === undefined) return [];
      return [{ namespace: svc.metadata?.namespace ?? '', name: svc.metadata?.name ?? '', pool, newPool }];
    });
    affected.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    return { ok: true, value: affected };
  } catch (err) {
    return { ok: false, error: `listing Services: ${describeApiError(err)}` };
  }
}

/** The command that points a Service at the renamed pool. */
export function annotateCommand(service: AffectedService): string {
  return `kubectl annotate service --namespace ${service.namespace} ${service.name} ${ADDRESS_POOL_ANNOTATION}=${service.newPool} --overwrite`;
}
