/**
 * The speaker's BGP announcer: one BgpSession (session.ts) per configured peer that selects this node, every
 * session carrying the routes of every announced BGP Service (spec §6.1). Decisions are pure
 * (src/core/speaker/bgp.ts: which sessions, which routes; src/core/bgp/rib-out.ts: which UPDATEs); this file owns the
 * sockets, the node's interface addresses (router ID and the other family's next hop, spec §6.4), the metrics and
 * the log lines. Route changes are coalesced to one pass per event-loop turn, so a resync of many Services sends
 * one batch of UPDATEs, never a reset.
 *
 * Shutdown (SIGTERM) closes every session without a NOTIFICATION (RFC 4724 §4): a peer helping graceful restart
 * keeps our routes as stale until the restarted speaker's End-of-RIB or the advertised Restart Time.
 *
 * BFD (issue 12, docs/design/bfd.md): a peer with a `bfd-profile` gets a BFD session first, and its BGP session
 * runs only while BFD is Up. BFD leaving Up closes the BGP session at once with a Cease "BFD Down" (RFC 9384,
 * subcode 10), so the peer drops our routes; BFD Up again starts a new BGP session. Such a session advertises no
 * graceful-restart capability, so no router keeps a dead node's paths as stale.
 */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import type { Socket } from 'node:net';
import type { Clock } from '../clock.js';
import type { Config } from '../../core/config/types.js';
import type { Logger } from '../../core/ports.js';
import { type Family, type IpAddr, compareIp, formatIp, ipEquals, parseIp } from '../../core/ip/index.js';
import { SESSION_TIMING_DEFAULTS, chooseRouterId, type RouteTable } from '../../core/bgp/index.js';
import {
  adsFor, ceaseSubcodeFor, desiredRoutes, planSessions, type BgpAd, type SessionStopReason,
} from '../../core/speaker/bgp.js';
import type { Announcement } from '../../core/speaker/decide.js';
import type { Peer } from '../../core/config/types.js';
import type { BfdPeerSessionConfig } from '../../core/bfd/index.js';
import type { BgpPeerState } from '../../core/speaker/env-checks.js';
import { BgpSession } from './session.js';
import type { BgpMetrics } from './metrics.js';
import type { BfdWatch, SpeakerBfd } from '../bfd/speaker-bfd.js';

/** RFC 9384: Cease subcode "BFD Down". */
export const CEASE_BFD_DOWN = 10;

/** A Warning or Normal Event the announcer asks the speaker to record on this node's Node object. */
export interface BgpNodeEvent { readonly type: 'Normal' | 'Warning'; readonly reason: string; readonly message: string }

export interface BgpAnnouncerOptions {
  readonly nodeName: string;
  readonly logger: Logger;
  readonly metrics: BgpMetrics;
  readonly clock: Clock;
  /** Restart Time advertised in the graceful-restart capability (RFC 4724), seconds; 0 = not advertised. */
  readonly gracefulRestartSeconds: number;
  readonly recordNodeEvent?: ((e: BgpNodeEvent) => void) | undefined;
  /**
   * Passive mode (`--bgp-listen`): sessions never dial; the listener hands each incoming connection to
   * acceptConnection(). Off by default.
   */
  readonly passive?: boolean | undefined;
  /** The node's interfaces (tests); default os.networkInterfaces(). */
  readonly interfaces?: (() => NodeJS.Dict<NetworkInterfaceInfo[]>) | undefined;
  /** The speaker's BFD; without it a peer with a `bfd-profile` gets no session (logged once). */
  readonly bfd?: SpeakerBfd | undefined;
}

interface Running {
  readonly fingerprint: string;
  readonly peer: Peer;
  /** undefined while a BFD-gated peer's BFD session is not Up. */
  session: BgpSession | undefined;
  /** When the current session started (clock ms), whether it has been Established since, its last error. */
  startedAtMs?: number;
  established?: boolean;
  lastError?: string | undefined;
  readonly bfd?: { readonly address: string; readonly watch: BfdWatch } | undefined;
}

/** A passive session waits for its peer without a connect timeout (the largest timer Node accepts, ms). */
const PASSIVE_WAIT_MS = 2 ** 31 - 1;

export class BgpAnnouncer {
  private readonly opts: BgpAnnouncerOptions;
  private config: Config | undefined;
  private labels: Readonly<Record<string, string>> | undefined;
  private readonly sessions = new Map<string, Running>();
  private readonly ads = new Map<string, readonly BgpAd[]>();
  private desired: RouteTable = new Map();
  private flushScheduled = false;
  /** Set by synced(): before it no session starts (the routes are not all known yet). */
  private ready = false;
  private closed = false;
  /** Refusals already logged (key|reason), so resyncs do not repeat them. */
  private readonly refusedLogged = new Set<string>();

  constructor(opts: BgpAnnouncerOptions) {
    this.opts = opts;
  }

  /**
   * Every Service has been decided once: start the sessions. A restarted speaker must not send End-of-RIB
   * before all its routes (RFC 4724 §4.2: the router then drops the stale paths it kept).
   */
  synced(): void {
    if (this.ready) return;
    this.ready = true;
    this.desired = desiredRoutes(this.ads);
    this.syncPeers();
  }

  /** Session keys (`peer` labels) currently kept. */
  sessionKeys(): string[] {
    return [...this.sessions.keys()].sort();
  }

  /** v0.11 SetConfig: sessions follow the peers (a changed peer is reset, only it). */
  setConfig(config: Config): void {
    this.config = config;
    this.syncPeers();
  }

  /** The Node's labels changed (node-selectors are re-evaluated). */
  setNodeLabels(labels: Readonly<Record<string, string>>): void {
    this.labels = labels;
    this.syncPeers();
  }

  /** Announce `announcement` (a BGP pool's Service) on every session; replaces the Service's previous ads. */
  setBalancer(name: string, announcement: Announcement): void {
    const pool = this.config?.pools.find((p) => p.name === announcement.pool);
    if (pool === undefined) {
      this.opts.logger.error({ op: 'setBalancer', service: name, pool: announcement.pool, error: 'pool not in the running config', msg: 'cannot announce service' });
      this.ads.delete(name);
    } else {
      this.ads.set(name, adsFor(announcement, pool));
    }
    this.scheduleFlush();
  }

  deleteBalancer(name: string): void {
    if (this.ads.delete(name)) this.scheduleFlush();
  }

  /**
   * Passive mode: a TCP connection accepted by the listener. Handed to the session of the configured peer with
   * that source address (and, if the peer has a source-address, to that local address); closed if there is
   * none, or if that session already has a connection. Never throws.
   */
  acceptConnection(socket: Socket): void {
    const remote = unmapped(parseIp((socket.remoteAddress ?? '').split('%')[0]!));
    const local = unmapped(parseIp((socket.localAddress ?? '').split('%')[0]!));
    const from = socket.remoteAddress ?? '?';
    const matching = [...this.sessions.entries()].filter(([, r]) => r.session !== undefined && remote !== undefined && ipEquals(r.peer.peerAddress, remote)
      && (r.peer.sourceAddress === undefined || (local !== undefined && ipEquals(r.peer.sourceAddress, local))));
    if (!this.opts.passive || this.closed || matching.length === 0) {
      this.opts.logger.warn({ op: 'accept', peer: from, error: 'not a configured peer of this node', msg: 'closing a BGP connection from an unknown address' });
      socket.destroy();
      return;
    }
    if (matching.some(([, r]) => r.session!.offer(socket))) return;
    this.opts.logger.info({ op: 'accept', peer: from, sessions: matching.map(([k]) => k), msg: 'closing a second BGP connection from a peer: its session already has one' });
    socket.destroy();
  }

  /** Stops every session: gracefully (no NOTIFICATION, for a restart) or with Cease Administrative Shutdown. */
  close(graceful: boolean): void {
    this.closed = true;
    for (const [key, r] of this.sessions) {
      r.session?.stop(graceful ? { kind: 'gracefulRestart' } : { kind: 'cease', subcode: 2, why: 'speaker shutting down' });
      this.opts.metrics.removePeer(key);
    }
    this.sessions.clear();
  }

  /**
   * Each running BGP session (a BFD-gated peer waiting for BFD Up has none): when it started, whether it has been
   * Established since, its last error. For the BGPPeerSilent check (src/core/speaker/env-checks.ts).
   */
  peerStates(): BgpPeerState[] {
    const out: BgpPeerState[] = [];
    for (const [peer, r] of this.sessions) {
      if (r.session === undefined || r.startedAtMs === undefined) continue;
      out.push({ peer, startedAtMs: r.startedAtMs, established: r.established === true, lastError: r.lastError, passive: this.opts.passive === true });
    }
    return out;
  }

  /** BGP session state per key for tests: 'bfdDown' while a BFD-gated peer waits for BFD Up. */
  sessionStates(): Record<string, string> {
    return Object.fromEntries([...this.sessions].map(([k, r]) => [k, r.session?.fsmState ?? 'bfdDown']));
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed) return;
    this.desired = desiredRoutes(this.ads);
    for (const { session } of this.sessions.values()) session?.setRoutes(this.desired);
  }

  private syncPeers(): void {
    if (this.closed || !this.ready || this.config === undefined) return;
    const running = new Map([...this.sessions].map(([k, r]) => [k, r.fingerprint]));
    const plan = planSessions(running, this.config.peers, this.labels, this.config.bfdProfiles);
    for (const { key, reason } of plan.stop) this.stopSession(key, reason);
    for (const { key, reason, message } of plan.refused) this.refuse(key, reason, message);
    for (const { key, peer, fingerprint, bfd } of plan.start) {
      if (bfd !== undefined) {
        if (this.opts.bfd === undefined) {
          this.refuse(key, 'bfdUnavailable', `peer ${key} has a bfd-profile but this speaker runs without BFD; no session is made with it`);
          continue;
        }
        this.startWithBfd(key, peer, fingerprint, bfd);
        continue;
      }
      this.sessions.set(key, { fingerprint, peer, session: undefined });
      this.startBgp(key);
      this.opts.logger.child({ peer: key }).info({ event: 'peerAdded', msg: 'peer selects this node; starting its session' });
    }
  }

  private refuse(key: string, reason: string, message: string): void {
    if (this.refusedLogged.has(`${key}|${reason}`)) return;
    this.refusedLogged.add(`${key}|${reason}`);
    this.opts.logger.error({ op: 'syncPeers', peer: key, error: reason, msg: message });
    this.opts.recordNodeEvent?.({ type: 'Warning', reason: 'peerRefused', message });
  }

  /**
   * A BFD-gated peer: its BFD session starts now, its BGP session when BFD is Up. If BFD cannot start (its socket
   * cannot be bound or filtered), the peer stays without a session and the error is logged and evented.
   */
  private startWithBfd(key: string, peer: Peer, fingerprint: string, bfd: BfdPeerSessionConfig): void {
    const address = formatIp(peer.peerAddress);
    const log = this.opts.logger.child({ peer: key });
    const watch: BfdWatch = {
      onState: (c) => {
        const r = this.sessions.get(key);
        if (r === undefined || r.bfd?.watch !== watch || this.closed) return;
        if (c.to === 'Up' && r.session === undefined) {
          log.info({ event: 'bfdUp', msg: 'BFD session up; starting the BGP session' });
          this.startBgp(key);
        } else if (c.to !== 'Up' && r.session !== undefined) {
          log.warn({ event: 'bfdDown', diag: c.diag, msg: 'BFD session down; closing the BGP session (Cease BFD Down), routes withdrawn' });
          const session = r.session;
          r.session = undefined;
          session.stop({ kind: 'cease', subcode: CEASE_BFD_DOWN, why: 'bfdDown' });
          this.opts.metrics.sessionUp(key, false);
          this.opts.metrics.prefixes(key, 0, this.desired.size);
        }
      },
    };
    this.sessions.set(key, { fingerprint, peer, session: undefined, bfd: { address, watch } });
    this.opts.metrics.sessionUp(key, false);
    this.opts.metrics.prefixes(key, 0, this.desired.size);
    log.info({ event: 'peerAdded', bfd: true, msg: 'peer selects this node; starting its BFD session, BGP follows BFD Up' });
    const source = peer.sourceAddress ? formatIp(peer.sourceAddress) : undefined;
    this.opts.bfd!.add(address, bfd, watch, source).catch((err: unknown) => {
      const message = `peer ${key}: cannot start its BFD session: ${(err as Error).message}; no BGP session is made with it`;
      log.error({ op: 'bfd', error: String(err), msg: message });
      this.opts.recordNodeEvent?.({ type: 'Warning', reason: 'peerRefused', message });
    });
  }

  /** Creates and starts the BGP session of a kept peer. */
  private startBgp(key: string): void {
    const r = this.sessions.get(key);
    if (r === undefined || r.session !== undefined) return;
    const peer = r.peer;
    const log = this.opts.logger.child({ peer: key });
    const session = new BgpSession({
      config: {
        localAs: peer.myAsn, peerAs: peer.peerAsn, holdTimeSeconds: Math.floor(peer.holdTimeMs / 1000),
        keepaliveTimeSeconds: peer.keepaliveTimeMs / 1000, families: [4, 6], ...SESSION_TIMING_DEFAULTS,
        ...(this.opts.passive ? { connectTimeoutMs: PASSIVE_WAIT_MS } : {}),
        // Not on a BFD-gated session: a helper keeps a restarting peer's paths as stale, and FRR 8.4 treats a BFD
        // Down as such a restart (measured: a SIGKILLed speaker's paths stayed for the Restart Time), which would
        // undo what BFD is for. docs/design/bfd.md "BFD and graceful restart".
        gracefulRestart: this.opts.gracefulRestartSeconds > 0 && r.bfd === undefined ? { restartTimeSeconds: this.opts.gracefulRestartSeconds } : undefined,
      },
      peerAddress: formatIp(peer.peerAddress), peerPort: peer.peerPort,
      sourceAddress: peer.sourceAddress ? formatIp(peer.sourceAddress) : undefined,
      password: peer.password === '' ? undefined : peer.password,
      clock: this.opts.clock,
      passive: this.opts.passive,
      routerId: (local) => chooseRouterId({ routerId: peer.routerId, localAddress: local, interfaceIpv4s: this.interfaceOf(local, 4), nodeName: this.opts.nodeName }),
      otherFamilyNextHop: (family, local) => this.interfaceOf(local, family)[0] ?? this.anyGlobal(family),
      log,
      onUp: () => { r.established = true; this.opts.metrics.sessionUp(key, true); },
      onError: (reason) => { r.lastError = reason; },
      onDown: () => this.opts.metrics.sessionUp(key, false),
      onUpdateSent: () => this.opts.metrics.updateSent(key),
      onRoutes: (announced, desired) => this.opts.metrics.prefixes(key, announced, desired),
      onSuspectedPasswordMismatch: (n) => this.opts.recordNodeEvent?.({
        type: 'Warning', reason: 'bgpPasswordMismatch',
        message: `${n} connects to peer ${key} got no answer: its TCP-MD5 password probably differs from ours`,
      }),
    });
    r.session = session;
    r.startedAtMs = this.opts.clock.now();
    r.established = false;
    r.lastError = undefined;
    if (this.opts.passive && peer.password !== '') {
      log.warn({ op: 'syncPeers', error: 'password with --bgp-listen', msg: 'the listener sets no TCP-MD5 key: this peer\'s signed connections are dropped by the kernel' });
    }
    this.opts.metrics.sessionUp(key, false);
    this.opts.metrics.prefixes(key, 0, this.desired.size);
    session.setRoutes(this.desired);
    session.start();
  }

  private stopSession(key: string, reason: SessionStopReason): void {
    const r = this.sessions.get(key);
    if (r === undefined) return;
    this.sessions.delete(key);
    this.opts.logger.info({ event: 'peerRemoved', peer: key, reason, msg: 'stopping the session with Cease' });
    r.session?.stop({ kind: 'cease', subcode: ceaseSubcodeFor(reason), why: reason });
    if (r.bfd) this.opts.bfd?.remove(r.bfd.address, r.bfd.watch).catch(() => undefined);
    this.opts.metrics.removePeer(key);
  }

  /** Addresses of `family` on the interface holding `local` (global scope only), in address order. */
  private interfaceOf(local: IpAddr, family: Family): IpAddr[] {
    for (const addrs of Object.values(this.interfaces())) {
      const parsed = (addrs ?? []).map((a) => parseIp(a.address.split('%')[0]!)).filter((a): a is IpAddr => a !== undefined);
      if (parsed.some((a) => ipEquals(a, local))) return parsed.filter((a) => a.family === family && isGlobal(a)).sort(compareIp);
    }
    return [];
  }

  /** The first global address of `family` on a non-loopback interface (LoadBalancer IPs sit on lo). */
  private anyGlobal(family: Family): IpAddr | undefined {
    for (const addrs of Object.values(this.interfaces())) {
      for (const a of addrs ?? []) {
        if (a.internal) continue;
        const ip = parseIp(a.address.split('%')[0]!);
        if (ip !== undefined && ip.family === family && isGlobal(ip)) return ip;
      }
    }
    return undefined;
  }

  private interfaces(): NodeJS.Dict<NetworkInterfaceInfo[]> {
    return (this.opts.interfaces ?? networkInterfaces)();
  }
}

/** ::ffff:a.b.c.d (an IPv4 peer on a dual-stack `[::]` listener) → a.b.c.d. */
function unmapped(ip: IpAddr | undefined): IpAddr | undefined {
  if (ip === undefined || ip.family === 4 || ip.value >> 32n !== 0xffffn) return ip;
  return { family: 4, value: ip.value & 0xffffffffn };
}

/** Not loopback, link-local or unspecified. */
function isGlobal(ip: IpAddr): boolean {
  if (ip.family === 4) {
    const first = Number(ip.value >> 24n);
    return first !== 127 && first !== 0 && !(first === 169 && Number((ip.value >> 16n) & 255n) === 254);
  }
  const top = Number(ip.value >> 118n);
  return ip.value > 1n && top !== 0x3fa; // fe80::/10
}
