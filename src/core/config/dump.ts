/**
 * Config → legacy ConfigMap payload YAML, such that parseConfig(dumpConfig(c)) equals c. Used by
 * the property test's round trip and by tools that print a normalised config. Strings are
 * always double-quoted (JSON string syntax is valid YAML), so no value is re-typed on reading.
 */
import { formatIp } from '../ip/index.js';
import { formatCommunity } from './communities.js';
import type { BfdProfile, Config, Peer, Pool, SelectorRequirement } from './types.js';

const q = (s: string) => JSON.stringify(s);

function seconds(ms: number): string {
  return `${ms / 1000}s`;
}

function selectorLines(requirements: readonly SelectorRequirement[]): string[] {
  const labels = requirements.filter((r) => r.operator === 'Equals');
  const expressions = requirements.filter((r) => r.operator !== 'Equals');
  if (requirements.length === 0) return ['  - {}'];
  const lines: string[] = [];
  let first = true;
  const lead = () => {
    const s = first ? '  - ' : '    ';
    first = false;
    return s;
  };
  if (labels.length > 0) {
    lines.push(`${lead()}match-labels:`);
    for (const r of labels) lines.push(`      ${q(r.key)}: ${q(r.values[0] ?? '')}`);
  }
  if (expressions.length > 0) {
    lines.push(`${lead()}match-expressions:`);
    for (const r of expressions) {
      lines.push(`    - {key: ${q(r.key)}, operator: ${r.operator}, values: [${r.values.map(q).join(', ')}]}`);
    }
  }
  return lines;
}

function peerLines(p: Peer): string[] {
  const lines = [
    `- my-asn: ${p.myAsn}`,
    `  peer-asn: ${p.peerAsn}`,
    `  peer-address: ${q(formatIp(p.peerAddress))}`,
    `  peer-port: ${p.peerPort}`,
    `  hold-time: ${q(seconds(p.holdTimeMs))}`,
  ];
  // The default keepalive (hold/3 in ns) can be fractional; only an explicit one is written.
  if (Math.abs(p.keepaliveTimeMs - Math.floor((p.holdTimeMs * 1e6) / 3) / 1e6) > 1e-9) {
    lines.push(`  keepalive-time: ${q(seconds(p.keepaliveTimeMs))}`);
  }
  if (p.sourceAddress) lines.push(`  source-address: ${q(formatIp(p.sourceAddress))}`);
  if (p.routerId) lines.push(`  router-id: ${q(formatIp(p.routerId))}`);
  if (p.password !== '') lines.push(`  password: ${q(p.password)}`);
  if (p.bfdProfile !== '') lines.push(`  bfd-profile: ${q(p.bfdProfile)}`);
  if (p.ebgpMultihop) lines.push('  ebgp-multihop: true');
  if (!(p.nodeSelectors.length === 1 && p.nodeSelectors[0]!.requirements.length === 0)) {
    lines.push('  node-selectors:');
    for (const s of p.nodeSelectors) lines.push(...selectorLines(s.requirements));
  }
  return lines;
}

function poolLines(p: Pool): string[] {
  const lines = [
    `- name: ${q(p.name)}`,
    `  protocol: ${p.protocol}`,
    `  addresses: [${p.addresses.map(q).join(', ')}]`,
    `  avoid-buggy-ips: ${p.avoidBuggyIps}`,
    `  auto-assign: ${p.autoAssign}`,
  ];
  if (p.protocol === 'bgp') {
    lines.push('  bgp-advertisements:');
    for (const ad of p.bgpAdvertisements) {
      lines.push(
        `  - aggregation-length: ${ad.aggregationLength}`,
        `    aggregation-length-v6: ${ad.aggregationLengthV6}`,
        `    localpref: ${ad.localPref}`,
        `    communities: [${ad.communities.map((c) => q(formatCommunity(c))).join(', ')}]`,
      );
    }
  }
  return lines;
}

function bfdLines(b: BfdProfile): string[] {
  const lines = [`- name: ${q(b.name)}`, `  echo-mode: ${b.echoMode}`, `  passive-mode: ${b.passiveMode}`];
  const optional: [string, number | undefined][] = [
    ['receive-interval', b.receiveIntervalMs], ['transmit-interval', b.transmitIntervalMs],
    ['detect-multiplier', b.detectMultiplier], ['echo-interval', b.echoIntervalMs], ['minimum-ttl', b.minimumTtl],
  ];
  for (const [key, value] of optional) if (value !== undefined) lines.push(`  ${key}: ${value}`);
  return lines;
}

/** The payload YAML of a Config. */
export function dumpConfig(config: Config): string {
  const lines: string[] = [];
  if (config.bfdProfiles.length > 0) lines.push('bfd-profiles:', ...config.bfdProfiles.flatMap(bfdLines));
  if (config.peers.length > 0) lines.push('peers:', ...config.peers.flatMap(peerLines));
  if (config.communityAliases.size > 0) {
    lines.push('bgp-communities:');
    for (const [alias, value] of config.communityAliases) lines.push(`  ${q(alias)}: ${q(formatCommunity(value))}`);
  }
  if (config.pools.length > 0) lines.push('address-pools:', ...config.pools.flatMap(poolLines));
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
