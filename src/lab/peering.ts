// The router's side of the lab's BGP sessions, read from the MetalLB config the lab applies (`lab up --config
// FILE`), so BIRD and FRR always match the example: one router session per configured peer whose address is the
// router's (192.0.2.1 or 2001:db8::1), with the peer's ASNs swapped (the router's AS is the peer's `peer-asn`,
// the nodes' AS its `my-asn`; equal ASNs make it iBGP) and its `password` (TCP-MD5, RFC 2385). Families: when the
// config peers with both router addresses, each session carries its own family only (each family on exactly one
// session per router, so ECMP sees no duplicates); when it peers with one, that session carries both families
// (RFC 4760: IPv6 NLRI over the IPv4 session with the node's global IPv6 address as next hop, or the reverse).
// A config without such peers (a layer-2 lab) gets the default: both sessions, own family each, no password.
// A peer with a `bfd-profile` gives its session BFD with the profile's intervals (examples/lab-bgp-bfd.yaml).
import { readFileSync } from 'node:fs';
import { parseConfigDocument } from '../core/config/parse.js';
import { formatIp } from '../core/ip/index.js';
import { peerBfd } from '../core/speaker/bgp.js';
import { NODE_AS, ROUTER_AS, ROUTER_IPV4, ROUTER_IPV6 } from './topology.js';

/** One session per node as the router sees it. */
export interface RouterSession {
  /** The router's own address of the session (what the nodes dial). */
  readonly routerAddress: typeof ROUTER_IPV4 | typeof ROUTER_IPV6;
  /** The family of the session's transport: the nodes' address of that family is the neighbour. */
  readonly transport: 4 | 6;
  readonly routerAs: number;
  readonly nodeAs: number;
  readonly ibgp: boolean;
  /** TCP-MD5 key; undefined = none. */
  readonly password: string | undefined;
  /** Hold time the router offers, seconds (the lab's short timer). */
  readonly holdTimeSeconds: number;
  /** Address families activated on the session. */
  readonly families: readonly (4 | 6)[];
  /** BFD on the router's side, matching the peer's `bfd-profile`; undefined = no BFD. */
  readonly bfd?: RouterBfd | undefined;
}

/** The router's BFD timers for a session, ms: what it sends is what we require to receive, and the other way round. */
export interface RouterBfd { readonly rxMs: number; readonly txMs: number; readonly multiplier: number; readonly multihop: boolean }

/** The lab's short hold time on the router's side (its keepalive is a third). */
export const ROUTER_HOLD_SECONDS = 9;

export const DEFAULT_SESSIONS: readonly RouterSession[] = [
  { routerAddress: ROUTER_IPV4, transport: 4, routerAs: ROUTER_AS, nodeAs: NODE_AS, ibgp: false, password: undefined, holdTimeSeconds: ROUTER_HOLD_SECONDS, families: [4] },
  { routerAddress: ROUTER_IPV6, transport: 6, routerAs: ROUTER_AS, nodeAs: NODE_AS, ibgp: false, password: undefined, holdTimeSeconds: ROUTER_HOLD_SECONDS, families: [6] },
];

export type SessionsResult = { ok: true; sessions: readonly RouterSession[] } | { ok: false; error: string };

/** The router's sessions for a config manifest's text (a ConfigMap as `lab up --config` takes, or a bare payload). */
export function routerSessionsFor(text: string): SessionsResult {
  const parsed = parseConfigDocument(text);
  if (!parsed.ok) return { ok: false, error: parsed.errors.map((e) => e.message).join('; ') };
  const mine = parsed.config.peers.filter((p) => [ROUTER_IPV4, ROUTER_IPV6].includes(formatIp(p.peerAddress)));
  if (mine.length === 0) return { ok: true, sessions: DEFAULT_SESSIONS };
  const seen = new Set<string>();
  const sessions: RouterSession[] = [];
  for (const p of mine) {
    const address = formatIp(p.peerAddress) as RouterSession['routerAddress'];
    // A second entry for the same router address would be a second neighbour block with the same address.
    if (seen.has(address)) return { ok: false, error: `the lab's router takes one peer entry per address; ${address} appears twice` };
    seen.add(address);
    const transport = p.peerAddress.family;
    const mapped = peerBfd(p, parsed.config.bfdProfiles);
    if (!mapped.ok) return { ok: false, error: mapped.message };
    const b = mapped.bfd;
    const bfd: RouterBfd | undefined = b === undefined ? undefined : {
      rxMs: b.session.desiredMinTxIntervalUs / 1000, txMs: b.session.requiredMinRxIntervalUs / 1000, multiplier: b.session.detectMult, multihop: b.multihop,
    };
    sessions.push({
      routerAddress: address, transport, routerAs: p.peerAsn, nodeAs: p.myAsn, ibgp: p.peerAsn === p.myAsn,
      password: p.password === '' ? undefined : p.password, holdTimeSeconds: ROUTER_HOLD_SECONDS,
      families: mine.length === 1 ? [4, 6] : [transport], ...(bfd ? { bfd } : {}),
    });
  }
  const ases = new Set(sessions.map((s) => s.routerAs));
  if (ases.size > 1) return { ok: false, error: `the lab's router has one AS; the config's peers name ${[...ases].join(' and ')}` };
  return { ok: true, sessions };
}

/** routerSessionsFor on a file; throws with the reason (lab up stops before starting anything). */
export function routerSessionsFromFile(file: string): readonly RouterSession[] {
  const r = routerSessionsFor(readFileSync(file, 'utf8'));
  if (!r.ok) throw new Error(`${file}: ${r.error}`);
  return r.sessions;
}

/** The node's neighbour address for a session of this transport family. */
export function nodeAddress(node: { ipv4: string; ipv6: string }, s: RouterSession): string {
  return s.transport === 4 ? node.ipv4 : node.ipv6;
}

/** True when any session runs BFD (FRR then needs bfdd; GoBGP cannot). */
export function sessionsUseBfd(sessions: readonly RouterSession[]): boolean {
  return sessions.some((s) => s.bfd !== undefined);
}
