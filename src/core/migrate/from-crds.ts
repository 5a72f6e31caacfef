/**
 * Reads MetalLB CRs back into legacy ConfigMap terms, and checks that every cross-reference resolves.
 * This is the inverse the round-trip tests use (CRs → legacy → `parseConfig` must equal the original
 * config), and what a read-back from a cluster is compared through.
 */
import type { LegacyBgpAdvertisement, LegacyConfig, LegacyNodeSelector, LegacyPeer, LegacyPool } from './legacy.js';
import type { BgpAdvertisementCr, BgpPeerCr, LabelSelector, MigratedObject, PasswordSecret } from './crds.js';
import { decodeBase64 } from './base64.js';

type ByKind<K extends MigratedObject['kind']> = Extract<MigratedObject, { kind: K }>;

function ofKind<K extends MigratedObject['kind']>(objects: readonly MigratedObject[], kind: K): ByKind<K>[] {
  return objects.filter((o): o is ByKind<K> => o.kind === kind);
}

/** The legacy payload the CRs stand for. Pools keep the CR order; protocols come from the advertisements. */
export function crdsToLegacy(objects: readonly MigratedObject[]): LegacyConfig {
  const secrets = new Map(ofKind(objects, 'Secret').map((s: PasswordSecret) => [s.metadata.name, s]));
  const bgpAds = ofKind(objects, 'BGPAdvertisement');
  const l2Pools = new Set(ofKind(objects, 'L2Advertisement').flatMap((a) => a.spec.ipAddressPools));
  const aliases = ofKind(objects, 'Community').flatMap((c) => c.spec.communities);
  const pools = ofKind(objects, 'IPAddressPool').map((pool): LegacyPool => {
    const ads = bgpAds.filter((a) => a.spec.ipAddressPools.includes(pool.metadata.name));
    const protocol = l2Pools.has(pool.metadata.name) ? 'layer2' : ads.length > 0 ? 'bgp' : undefined;
    return {
      name: pool.metadata.name,
      ...(protocol ? { protocol } : {}),
      addresses: [...pool.spec.addresses],
      ...(pool.spec.autoAssign !== undefined ? { 'auto-assign': pool.spec.autoAssign } : {}),
      ...(pool.spec.avoidBuggyIPs ? { 'avoid-buggy-ips': true } : {}),
      ...legacyAdvertisements(ads),
    };
  });
  return {
    ...nonEmptyList('peers', ofKind(objects, 'BGPPeer').map((p) => legacyPeer(p, secrets))),
    ...(aliases.length > 0 ? { 'bgp-communities': Object.fromEntries(aliases.map((a) => [a.name, a.value])) } : {}),
    ...nonEmptyList('address-pools', pools),
    ...nonEmptyList(
      'bfd-profiles',
      ofKind(objects, 'BFDProfile').map((b) => ({
        name: b.metadata.name,
        ...defined('receive-interval', b.spec.receiveInterval),
        ...defined('transmit-interval', b.spec.transmitInterval),
        ...defined('detect-multiplier', b.spec.detectMultiplier),
        ...defined('echo-interval', b.spec.echoInterval),
        'echo-mode': b.spec.echoMode,
        'passive-mode': b.spec.passiveMode,
        ...defined('minimum-ttl', b.spec.minimumTtl),
      })),
    ),
  };
}

/** A lone empty BGPAdvertisement is what a legacy bgp pool without advertisements becomes. */
function legacyAdvertisements(ads: readonly BgpAdvertisementCr[]): { 'bgp-advertisements'?: LegacyBgpAdvertisement[] } {
  const [only] = ads;
  if (ads.length === 0 || (ads.length === 1 && only && Object.keys(only.spec).length === 1)) return {};
  return {
    'bgp-advertisements': ads.map(({ spec }) => ({
      ...defined('aggregation-length', spec.aggregationLength),
      ...defined('aggregation-length-v6', spec.aggregationLengthV6),
      ...defined('localpref', spec.localPref),
      ...(spec.communities ? { communities: [...spec.communities] } : {}),
    })),
  };
}

function legacyPeer(peer: BgpPeerCr, secrets: ReadonlyMap<string, PasswordSecret>): LegacyPeer {
  const s = peer.spec;
  const secret = s.passwordSecret ? secrets.get(s.passwordSecret.name) : undefined;
  const password = s.password ?? (secret ? decodeBase64(secret.data.password) : undefined);
  return {
    'my-asn': s.myASN,
    'peer-asn': s.peerASN,
    'peer-address': s.peerAddress,
    ...defined('source-address', s.sourceAddress),
    ...defined('peer-port', s.peerPort),
    'hold-time': s.holdTime,
    ...defined('keepalive-time', s.keepaliveTime),
    ...defined('router-id', s.routerID),
    ...nonEmptyList('node-selectors', (s.nodeSelectors ?? []).map(legacySelector)),
    ...defined('password', password),
    ...defined('bfd-profile', s.bfdProfile),
    ...defined('ebgp-multihop', s.ebgpMultiHop),
  };
}

function legacySelector(selector: LabelSelector): LegacyNodeSelector {
  return {
    ...(selector.matchLabels ? { 'match-labels': { ...selector.matchLabels } } : {}),
    ...(selector.matchExpressions
      ? {
          'match-expressions': selector.matchExpressions.map((e) => ({
            key: e.key,
            operator: e.operator,
            ...(e.values ? { values: [...e.values] } : {}),
          })),
        }
      : {}),
  };
}

function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}

function nonEmptyList<K extends string, V>(key: K, list: readonly V[]): { [P in K]?: readonly V[] } {
  return list.length === 0 ? {} : ({ [key]: list } as { [P in K]?: readonly V[] });
}

/** A legacy community literal `hi:lo` (anything else in an advertisement must be an alias). */
const COMMUNITY_LITERAL = /^\d+:\d+$/;

/**
 * Every reference in the objects that does not resolve: advertisement pools, peer BFD profiles and
 * password Secrets, community aliases. Empty when the output is self-contained.
 */
export function unresolvedReferences(objects: readonly MigratedObject[]): string[] {
  const names = (kind: MigratedObject['kind']) =>
    new Set(objects.filter((o) => o.kind === kind).map((o) => o.metadata.name));
  const pools = names('IPAddressPool');
  const profiles = names('BFDProfile');
  const secrets = names('Secret');
  const aliases = new Set(ofKind(objects, 'Community').flatMap((c) => c.spec.communities.map((a) => a.name)));
  const problems: string[] = [];
  for (const ad of [...ofKind(objects, 'BGPAdvertisement'), ...ofKind(objects, 'L2Advertisement')]) {
    for (const pool of ad.spec.ipAddressPools) {
      if (!pools.has(pool)) problems.push(`${ad.kind} ${ad.metadata.name}: no IPAddressPool "${pool}"`);
    }
  }
  for (const ad of ofKind(objects, 'BGPAdvertisement')) {
    for (const c of ad.spec.communities ?? []) {
      if (!COMMUNITY_LITERAL.test(c) && !aliases.has(c)) problems.push(`BGPAdvertisement ${ad.metadata.name}: no community alias "${c}"`);
    }
  }
  for (const peer of ofKind(objects, 'BGPPeer')) {
    const { bfdProfile, passwordSecret } = peer.spec;
    if (bfdProfile !== undefined && !profiles.has(bfdProfile)) problems.push(`BGPPeer ${peer.metadata.name}: no BFDProfile "${bfdProfile}"`);
    if (passwordSecret && !secrets.has(passwordSecret.name)) problems.push(`BGPPeer ${peer.metadata.name}: no Secret "${passwordSecret.name}"`);
  }
  return problems;
}
