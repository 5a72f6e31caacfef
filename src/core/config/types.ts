/**
 * The validated, typed domain configuration shared by controller, speaker and migration tool.
 * Nothing downstream of `parseConfig` sees YAML: addresses are IpAddr/Cidr, durations are
 * milliseconds, selectors are compiled. Produced only by `parse.ts`.
 */
import type { Cidr, IpAddr } from '../ip/index.js';

/** The announcement protocol of a pool. */
export type Protocol = 'layer2' | 'bgp';

/** One `bgp-advertisements` entry, defaults applied. */
export interface BgpAdvertisement {
  /** IPv4 aggregation length (default 32). */
  readonly aggregationLength: number;
  /** IPv6 aggregation length (v0.12, default 128). */
  readonly aggregationLengthV6: number;
  /** LOCAL_PREF (default 0 = not sent on eBGP). */
  readonly localPref: number;
  /** Community values (hi << 16 | lo), a set, ascending. */
  readonly communities: readonly number[];
}

/** One address pool. */
export interface Pool {
  readonly name: string;
  readonly protocol: Protocol;
  /** Expanded prefixes in config order; this is the allocation order. */
  readonly cidrs: readonly Cidr[];
  /** The address entries as written (CIDR or `a-b` range), for messages and migration. */
  readonly addresses: readonly string[];
  readonly avoidBuggyIps: boolean;
  /** Default true. */
  readonly autoAssign: boolean;
  /** BGP pools: at least one (the default ad when none is configured). Layer-2 pools: empty. */
  readonly bgpAdvertisements: readonly BgpAdvertisement[];
}

/**
 * A label-selector requirement (Kubernetes `labels.Requirement` semantics). `Equals` comes from a
 * `match-labels` entry (printed `key=value`), the others from `match-expressions`.
 */
export interface SelectorRequirement {
  readonly key: string;
  readonly operator: 'Equals' | 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  /** Sorted, de-duplicated. */
  readonly values: readonly string[];
}

/** A compiled node selector: all requirements AND-ed; empty = matches everything. */
export interface NodeSelector {
  /** Sorted by key (then operator), as Kubernetes' `labels.Selector.String()` orders them. */
  readonly requirements: readonly SelectorRequirement[];
  /** Kubernetes' `Selector.String()` form, `""` for everything. */
  readonly text: string;
  /** True when the selector matches the given labels. */
  matches(labels: Readonly<Record<string, string>>): boolean;
}

/** One BGP peer. */
export interface Peer {
  readonly myAsn: number;
  readonly peerAsn: number;
  readonly peerAddress: IpAddr;
  readonly sourceAddress: IpAddr | undefined;
  /** Default 179. */
  readonly peerPort: number;
  /** Hold time in ms, whole seconds (0 = no keepalives). Default 90 000. */
  readonly holdTimeMs: number;
  /**
   * Keepalive in ms (v0.12). Explicit values are truncated to whole seconds; the default is
   * hold/3 in integer nanoseconds as in MetalLB (hold 100 s → 33 333.333333 ms), so it may be
   * fractional.
   */
  readonly keepaliveTimeMs: number;
  /** Router ID; undefined = derived at runtime from the node. */
  readonly routerId: IpAddr | undefined;
  /** OR-ed; a peer applies to a node when any selector matches. Default: one that matches all. */
  readonly nodeSelectors: readonly NodeSelector[];
  /** TCP MD5 key, "" = none. */
  readonly password: string;
  /** v0.12: name of a BFD profile, "" = none. */
  readonly bfdProfile: string;
  /** v0.12. */
  readonly ebgpMultihop: boolean;
}

/** v0.12 BFD profile; undefined fields take the BFD implementation's defaults. */
export interface BfdProfile {
  readonly name: string;
  readonly receiveIntervalMs: number | undefined;
  readonly transmitIntervalMs: number | undefined;
  readonly detectMultiplier: number | undefined;
  readonly echoIntervalMs: number | undefined;
  readonly echoMode: boolean;
  readonly passiveMode: boolean;
  readonly minimumTtl: number | undefined;
}

/** The whole validated configuration. */
export interface Config {
  /** Pools in config order (our allocator tries them in this order). */
  readonly pools: readonly Pool[];
  readonly peers: readonly Peer[];
  readonly bfdProfiles: readonly BfdProfile[];
  /** `bgp-communities` aliases, name → value. */
  readonly communityAliases: ReadonlyMap<string, number>;
}

/** An empty, valid configuration (what a ConfigMap without `data.config` means). */
export const EMPTY_CONFIG: Config = {
  pools: [],
  peers: [],
  bfdProfiles: [],
  communityAliases: new Map(),
};

/** Where in the YAML an error points (1-based). */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/**
 * One configuration error. `kind` is stable (tests and tools branch on it); `message` follows
 * MetalLB's text where MetalLB has one; `value` is the offending value (CIDR, ASN, name…).
 */
export interface ConfigError {
  readonly kind: string;
  readonly message: string;
  readonly value?: string;
  /** JSON-pointer-like path into the config, e.g. `/address-pools/1/addresses/0`. */
  readonly path: string;
  readonly position?: SourcePosition;
}

/** Result of parseConfig. */
export type ConfigResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly errors: readonly ConfigError[] };
