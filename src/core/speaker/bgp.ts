/**
 * The BGP half of the speaker, pure (MetalLB v0.11 `bgp_controller.go` behaviour, spec §6.1): which configured
 * peers this node keeps a session with, what each session must be told when the config or the node's labels change,
 * and the routes every session should carry for the announced Services. Sockets are src/adapters/bgp; the
 * per-Service decision (announce or not) is decide.ts.
 *
 * - A peer selects the node when any of its `node-selectors` matches the Node's labels; before the first Node is
 *   seen the labels are unknown and every selector matches (v0.11: nil labels and `Everything`).
 * - Sessions are keyed by `JoinHostPort(peer-address, peer-port)` (also the metrics' `peer` label). A peer whose
 *   parsed entry changed in a session field (any but node-selectors) is a new session: the old one is stopped with Cease "Other Configuration
 *   Change", a removed or de-selected one with Cease "Peer De-configured" (RFC 4486 §4; v0.11 sent no Cease).
 * - A peer with a `bfd-profile` gets a BFD session beside its BGP session (the adapter gates BGP on BFD Up); one
 *   whose profile asks for `echo-mode` is refused (no session: the native BFD has no Echo function), with a log line
 *   and an Event.
 * - Routes: one per (Service IP, pool advertisement), the IP masked to `aggregation-length` (IPv4) or
 *   `aggregation-length-v6` (IPv6), LOCAL_PREF and communities from the advertisement. Identical prefixes collapse
 *   into one route (v0.11 keys ads by prefix too); when they disagree on attributes v0.11's winner depended on Go
 *   map order: here the first Service in name order, then the first advertisement, wins.
 */
import type { BfdProfile, Peer, Pool } from '../config/types.js';
import { bfdSessionConfig, type BfdPeerSessionConfig } from '../bfd/profile.js';
import { type Cidr, type IpAddr, formatCidr, formatIp, makeCidr, parseIp } from '../ip/index.js';
import type { Route, RouteTable } from '../bgp/rib-out.js';
import { CeaseSubcode } from '../bgp/constants.js';
import type { Announcement } from './decide.js';

/** One advertisement of one Service IP, as v0.11's `bgp.Advertisement` (next hop: the session's). */
export interface BgpAd {
  readonly prefix: Cidr;
  /** Sent on iBGP sessions only (0 when the advertisement sets none, as v0.11). */
  readonly localPref: number;
  /** Ascending, no duplicates. */
  readonly communities: readonly number[];
}

/** `JoinHostPort(peer-address, peer-port)`: `192.0.2.1:179`, `[2001:db8::1]:179`. */
export function peerKey(peer: Pick<Peer, 'peerAddress' | 'peerPort'>): string {
  const a = formatIp(peer.peerAddress);
  return peer.peerAddress.family === 6 ? `[${a}]:${peer.peerPort}` : `${a}:${peer.peerPort}`;
}

/**
 * A canonical text of the parsed peer's session fields: equal texts = the same session. v0.11 compares the whole
 * entry; node-selectors are left out here, since they decide only whether the node keeps the session, so editing
 * them never resets a session that stays selected.
 */
export function peerFingerprint(peer: Peer): string {
  return JSON.stringify({
    myAsn: peer.myAsn, peerAsn: peer.peerAsn, peerAddress: formatIp(peer.peerAddress),
    sourceAddress: peer.sourceAddress ? formatIp(peer.sourceAddress) : null, peerPort: peer.peerPort,
    holdTimeMs: peer.holdTimeMs, keepaliveTimeMs: peer.keepaliveTimeMs, routerId: peer.routerId ? formatIp(peer.routerId) : null,
    password: peer.password, bfdProfile: peer.bfdProfile, ebgpMultihop: peer.ebgpMultihop,
  });
}

/** True when the peer applies to a node with these labels (undefined = not seen yet: everything matches). */
export function peerSelectsNode(peer: Peer, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (labels === undefined) return true;
  return peer.nodeSelectors.some((s) => s.matches(labels));
}

/** Why a session is stopped, with the Cease subcode it is stopped with (RFC 4486). */
export type SessionStopReason = 'removedFromConfig' | 'filteredByNodeSelector' | 'peerChanged' | 'bfdEchoModeNotSupported';

/** Why a peer that selects this node gets no session. */
export type RefusalReason = 'bfdEchoModeNotSupported' | 'duplicatePeer';

export function ceaseSubcodeFor(reason: SessionStopReason): number {
  return reason === 'peerChanged' ? CeaseSubcode.OTHER_CONFIGURATION_CHANGE : CeaseSubcode.PEER_DECONFIGURED;
}

/** What to do with the sessions. `stop` comes first (a changed peer is stopped, then started anew). */
export interface SessionPlan {
  readonly stop: readonly { readonly key: string; readonly reason: SessionStopReason }[];
  /** `bfd`: the peer's BFD session parameters when it has a `bfd-profile` (its BGP session then follows BFD). */
  readonly start: readonly { readonly key: string; readonly peer: Peer; readonly fingerprint: string; readonly bfd?: BfdPeerSessionConfig }[];
  /** Peers that select this node but get no session, with why (logged and evented by the caller once). */
  readonly refused: readonly { readonly key: string; readonly reason: RefusalReason; readonly message: string }[];
}

/**
 * A peer's BFD session parameters from its `bfd-profile` (multihop when the peer has `ebgp-multihop`, as MetalLB's
 * FRR mode makes it): undefined without a profile; an error for `echo-mode: true` (see core/bfd/profile.ts).
 */
export function peerBfd(peer: Peer, profiles: readonly BfdProfile[]):
  { ok: true; bfd: BfdPeerSessionConfig | undefined } | { ok: false; message: string } {
  if (peer.bfdProfile === '') return { ok: true, bfd: undefined };
  // The parser already refused a config naming an unknown profile; undefined here means all defaults.
  const mapped = bfdSessionConfig(profiles.find((p) => p.name === peer.bfdProfile), peer.ebgpMultihop);
  return mapped.ok ? { ok: true, bfd: mapped.config } : { ok: false, message: mapped.error.message };
}

/**
 * v0.11 `SetConfig` + `syncPeers`: from the running sessions (key → fingerprint), the config's peers and the node's
 * labels, the sessions to stop and to start. Nothing changes for a peer whose entry is identical and still selects.
 */
export function planSessions(running: ReadonlyMap<string, string>, peers: readonly Peer[], labels: Readonly<Record<string, string>> | undefined,
  bfdProfiles: readonly BfdProfile[] = []): SessionPlan {
  const wanted = new Map<string, { peer: Peer; fingerprint: string; bfd?: BfdPeerSessionConfig }>();
  const refused: { key: string; reason: RefusalReason; message: string }[] = [];
  const configured = new Set<string>();
  for (const peer of peers) {
    const key = peerKey(peer);
    if (configured.has(key)) {
      refused.push({ key, reason: 'duplicatePeer', message: `peer ${key} is configured twice; only the first entry is used` });
      continue;
    }
    configured.add(key);
    if (!peerSelectsNode(peer, labels)) continue;
    const bfd = peerBfd(peer, bfdProfiles);
    if (!bfd.ok) {
      refused.push({ key, reason: 'bfdEchoModeNotSupported', message: `peer ${key}: ${bfd.message}; no session is made with it` });
      continue;
    }
    // The profile's values are part of the session: editing the profile restarts the peers that use it.
    const fingerprint = bfd.bfd === undefined ? peerFingerprint(peer) : `${peerFingerprint(peer)}|${JSON.stringify(bfd.bfd)}`;
    wanted.set(key, { peer, fingerprint, ...(bfd.bfd ? { bfd: bfd.bfd } : {}) });
  }
  const stop: { key: string; reason: SessionStopReason }[] = [];
  const start: { key: string; peer: Peer; fingerprint: string }[] = [];
  for (const [key, fingerprint] of running) {
    const w = wanted.get(key);
    if (w === undefined) {
      const why: SessionStopReason = !configured.has(key) ? 'removedFromConfig'
        : refused.some((r) => r.key === key && r.reason === 'bfdEchoModeNotSupported') ? 'bfdEchoModeNotSupported' : 'filteredByNodeSelector';
      stop.push({ key, reason: why });
    } else if (w.fingerprint !== fingerprint) {
      stop.push({ key, reason: 'peerChanged' });
    }
  }
  for (const [key, w] of wanted) if (running.get(key) !== w.fingerprint) start.push({ key, ...w });
  return { stop, start, refused };
}

/** v0.11 `SetBalancer`'s ads for one announcement: one per (IP, advertisement of the pool), in that order. */
export function adsFor(announcement: Pick<Announcement, 'ips'>, pool: Pool): BgpAd[] {
  const ads: BgpAd[] = [];
  for (const text of announcement.ips) {
    const ip: IpAddr | undefined = parseIp(text);
    if (ip === undefined) continue; // decide.ts only announces parsed, canonical IPs
    for (const adv of pool.bgpAdvertisements) {
      const bits = ip.family === 4 ? adv.aggregationLength : adv.aggregationLengthV6;
      ads.push({ prefix: makeCidr(ip, bits), localPref: adv.localPref, communities: [...new Set(adv.communities)].sort((a, b) => a - b) });
    }
  }
  return ads;
}

/** Every Service's ads, concatenated (duplicates kept) and sorted by prefix text: what v0.11 hands a session. */
export function allAds(adsByService: ReadonlyMap<string, readonly BgpAd[]>): BgpAd[] {
  const out = [...adsByService.values()].flat();
  return out.map((ad) => ({ ad, text: formatCidr(ad.prefix) }))
    .sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0)).map((x) => x.ad);
}

/** The routes every session should carry: ads collapsed by prefix (first Service by name, first ad wins). */
export function desiredRoutes(adsByService: ReadonlyMap<string, readonly BgpAd[]>): RouteTable {
  const table = new Map<string, Route>();
  for (const name of [...adsByService.keys()].sort()) {
    for (const ad of adsByService.get(name)!) {
      const key = formatCidr(ad.prefix);
      if (table.has(key)) continue;
      table.set(key, { prefix: ad.prefix, attributes: { localPref: ad.localPref, communities: ad.communities } });
    }
  }
  return table;
}
