/**
 * The legacy ConfigMap payload as the converter reads it: kebab-case keys exactly as written, every key
 * optional, no defaults applied. The converter needs "as written" facts the validated domain `Config`
 * no longer has (was `auto-assign` set? was `keepalive-time` set? which community alias was used?), so
 * it works on this raw shape, after `parseConfig` has accepted the same text.
 */

export interface LegacySelectorRequirement {
  readonly key?: string;
  readonly operator?: string;
  readonly values?: readonly string[];
}

export interface LegacyNodeSelector {
  readonly 'match-labels'?: Readonly<Record<string, string>>;
  readonly 'match-expressions'?: readonly LegacySelectorRequirement[];
}

export interface LegacyPeer {
  readonly 'my-asn'?: number;
  readonly 'peer-asn'?: number;
  readonly 'peer-address'?: string;
  readonly 'source-address'?: string;
  readonly 'peer-port'?: number;
  readonly 'hold-time'?: string;
  readonly 'keepalive-time'?: string;
  readonly 'router-id'?: string;
  readonly 'node-selectors'?: readonly LegacyNodeSelector[];
  readonly password?: string;
  readonly 'bfd-profile'?: string;
  readonly 'ebgp-multihop'?: boolean;
}

export interface LegacyBgpAdvertisement {
  readonly 'aggregation-length'?: number;
  readonly 'aggregation-length-v6'?: number;
  readonly localpref?: number;
  readonly communities?: readonly string[];
}

export interface LegacyPool {
  readonly name?: string;
  readonly protocol?: string;
  readonly addresses?: readonly string[];
  readonly 'avoid-buggy-ips'?: boolean;
  readonly 'auto-assign'?: boolean;
  /** A `null` item (a bare `-`) means an advertisement with all defaults. */
  readonly 'bgp-advertisements'?: readonly (LegacyBgpAdvertisement | null)[];
}

export interface LegacyBfdProfile {
  readonly name?: string;
  readonly 'receive-interval'?: number;
  readonly 'transmit-interval'?: number;
  readonly 'detect-multiplier'?: number;
  readonly 'echo-interval'?: number;
  readonly 'echo-mode'?: boolean;
  readonly 'passive-mode'?: boolean;
  readonly 'minimum-ttl'?: number;
}

export interface LegacyConfig {
  readonly peers?: readonly LegacyPeer[];
  /** Alias → `"hi:lo"`, in the order written. */
  readonly 'bgp-communities'?: Readonly<Record<string, string>>;
  readonly 'address-pools'?: readonly LegacyPool[];
  readonly 'bfd-profiles'?: readonly LegacyBfdProfile[];
}
