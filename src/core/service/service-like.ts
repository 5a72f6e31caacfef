/**
 * The structural subset of a Kubernetes `V1Service` the controller reads. Declared here (every
 * field optional, arrays read-only) so core never imports `@kubernetes/client-node`, while a
 * `V1Service` from the client is assignable to it as is. Values may also be `null` in raw JSON.
 */

/** One `status.loadBalancer.ingress` entry as the apiserver returns it. */
export interface IngressLike {
  readonly ip?: string | null;
  readonly hostname?: string | null;
  /** Defaulted to `VIP` by Kubernetes ≥ 1.29; ignored when comparing status. */
  readonly ipMode?: string | null;
}

/** One `spec.ports` entry; only protocol and port matter for IP sharing. */
export interface ServicePortLike {
  readonly protocol?: string | null;
  readonly port?: number | null;
}

/** The Service fields the controller reads. */
export interface ServiceLike {
  readonly metadata?: {
    readonly namespace?: string | null;
    readonly name?: string | null;
    readonly uid?: string | null;
    readonly annotations?: Readonly<Record<string, string>> | null;
  } | null;
  readonly spec?: {
    readonly type?: string | null;
    readonly clusterIP?: string | null;
    readonly clusterIPs?: readonly string[] | null;
    readonly ipFamilies?: readonly string[] | null;
    readonly loadBalancerIP?: string | null;
    readonly loadBalancerClass?: string | null;
    readonly externalTrafficPolicy?: string | null;
    readonly selector?: Readonly<Record<string, string>> | null;
    readonly ports?: readonly ServicePortLike[] | null;
  } | null;
  readonly status?: {
    readonly loadBalancer?: {
      readonly ingress?: readonly IngressLike[] | null;
    } | null;
  } | null;
}
