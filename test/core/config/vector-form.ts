/**
 * Converts our domain Config to the conformance vectors' config form (spec §0 "R"), and classifies
 * MetalLB's expected error texts into our stable error kinds and offending values, so tests compare
 * meaning (kind, value, peer/pool number), never raw error text.
 */
import { formatCidr, formatIp } from '../../../src/core/ip/index.js';
import { formatCommunity } from '../../../src/core/config/communities.js';
import type { Config, NodeSelector, SelectorRequirement } from '../../../src/core/config/types.js';

const OPERATOR_TEXT: Record<SelectorRequirement['operator'], string> = {
  Equals: '=', In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!',
};

function selectorForm(s: NodeSelector): unknown {
  return {
    everything: s.requirements.length === 0,
    requirements: s.requirements.map((r) => ({ key: r.key, operator: OPERATOR_TEXT[r.operator], values: [...r.values] })),
    string: s.text,
  };
}

/** Our Config in the v0.12.1 vector form. */
export function vectorForm(config: Config): unknown {
  const seconds = (ms: number) => Math.round(ms * 1e6) / 1e9;
  return {
    peers: config.peers.map((p) => ({
      my_asn: p.myAsn,
      peer_asn: p.peerAsn,
      peer_address: formatIp(p.peerAddress),
      source_address: p.sourceAddress ? formatIp(p.sourceAddress) : null,
      peer_port: p.peerPort,
      hold_time_seconds: seconds(p.holdTimeMs),
      router_id: p.routerId ? formatIp(p.routerId) : null,
      node_selectors: p.nodeSelectors.map(selectorForm),
      password: p.password,
      keepalive_time_seconds: seconds(p.keepaliveTimeMs),
      bfd_profile: p.bfdProfile,
      ebgp_multihop: p.ebgpMultihop,
    })),
    pools: Object.fromEntries(
      config.pools.map((pool) => [
        pool.name,
        {
          protocol: pool.protocol,
          avoid_buggy_ips: pool.avoidBuggyIps,
          auto_assign: pool.autoAssign,
          cidrs: pool.cidrs.map(formatCidr),
          bgp_advertisements:
            pool.protocol === 'layer2'
              ? null
              : pool.bgpAdvertisements.map((ad) => ({
                  aggregation_length: ad.aggregationLength,
                  localpref: ad.localPref,
                  communities: [...ad.communities],
                  communities_str: ad.communities.map(formatCommunity),
                  aggregation_length_v6: ad.aggregationLengthV6,
                })),
        },
      ]),
    ),
    bfd_profiles: Object.fromEntries(
      config.bfdProfiles.map((b) => [
        b.name,
        {
          name: b.name,
          detect_multiplier: b.detectMultiplier ?? null,
          receive_interval: b.receiveIntervalMs ?? null,
          transmit_interval: b.transmitIntervalMs ?? null,
          minimum_ttl: b.minimumTtl ?? null,
          echo_interval: b.echoIntervalMs ?? null,
          echo_mode: b.echoMode,
          passive_mode: b.passiveMode,
        },
      ]),
    ),
  };
}

/** Error kinds that correspond to MetalLB's "could not parse config: <yaml.v2 error>". */
export const DECODE_KINDS = new Set([
  'yaml-syntax', 'yaml-alias-limit', 'duplicate-key', 'unknown-key', 'complex-key', 'type-mismatch', 'schema',
]);

/** What an expected MetalLB error means: kind(s), offending value (when the text carries one), wrapper path. */
export interface ExpectedError {
  readonly kinds: ReadonlySet<string>;
  readonly value?: string;
  /** JSON-pointer prefix our error path must start with (from "peer #N" / "address pool #N"). */
  readonly pathPrefix?: string;
}

/** Decodes a Go `%q`-formatted rune literal ('!', '\x1c', '\u0081') to its code point as text. */
function goRune(literal: string): string {
  const body = literal.slice(1, -1);
  const hex = /^\\(?:x|u|U)([0-9a-fA-F]+)$/.exec(body);
  return String(hex ? parseInt(hex[1]!, 16) : body.codePointAt(0));
}

const RULES: readonly [RegExp, string, ((m: RegExpExecArray) => string)?][] = [
  [/invalid peer IP "(.*)"$/, 'invalid-peer-address', (m) => m[1]!],
  [/missing local ASN$/, 'missing-my-asn'],
  [/missing peer ASN$/, 'missing-peer-asn'],
  [/invalid hold time "(.*?)":/, 'invalid-hold-time', (m) => m[1]!],
  [/invalid keepaliveTime "(.*)"$/, 'invalid-keepalive-time', (m) => m[1]!],
  [/invalid keepalive time "(.*?)":/, 'invalid-keepalive-time', (m) => m[1]!],
  [/invalid router ID "(.*)"$/, 'invalid-router-id', (m) => m[1]!],
  [/invalid source IP "(.*)"$/, 'invalid-source-address', (m) => m[1]!],
  [/parsing node selector: "(.*)" is not a valid pod selector operator$/, 'invalid-node-selector', (m) => m[1]!],
  [/parsing node selector: /, 'invalid-node-selector'],
  [/invalid ebgp-multihop parameter/, 'invalid-ebgp-multihop'],
  [/^peer #\d+ already exists$/, 'duplicate-peer'],
  [/referencing non existing bfd profile (.*)$/, 'unknown-bfd-profile', (m) => m[1]!],
  [/found duplicate bfd profile name (.*)$/, 'duplicate-bfd-profile', (m) => m[1]!],
  [/missing bfd profile name$/, 'missing-bfd-profile-name'],
  [/parsing bfd profile #\d+: [a-z ]+: invalid value (\d+),/, 'invalid-bfd-value', (m) => m[1]!],
  [/missing pool name$/, 'missing-pool-name'],
  [/pool has no prefixes defined$/, 'no-addresses'],
  [/invalid CIDR "(.*?)" in pool/, 'invalid-cidr', (m) => m[1]!],
  [/address pool is missing the protocol field$/, 'missing-protocol'],
  [/unknown protocol "(.*)"$/, 'unknown-protocol', (m) => m[1]!],
  [/cannot have bgp-advertisements configuration element/, 'bgp-advertisements-in-layer2'],
  [/invalid aggregation length ('.*') for IPv[46]$/, 'invalid-aggregation-length', (m) => goRune(m[1]!)],
  [/invalid aggregation length -?\d+: .* for addresses (.*)$/, 'invalid-aggregation-length', (m) => m[1]!],
  [/duplicate definition of bgpadvertisements\. advertisement \d+ and (\d+) are equal$/, 'duplicate-advertisement', (m) => m[1]!],
  [/duplicate definition of community "(.*)"$/, 'duplicate-community', (m) => m[1]!],
  [/^parsing community ".*?": invalid (?:first|second) section of community "(.*?)"/, 'invalid-community-alias', (m) => m[1]!],
  [/^parsing community ".*?": invalid community string "(.*?)"/, 'invalid-community-alias', (m) => m[1]!],
  [/invalid community ".*?" in BGP advertisement: invalid (?:first|second) section of community "(.*?)"/, 'invalid-community', (m) => m[1]!],
  [/invalid community ".*?" in BGP advertisement: invalid community string "(.*?)"/, 'invalid-community', (m) => m[1]!],
  [/^duplicate definition of pool "(.*)"$/, 'duplicate-pool', (m) => m[1]!],
  [/^CIDR "(.*?)" in pool ".*?" overlaps with/, 'overlapping-cidr', (m) => m[1]!],
];

/** Classifies an expected MetalLB error (exact text or prefix). Undefined = no rule (a test bug). */
export function classifyExpected(text: string): ExpectedError | undefined {
  if (text.startsWith('could not parse config: ')) return { kinds: DECODE_KINDS };
  const peer = /^(?:parsing )?peer #(\d+)/.exec(text);
  const pool = /^parsing address pool #(\d+)/.exec(text);
  const profile = /^parsing bfd profile #(\d+)/.exec(text);
  const pathPrefix = peer
    ? `/peers/${Number(peer[1]) - 1}`
    : pool
      ? `/address-pools/${Number(pool[1]) - 1}`
      : profile
        ? `/bfd-profiles/${Number(profile[1]) - 1}`
        : undefined;
  for (const [pattern, kind, valueOf] of RULES) {
    const m = pattern.exec(text);
    if (!m) continue;
    return {
      kinds: new Set([kind]),
      ...(valueOf ? { value: valueOf(m) } : {}),
      ...(pathPrefix !== undefined ? { pathPrefix } : {}),
    };
  }
  return undefined;
}
