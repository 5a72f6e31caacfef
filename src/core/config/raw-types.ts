/**
 * The decoded ConfigMap payload before MetalLB's semantic checks: the YAML's own kebab-case keys,
 * values already converted to the Go field types (uint32 → number, bool, string). An absent key
 * means the Go zero value / default. Used by parse.ts and by the migration tool.
 */

export interface RawSelectorRequirement {
  readonly key?: string;
  readonly operator?: string;
  readonly values?: readonly string[];
}

export interface RawNodeSelector {
  readonly 'match-labels'?: Readonly<Record<string, string>>;
  readonly 'match-expressions'?: readonly RawSelectorRequirement[];
}

export interface RawPeer {
  readonly 'my-asn'?: number;
  readonly 'peer-asn'?: number;
  readonly 'peer-address'?: string;
  readonly 'source-address'?: string;
  readonly 'peer-port'?: number;
  readonly 'hold-time'?: string;
  readonly 'keepalive-time'?: string;
  readonly 'router-id'?: string;
  readonly 'node-selectors'?: readonly RawNodeSelector[];
  readonly password?: string;
  readonly 'bfd-profile'?: string;
  readonly 'ebgp-multihop'?: boolean;
}

export interface RawBgpAdvertisement {
  readonly 'aggregation-length'?: number;
  readonly 'aggregation-length-v6'?: number;
  readonly localpref?: number;
  readonly communities?: readonly string[];
}

export interface RawAddressPool {
  readonly name?: string;
  readonly protocol?: string;
  readonly addresses?: readonly string[];
  readonly 'avoid-buggy-ips'?: boolean;
  readonly 'auto-assign'?: boolean;
  readonly 'bgp-advertisements'?: readonly RawBgpAdvertisement[];
}

export interface RawBfdProfile {
  readonly name?: string;
  readonly 'receive-interval'?: number;
  readonly 'transmit-interval'?: number;
  readonly 'detect-multiplier'?: number;
  readonly 'echo-interval'?: number;
  readonly 'echo-mode'?: boolean;
  readonly 'passive-mode'?: boolean;
  readonly 'minimum-ttl'?: number;
}

/** The whole payload. Map-valued keys (`bgp-communities`, `match-labels`) are null-prototype objects. */
export interface RawConfig {
  readonly peers?: readonly RawPeer[];
  readonly 'bgp-communities'?: Readonly<Record<string, string>>;
  readonly 'address-pools'?: readonly RawAddressPool[];
  readonly 'bfd-profiles'?: readonly RawBfdProfile[];
}
