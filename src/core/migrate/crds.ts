/**
 * The objects `migrate` writes: MetalLB's CRs (v0.13+ API, checked against v0.16.1's CRDs) and, with
 * `--password-secrets`, core/v1 Secrets. Only fields the legacy ConfigMap can fill are typed here.
 */

export const METALLB_V1BETA1 = 'metallb.io/v1beta1';
export const METALLB_V1BETA2 = 'metallb.io/v1beta2';

export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface SecretReference {
  readonly name: string;
  readonly namespace: string;
}

export interface BgpPeerSpec {
  readonly myASN: number;
  readonly peerASN: number;
  readonly peerAddress: string;
  readonly sourceAddress?: string;
  readonly peerPort?: number;
  readonly holdTime: string;
  readonly keepaliveTime?: string;
  readonly routerID?: string;
  readonly nodeSelectors?: readonly LabelSelector[];
  readonly password?: string;
  readonly passwordSecret?: SecretReference;
  readonly bfdProfile?: string;
  readonly ebgpMultiHop?: boolean;
}

export interface IpAddressPoolSpec {
  readonly addresses: readonly string[];
  readonly autoAssign?: boolean;
  readonly avoidBuggyIPs?: boolean;
}

export interface BgpAdvertisementSpec {
  readonly aggregationLength?: number;
  readonly aggregationLengthV6?: number;
  readonly localPref?: number;
  readonly communities?: readonly string[];
  readonly ipAddressPools: readonly string[];
}

export interface L2AdvertisementSpec {
  readonly ipAddressPools: readonly string[];
}

export interface BfdProfileSpec {
  readonly receiveInterval?: number;
  readonly transmitInterval?: number;
  readonly detectMultiplier?: number;
  readonly echoInterval?: number;
  readonly echoMode: boolean;
  readonly passiveMode: boolean;
  readonly minimumTtl?: number;
}

export interface CommunitySpec {
  readonly communities: readonly { readonly name: string; readonly value: string }[];
}

interface Cr<V extends string, K extends string, S> {
  readonly apiVersion: V;
  readonly kind: K;
  readonly metadata: ObjectMeta;
  readonly spec: S;
}

export type BgpPeerCr = Cr<typeof METALLB_V1BETA2, 'BGPPeer', BgpPeerSpec>;
export type IpAddressPoolCr = Cr<typeof METALLB_V1BETA1, 'IPAddressPool', IpAddressPoolSpec>;
export type BgpAdvertisementCr = Cr<typeof METALLB_V1BETA1, 'BGPAdvertisement', BgpAdvertisementSpec>;
export type L2AdvertisementCr = Cr<typeof METALLB_V1BETA1, 'L2Advertisement', L2AdvertisementSpec>;
export type BfdProfileCr = Cr<typeof METALLB_V1BETA1, 'BFDProfile', BfdProfileSpec>;
export type CommunityCr = Cr<typeof METALLB_V1BETA1, 'Community', CommunitySpec>;

/** The Secret MetalLB expects behind `passwordSecret`: type basic-auth, key `password`. */
export interface PasswordSecret {
  readonly apiVersion: 'v1';
  readonly kind: 'Secret';
  readonly metadata: ObjectMeta;
  readonly type: 'kubernetes.io/basic-auth';
  /** base64, as the apiserver stores and returns it. */
  readonly data: { readonly password: string };
}

export type MigratedObject =
  | PasswordSecret
  | BgpPeerCr
  | IpAddressPoolCr
  | BgpAdvertisementCr
  | L2AdvertisementCr
  | BfdProfileCr
  | CommunityCr;
