/**
 * `peers` semantics in MetalLB v0.12.1's order (errors wrapped `parsing peer #N`), then the
 * BFD-profile reference and exact-duplicate checks. Durations become milliseconds.
 */
import { type IpAddr, formatIp, parseIp } from '../ip/index.js';
import { parseGoDuration } from '../go/duration.js';
import type { RawPeer } from './raw-types.js';
import { EVERYTHING, compileNodeSelector } from './selector.js';
import type { SemanticError } from './semantic-error.js';
import type { NodeSelector, Peer } from './types.js';

type PeerResult = { ok: true; peer: Peer } | { ok: false; error: SemanticError };

const NS_PER_SECOND = 1_000_000_000n;
const NS_PER_MS = 1_000_000;

/** Hold time: default 90 s; truncated to whole seconds; 0 or >= 3 s. Nanoseconds, or an error message. */
function holdTimeNs(text: string): { ok: true; ns: bigint } | { ok: false; message: string } {
  if (text === '') return { ok: true, ns: 90n * NS_PER_SECOND };
  const parsed = parseGoDuration(text);
  if (!parsed.ok) return { ok: false, message: `invalid hold time ${JSON.stringify(text)}: ${parsed.error}` };
  const rounded = (parsed.value / NS_PER_SECOND) * NS_PER_SECOND;
  if (rounded !== 0n && rounded < 3n * NS_PER_SECOND) {
    return { ok: false, message: `invalid hold time ${JSON.stringify(text)}: must be 0 or >=3s` };
  }
  return { ok: true, ns: rounded };
}

/** Keepalive: default hold/3 (integer ns); explicit values truncated to seconds; <= hold. */
function keepaliveNs(text: string, holdNs: bigint): { ok: true; ns: bigint } | { ok: false; message: string } {
  if (text === '') return { ok: true, ns: holdNs / 3n };
  const parsed = parseGoDuration(text);
  if (!parsed.ok) return { ok: false, message: `invalid keepalive time ${JSON.stringify(text)}: ${parsed.error}` };
  const rounded = (parsed.value / NS_PER_SECOND) * NS_PER_SECOND;
  if (rounded > holdNs) return { ok: false, message: `invalid keepaliveTime ${JSON.stringify(text)}` };
  return { ok: true, ns: rounded };
}

function parsePeer(raw: RawPeer, index: number): PeerResult {
  const base = `/peers/${index}`;
  const fail = (kind: string, message: string, value: string, key: string): PeerResult => ({
    ok: false,
    error: { kind, message: `parsing peer #${index + 1}: ${message}`, value, path: key === '' ? base : `${base}/${key}` },
  });
  const myAsn = raw['my-asn'] ?? 0;
  const peerAsn = raw['peer-asn'] ?? 0;
  if (myAsn === 0) return fail('missing-my-asn', 'missing local ASN', '0', 'my-asn');
  if (peerAsn === 0) return fail('missing-peer-asn', 'missing peer ASN', '0', 'peer-asn');
  const ebgpMultihop = raw['ebgp-multihop'] ?? false;
  if (myAsn === peerAsn && ebgpMultihop) {
    return fail('invalid-ebgp-multihop', 'invalid ebgp-multihop parameter set for an ibgp peer', 'true', 'ebgp-multihop');
  }
  const addressText = raw['peer-address'] ?? '';
  const peerAddress = parseIp(addressText);
  if (!peerAddress) return fail('invalid-peer-address', `invalid peer IP ${JSON.stringify(addressText)}`, addressText, 'peer-address');
  const hold = holdTimeNs(raw['hold-time'] ?? '');
  if (!hold.ok) return fail('invalid-hold-time', hold.message, raw['hold-time'] ?? '', 'hold-time');
  const keepalive = keepaliveNs(raw['keepalive-time'] ?? '', hold.ns);
  if (!keepalive.ok) return fail('invalid-keepalive-time', keepalive.message, raw['keepalive-time'] ?? '', 'keepalive-time');
  let routerId: IpAddr | undefined;
  const routerIdText = raw['router-id'] ?? '';
  if (routerIdText !== '') {
    routerId = parseIp(routerIdText);
    if (!routerId) return fail('invalid-router-id', `invalid router ID ${JSON.stringify(routerIdText)}`, routerIdText, 'router-id');
  }
  const sourceText = raw['source-address'] ?? '';
  const sourceAddress = sourceText === '' ? undefined : parseIp(sourceText);
  if (sourceText !== '' && !sourceAddress) {
    return fail('invalid-source-address', `invalid source IP ${JSON.stringify(sourceText)}`, sourceText, 'source-address');
  }
  const nodeSelectors: NodeSelector[] = [];
  for (const [i, rawSelector] of (raw['node-selectors'] ?? []).entries()) {
    const compiled = compileNodeSelector(rawSelector);
    if (!compiled.ok) {
      return fail('invalid-node-selector', `parsing node selector: ${compiled.message}`, compiled.value, `node-selectors/${i}${compiled.path}`);
    }
    nodeSelectors.push(compiled.selector);
  }
  const peer: Peer = {
    myAsn,
    peerAsn,
    peerAddress,
    sourceAddress,
    peerPort: raw['peer-port'] || 179,
    holdTimeMs: Number(hold.ns / BigInt(NS_PER_MS)),
    keepaliveTimeMs: Number(keepalive.ns) / NS_PER_MS,
    routerId,
    nodeSelectors: nodeSelectors.length === 0 ? [EVERYTHING] : nodeSelectors,
    password: raw.password ?? '',
    bfdProfile: raw['bfd-profile'] ?? '',
    ebgpMultihop,
  };
  return { ok: true, peer };
}

/** Identity of a parsed peer for MetalLB's deep-equality duplicate check. */
function peerKey(p: Peer): string {
  const ip = (a: IpAddr | undefined) => (a ? formatIp(a) : null);
  return JSON.stringify([
    p.myAsn, p.peerAsn, ip(p.peerAddress), ip(p.sourceAddress), p.peerPort, p.holdTimeMs, p.keepaliveTimeMs,
    ip(p.routerId), p.nodeSelectors.map((s) => s.text), p.password, p.bfdProfile, p.ebgpMultihop,
  ]);
}

/** Parses all peers; `bfdProfiles` are the names defined in `bfd-profiles`. */
export function parsePeers(
  raws: readonly RawPeer[],
  bfdProfiles: ReadonlySet<string>,
): { ok: true; peers: Peer[] } | { ok: false; error: SemanticError } {
  const peers: Peer[] = [];
  const seen = new Set<string>();
  for (const [index, raw] of raws.entries()) {
    const parsed = parsePeer(raw, index);
    if (!parsed.ok) return parsed;
    const peer = parsed.peer;
    if (peer.bfdProfile !== '' && !bfdProfiles.has(peer.bfdProfile)) {
      const message = `peer #${index + 1} referencing non existing bfd profile ${peer.bfdProfile}`;
      return { ok: false, error: { kind: 'unknown-bfd-profile', message, value: peer.bfdProfile, path: `/peers/${index}/bfd-profile` } };
    }
    const key = peerKey(peer);
    if (seen.has(key)) {
      return { ok: false, error: { kind: 'duplicate-peer', message: `peer #${index + 1} already exists`, value: formatIp(peer.peerAddress), path: `/peers/${index}` } };
    }
    seen.add(key);
    peers.push(peer);
  }
  return { ok: true, peers };
}
