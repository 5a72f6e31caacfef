/**
 * Legacy ConfigMap payload → MetalLB CRs, object for object what MetalLB's `configmaptocrs` produces
 * (spec §10: names, order, defaults, name conversion), minus Go's serialisation noise, plus the issues
 * upstream keeps quiet about. Run it only on a payload `parseConfig` accepted (unknown protocols aside):
 * it does not re-validate what validation already checks.
 */
import type { LegacyBfdProfile, LegacyConfig, LegacyNodeSelector, LegacyPeer, LegacyPool } from './legacy.js';
import type {
  BfdProfileCr,
  BgpAdvertisementCr,
  BgpAdvertisementSpec,
  BgpPeerCr,
  CommunityCr,
  IpAddressPoolCr,
  L2AdvertisementCr,
  LabelSelector,
  MigratedObject,
  PasswordSecret,
} from './crds.js';
import { METALLB_V1BETA1, METALLB_V1BETA2 } from './crds.js';
import type { MigrationError, MigrationWarning, Rename } from './issues.js';
import { formatGoSeconds, parseGoDuration, wholeSeconds } from '../go/duration.js';
import { planNames, type RenamePlan } from './rename-plan.js';
import { encodeBase64 } from './base64.js';

export interface MigrateOptions {
  /** Namespace of every object: the ConfigMap's (upstream default `metallb-system`). */
  readonly namespace: string;
  /** Put peer passwords in basic-auth Secrets referenced by `passwordSecret` instead of plain text. */
  readonly passwordSecrets: boolean;
}

export type Conversion =
  | {
      readonly ok: true;
      /** Secrets, BGPPeers, IPAddressPools, BGPAdvertisements, L2Advertisements, BFDProfiles, Community. */
      readonly objects: readonly MigratedObject[];
      readonly warnings: readonly MigrationWarning[];
      readonly renames: readonly Rename[];
    }
  | { readonly ok: false; readonly errors: readonly MigrationError[]; readonly warnings: readonly MigrationWarning[] };

/** The CRD's `peerPort` maximum (v0.13+); legacy peers could use any port. */
export const CRD_MAX_PEER_PORT = 16384;
const DEFAULT_HOLD_TIME_SECONDS = 90;

/** Converts a legacy config into MetalLB CRs, in MetalLB's order. */
export function convertToCrds(legacy: LegacyConfig, options: MigrateOptions): Conversion {
  const plan = planNames(legacy);
  const errors = [...plan.errors, ...crdRangeErrors(legacy)];
  const warnings = [...plan.warnings];
  if (errors.length > 0) return { ok: false, errors, warnings };
  const peers = legacy.peers ?? [];
  const pools = legacy['address-pools'] ?? [];
  const secrets = options.passwordSecrets ? passwordSecrets(peers, options.namespace) : [];
  if (!options.passwordSecrets) warnings.push(...plainPasswordWarnings(peers));
  warnings.push(...unknownProtocolWarnings(pools));
  const objects: MigratedObject[] = [
    ...secrets,
    ...peers.map((p, i) => bgpPeer(p, i, plan, options)),
    ...pools.map((p) => ipAddressPool(p, plan, options.namespace)),
    ...bgpAdvertisements(pools, plan, options.namespace),
    ...l2Advertisements(pools, plan, options.namespace),
    ...(legacy['bfd-profiles'] ?? []).map((b) => bfdProfile(b, plan, options.namespace)),
    ...community(legacy['bgp-communities'], options.namespace),
  ];
  return { ok: true, objects, warnings, renames: plan.renames };
}

/** Name of the BGPPeer made from `peers[index]`: upstream's `peer<i+1>`. */
export function peerName(index: number): string {
  return `peer${index + 1}`;
}

/** Name of the Secret holding that peer's password (with `--password-secrets`). */
export function peerSecretName(index: number): string {
  return `${peerName(index)}-password`;
}

function bgpPeer(peer: LegacyPeer, index: number, plan: RenamePlan, options: MigrateOptions): BgpPeerCr {
  const password = peer.password ?? '';
  const bfd = peer['bfd-profile'] ?? '';
  const selectors = (peer['node-selectors'] ?? []).map(labelSelector);
  const secretRef = options.passwordSecrets && password !== '';
  return {
    apiVersion: METALLB_V1BETA2,
    kind: 'BGPPeer',
    metadata: { name: peerName(index), namespace: options.namespace },
    spec: {
      myASN: peer['my-asn'] ?? 0,
      peerASN: peer['peer-asn'] ?? 0,
      peerAddress: peer['peer-address'] ?? '',
      ...nonEmpty('sourceAddress', peer['source-address']),
      ...(peer['peer-port'] ? { peerPort: peer['peer-port'] } : {}),
      holdTime: formatGoSeconds(durationSeconds(peer['hold-time']) ?? DEFAULT_HOLD_TIME_SECONDS),
      ...(peer['keepalive-time'] ? { keepaliveTime: formatGoSeconds(durationSeconds(peer['keepalive-time']) ?? 0) } : {}),
      ...nonEmpty('routerID', peer['router-id']),
      ...(selectors.length > 0 ? { nodeSelectors: selectors } : {}),
      ...(password !== '' && !secretRef ? { password } : {}),
      ...(secretRef ? { passwordSecret: { name: peerSecretName(index), namespace: options.namespace } } : {}),
      ...(bfd !== '' ? { bfdProfile: plan.bfdProfiles.get(bfd) ?? bfd } : {}),
      ...(peer['ebgp-multihop'] ? { ebgpMultiHop: true } : {}),
    },
  };
}

/** Whole seconds of a Go duration string; undefined when absent or empty (upstream: the default). */
function durationSeconds(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const parsed = parseGoDuration(text);
  return parsed.ok ? wholeSeconds(parsed.value) : undefined;
}

function nonEmpty<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return value ? ({ [key]: value } as { [P in K]?: string }) : {};
}

function labelSelector(selector: LegacyNodeSelector): LabelSelector {
  const labels = selector['match-labels'] ?? {};
  const expressions = (selector['match-expressions'] ?? []).map((e) => ({
    key: e.key ?? '',
    operator: e.operator ?? '',
    ...((e.values ?? []).length > 0 ? { values: [...(e.values ?? [])] } : {}),
  }));
  return {
    ...(Object.keys(labels).length > 0 ? { matchLabels: { ...labels } } : {}),
    ...(expressions.length > 0 ? { matchExpressions: expressions } : {}),
  };
}

function passwordSecrets(peers: readonly LegacyPeer[], namespace: string): PasswordSecret[] {
  return peers.flatMap((peer, index) =>
    peer.password
      ? [
          {
            apiVersion: 'v1' as const,
            kind: 'Secret' as const,
            metadata: { name: peerSecretName(index), namespace },
            type: 'kubernetes.io/basic-auth' as const,
            data: { password: encodeBase64(peer.password) },
          },
        ]
      : [],
  );
}

function ipAddressPool(pool: LegacyPool, plan: RenamePlan, namespace: string): IpAddressPoolCr {
  return {
    apiVersion: METALLB_V1BETA1,
    kind: 'IPAddressPool',
    metadata: { name: poolName(pool, plan), namespace },
    spec: {
      addresses: [...(pool.addresses ?? [])],
      ...(pool['auto-assign'] !== undefined ? { autoAssign: pool['auto-assign'] } : {}),
      ...(pool['avoid-buggy-ips'] ? { avoidBuggyIPs: true } : {}),
    },
  };
}

function poolName(pool: LegacyPool, plan: RenamePlan): string {
  const name = pool.name ?? '';
  return plan.pools.get(name) ?? name;
}

/**
 * One BGPAdvertisement per legacy advertisement, whatever the pool's protocol (as upstream), plus one
 * empty one for a `bgp` pool without advertisements; numbered `bgpadvertisement<n>` across all pools.
 */
function bgpAdvertisements(pools: readonly LegacyPool[], plan: RenamePlan, namespace: string): BgpAdvertisementCr[] {
  const specs: BgpAdvertisementSpec[] = pools.flatMap((pool) => {
    const ipAddressPools = [poolName(pool, plan)];
    const ads = pool['bgp-advertisements'] ?? [];
    if (ads.length === 0) return pool.protocol === 'bgp' ? [{ ipAddressPools }] : [];
    return ads.map((ad) => ({
      ...(ad['aggregation-length'] !== undefined ? { aggregationLength: ad['aggregation-length'] } : {}),
      ...(ad['aggregation-length-v6'] !== undefined ? { aggregationLengthV6: ad['aggregation-length-v6'] } : {}),
      ...(ad.localpref ? { localPref: ad.localpref } : {}),
      ...((ad.communities ?? []).length > 0 ? { communities: [...(ad.communities ?? [])] } : {}),
      ipAddressPools,
    }));
  });
  return specs.map((spec, i) => ({
    apiVersion: METALLB_V1BETA1,
    kind: 'BGPAdvertisement',
    metadata: { name: `bgpadvertisement${i + 1}`, namespace },
    spec,
  }));
}

function l2Advertisements(pools: readonly LegacyPool[], plan: RenamePlan, namespace: string): L2AdvertisementCr[] {
  return pools
    .filter((pool) => pool.protocol === 'layer2')
    .map((pool, i) => ({
      apiVersion: METALLB_V1BETA1,
      kind: 'L2Advertisement',
      metadata: { name: `l2advertisement${i + 1}`, namespace },
      spec: { ipAddressPools: [poolName(pool, plan)] },
    }));
}

function bfdProfile(profile: LegacyBfdProfile, plan: RenamePlan, namespace: string): BfdProfileCr {
  const name = profile.name ?? '';
  const optional = (key: string, value: number | undefined) => (value !== undefined ? { [key]: value } : {});
  return {
    apiVersion: METALLB_V1BETA1,
    kind: 'BFDProfile',
    metadata: { name: plan.bfdProfiles.get(name) ?? name, namespace },
    spec: {
      ...optional('receiveInterval', profile['receive-interval']),
      ...optional('transmitInterval', profile['transmit-interval']),
      ...optional('detectMultiplier', profile['detect-multiplier']),
      ...optional('echoInterval', profile['echo-interval']),
      echoMode: profile['echo-mode'] ?? false,
      passiveMode: profile['passive-mode'] ?? false,
      ...optional('minimumTtl', profile['minimum-ttl']),
    },
  };
}

/** All aliases in ONE Community named `communities`, sorted by alias name (upstream). */
function community(aliases: Readonly<Record<string, string>> | undefined, namespace: string): CommunityCr[] {
  const names = Object.keys(aliases ?? {}).sort(compareBytes);
  if (names.length === 0) return [];
  return [
    {
      apiVersion: METALLB_V1BETA1,
      kind: 'Community',
      metadata: { name: 'communities', namespace },
      spec: { communities: names.map((name) => ({ name, value: aliases?.[name] ?? '' })) },
    },
  ];
}

/** Go's string order (bytewise); for ASCII identical to UTF-16 code-unit order. */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function plainPasswordWarnings(peers: readonly LegacyPeer[]): MigrationWarning[] {
  return peers.flatMap((peer, i) =>
    peer.password
      ? [
          {
            code: 'plain-password' as const,
            message: `peer #${i + 1} (${peer['peer-address'] ?? ''}): BGPPeer ${peerName(i)} carries its password in plain text`,
            path: `/peers/${i}/password`,
            hint: 'use --password-secrets to put it in a kubernetes.io/basic-auth Secret referenced by passwordSecret',
          },
        ]
      : [],
  );
}

function unknownProtocolWarnings(pools: readonly LegacyPool[]): MigrationWarning[] {
  return pools.flatMap((pool, i) => {
    if (pool.protocol === 'layer2' || pool.protocol === 'bgp') return [];
    const ads = pool['bgp-advertisements'] ?? [];
    const what = ads.length > 0
      ? `only its ${ads.length} bgp-advertisements become BGPAdvertisements; no L2Advertisement`
      : 'IPAddressPool created but nothing advertises it: services get IPs no node announces';
    return [
      {
        code: 'unknown-protocol' as const,
        message: `pool "${pool.name ?? ''}" has unknown protocol "${pool.protocol ?? ''}": ${what}`,
        path: `/address-pools/${i}/protocol`,
        hint: 'use protocol: layer2 or bgp in the ConfigMap, or add an L2Advertisement/BGPAdvertisement for the pool',
      },
    ];
  });
}

/** Values valid in a legacy ConfigMap that the v0.13+ CRDs reject: report instead of emitting. */
function crdRangeErrors(legacy: LegacyConfig): MigrationError[] {
  const ports = (legacy.peers ?? []).flatMap((peer, i) =>
    (peer['peer-port'] ?? 0) > CRD_MAX_PEER_PORT
      ? [
          {
            code: 'crd-range' as const,
            message: `peer #${i + 1}: peer-port ${peer['peer-port']} is above ${CRD_MAX_PEER_PORT}, the BGPPeer CRD's maximum`,
            path: `/peers/${i}/peer-port`,
            hint: `MetalLB >= 0.13 cannot dial this port; move the router's BGP listener to a port <= ${CRD_MAX_PEER_PORT}`,
          },
        ]
      : [],
  );
  const aggregations = (legacy['address-pools'] ?? []).flatMap((pool, i) =>
    (pool['bgp-advertisements'] ?? []).flatMap((ad, j) =>
      ad['aggregation-length'] === 0
        ? [
            {
              code: 'crd-range' as const,
              message: `pool "${pool.name ?? ''}": aggregation-length 0 is below 1, the BGPAdvertisement CRD's minimum`,
              path: `/address-pools/${i}/bgp-advertisements/${j}/aggregation-length`,
              hint: 'use an aggregation length of at least 1',
            },
          ]
        : [],
    ),
  );
  return [...ports, ...aggregations];
}
