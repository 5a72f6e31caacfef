/**
 * The list+watch sources both components cache (client-node `ListWatch`es, not started: a ResilientInformer
 * starts and restarts them). One factory per resource so the controller and the speaker watch exactly the same
 * way: Services in all namespaces, the config ConfigMap by name, EndpointSlices (discovery.k8s.io/v1) or v1
 * Endpoints in all namespaces, all Nodes, and the speaker Pods by label in one namespace.
 * Shared by controller and speaker.
 */
import type { ConfigMapObject, EndpointSliceObject, EndpointsObject, NodeObject, PodObject, ServiceObject } from '../../core/k8s/objects.js';
import { describeApiError, httpStatusOf, type KubeClients } from './client.js';
import type { ListWatchLike } from './informer.js';

/** Services in every namespace (`GET /api/v1/services`, list+watch). */
export function servicesListWatch(clients: KubeClients): ListWatchLike<ServiceObject> {
  const { k8s, kc, core } = clients;
  const lw = new k8s.ListWatch('/api/v1/services', new k8s.Watch(kc), () => core.listServiceForAllNamespaces(), false);
  return lw as ListWatchLike<ServiceObject>;
}

/** The one ConfigMap `name` in `namespace` (list+watch with a metadata.name field selector). */
export function configMapListWatch(clients: KubeClients, namespace: string, name: string): ListWatchLike<ConfigMapObject> {
  const { k8s, kc, core } = clients;
  const fieldSelector = `metadata.name=${name}`;
  const lw = new k8s.ListWatch(`/api/v1/namespaces/${namespace}/configmaps`, new k8s.Watch(kc),
    () => core.listNamespacedConfigMap({ namespace, fieldSelector }), false, undefined, fieldSelector);
  return lw as ListWatchLike<ConfigMapObject>;
}

/** discovery.k8s.io/v1 EndpointSlices in every namespace. */
export function endpointSlicesListWatch(clients: KubeClients): ListWatchLike<EndpointSliceObject> {
  const { k8s, kc } = clients;
  const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
  const lw = new k8s.ListWatch('/apis/discovery.k8s.io/v1/endpointslices', new k8s.Watch(kc),
    () => discovery.listEndpointSliceForAllNamespaces(), false);
  return lw as ListWatchLike<EndpointSliceObject>;
}

/** v1 Endpoints in every namespace (`--disable-epslices`). */
export function endpointsListWatch(clients: KubeClients): ListWatchLike<EndpointsObject> {
  const { k8s, kc, core } = clients;
  const lw = new k8s.ListWatch('/api/v1/endpoints', new k8s.Watch(kc), () => core.listEndpointsForAllNamespaces(), false);
  return lw as ListWatchLike<EndpointsObject>;
}

/** Every Node (cluster-scoped). */
export function nodesListWatch(clients: KubeClients): ListWatchLike<NodeObject> {
  const { k8s, kc, core } = clients;
  const lw = new k8s.ListWatch('/api/v1/nodes', new k8s.Watch(kc), () => core.listNode(), false);
  return lw as ListWatchLike<NodeObject>;
}

/** Pods in `namespace` matching `labelSelector` (Kubernetes selector syntax, e.g. `app=metallb,component=speaker`). */
export function podsListWatch(clients: KubeClients, namespace: string, labelSelector: string): ListWatchLike<PodObject> {
  const { k8s, kc, core } = clients;
  const selector = labelSelector === '' ? undefined : labelSelector;
  const lw = new k8s.ListWatch(`/api/v1/namespaces/${namespace}/pods`, new k8s.Watch(kc),
    () => core.listNamespacedPod({ namespace, ...(selector ? { labelSelector: selector } : {}) }), false, selector);
  return lw as ListWatchLike<PodObject>;
}

export type ServedResult = { readonly ok: true; readonly served: boolean } | { readonly ok: false; readonly error: string };

/**
 * Whether the apiserver serves discovery.k8s.io/v1 EndpointSlices: its API discovery document for that group
 * version lists `endpointslices` (404 = not served). A transport or other HTTP failure is an error, not a "no".
 */
export async function servesEndpointSlices(clients: KubeClients): Promise<ServedResult> {
  const { k8s, kc } = clients;
  try {
    const list = await kc.makeApiClient(k8s.DiscoveryV1Api).getAPIResources();
    return { ok: true, served: (list.resources ?? []).some((r) => r.name === 'endpointslices') };
  } catch (err) {
    if (httpStatusOf(err) === 404) return { ok: true, served: false };
    return { ok: false, error: describeApiError(err) };
  }
}
