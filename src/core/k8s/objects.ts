/**
 * The Kubernetes object shapes MetalLB's components read (only the fields they use, each optional and nullable as
 * the informer may hold a typed V1… object or raw JSON), and the Event targets built from them. Shared by the
 * controller, the speaker and the adapters; pure.
 */
import type { EventTarget } from '../ports.js';
import type { ServiceLike } from '../service/view.js';

export interface ObjectMeta {
  readonly namespace?: string | null;
  readonly name?: string | null;
  readonly uid?: string | null;
  readonly resourceVersion?: string | null;
  readonly labels?: Readonly<Record<string, string>> | null;
}

/** Any object an informer caches: only its metadata is known here. */
export interface KubeObject {
  readonly metadata?: ObjectMeta | null;
}

/** A Service as the informer holds it (a V1Service or its raw JSON). */
export type ServiceObject = ServiceLike & KubeObject;

/** The ConfigMap fields read here. */
export interface ConfigMapObject extends KubeObject {
  readonly data?: Readonly<Record<string, string>> | null;
}

/** discovery.k8s.io/v1 EndpointSlice; the Service it belongs to is the label `kubernetes.io/service-name`. */
export type EndpointSliceObject = KubeObject & { readonly endpoints?: readonly unknown[] | null };
/** v1 Endpoints, named as its Service. */
export type EndpointsObject = KubeObject & { readonly subsets?: readonly unknown[] | null };
/** v1 Node (its status.conditions are read by the membership helper). */
export type NodeObject = KubeObject & { readonly status?: unknown };
/** v1 Pod (spec.nodeName and status are read by the membership helper). */
export type PodObject = KubeObject & { readonly spec?: unknown; readonly status?: unknown };

/** The label tying an EndpointSlice to its Service (Kubernetes well-known label). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** `namespace/name` of an object ('' for missing parts). */
export function nsNameOf(obj: KubeObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

/** The Event target of a core/v1 object of `kind` (Service, ConfigMap, Node, Pod…). */
export function objectTarget(kind: string, meta: ObjectMeta | null | undefined): EventTarget {
  return {
    kind, apiVersion: 'v1', namespace: meta?.namespace ?? '', name: meta?.name ?? '',
    uid: meta?.uid ?? undefined, resourceVersion: meta?.resourceVersion ?? undefined,
  };
}

/**
 * A Node as kubelets record Events on it: in namespace "default", involvedObject without namespace and with uid =
 * the node name (what `kubectl describe node` searches for).
 */
export function nodeTarget(name: string): EventTarget {
  return { kind: 'Node', apiVersion: 'v1', namespace: 'default', name, uid: name, clusterScoped: true };
}

export function serviceTarget(svc: ServiceObject): EventTarget {
  return objectTarget('Service', svc.metadata);
}

export function configMapTarget(cm: ConfigMapObject): EventTarget {
  return objectTarget('ConfigMap', cm.metadata);
}
