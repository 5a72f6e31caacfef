/**
 * The speaker's BFD: one session per BGP peer address that has a `bfd-profile` (RFC 5880 asynchronous mode; RFC
 * 5881 single hop on 3784, RFC 5883 multihop on 4784 for peers with `ebgp-multihop`), shared by every BGP session
 * to that address. Receive sockets are bound to the wildcard address per (family, port) and opened on first use;
 * each carries the kernel TTL filter (255 single hop; multihop: the lowest `minimum-ttl` of its sessions, since
 * one socket serves them all and the kernel cannot tell sessions apart). Owners are told every state change
 * (`onState`), logged as `op: "bfd"` and counted in MetalLB's `metallb_bfd_*` metrics.
 */
import { type BfdPeerSessionConfig, type BfdState, diagName } from '../../core/bfd/index.js';
import { parseIp } from '../../core/ip/index.js';
import type { Logger } from '../../core/ports.js';
import { openBfdSessions, type AttachTtlFilter, type BfdSessions, type BfdStateChange } from './sessions.js';
import type { BfdMetrics } from './metrics.js';

export interface SpeakerBfdOptions {
  readonly logger: Logger;
  readonly metrics: BfdMetrics;
  readonly attachTtlFilter: AttachTtlFilter;
  readonly random?: () => number;
}

/** A BGP session's interest in one BFD session. */
export interface BfdWatch {
  /** Called on every state change of the peer's session, after the session's own bookkeeping. */
  readonly onState: (change: BfdStateChange) => void;
}

interface PeerSession {
  readonly config: BfdPeerSessionConfig;
  readonly socketKey: string;
  readonly watchers: Set<BfdWatch>;
  state: BfdState;
  sessions?: BfdSessions;
}

export class SpeakerBfd {
  private readonly opts: SpeakerBfdOptions;
  private readonly sockets = new Map<string, Promise<BfdSessions>>();
  private readonly peers = new Map<string, PeerSession>();
  /** Serialises adds and removes so a quick remove-then-add of one peer keeps its order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(opts: SpeakerBfdOptions) {
    this.opts = opts;
  }

  /** The state of `peer`'s session (undefined: none). */
  state(peer: string): BfdState | undefined {
    return this.peers.get(peer)?.state;
  }

  /** Our discriminator for `peer`'s session (tests: to forge a packet naming it). */
  discriminator(peer: string): number | undefined {
    return this.peers.get(peer)?.sessions?.discriminator(peer);
  }

  /** Control packets in and out of `peer`'s session. */
  counters(peer: string): { packetsIn: number; packetsOut: number } | undefined {
    return this.peers.get(peer)?.sessions?.counters(peer);
  }

  /**
   * Watches `peer`'s session, starting it if it is new (a second watcher shares it: the first profile wins,
   * a differing one is logged). Resolves once the session runs; rejects if its socket cannot be opened or
   * filtered (the caller then keeps the BGP session down and says why).
   */
  add(peer: string, config: BfdPeerSessionConfig, watch: BfdWatch, sourceAddress?: string): Promise<void> {
    return this.serial(async () => {
      const existing = this.peers.get(peer);
      if (existing) {
        if (JSON.stringify(existing.config) !== JSON.stringify(config)) {
          this.opts.logger.warn({ op: 'bfd', peer, msg: 'two BGP peers on one address ask for different BFD profiles; the first one is used' });
        }
        existing.watchers.add(watch);
        if (existing.state !== 'Down') watch.onState({ peer, from: 'Down', to: existing.state, diag: 0 });
        return;
      }
      const family = parseIp(peer)?.family === 6 ? 6 : 4;
      const socketKey = `${family}|${config.port}`;
      const entry: PeerSession = { config, socketKey, watchers: new Set([watch]), state: 'Down' };
      this.peers.set(peer, entry);
      try {
        const sessions = await this.socket(family, config.port);
        if (config.multihop) await sessions.setMinimumTtl(this.lowestMinimumTtl(socketKey));
        await sessions.addPeer(peer, config, sourceAddress);
        entry.sessions = sessions;
      } catch (err) {
        this.peers.delete(peer);
        throw err;
      }
      this.opts.metrics.sessionUp(peer, false);
      this.opts.logger.info({ op: 'bfd', event: 'sessionAdded', peer, multihop: config.multihop, port: config.port,
        txMs: config.session.desiredMinTxIntervalUs / 1000, rxMs: config.session.requiredMinRxIntervalUs / 1000,
        detectMultiplier: config.session.detectMult, passive: config.session.passive, minimumTtl: config.minimumReceivedTtl,
        msg: 'BFD session started' });
    });
  }

  /** Drops a watcher; the last one's leaving ends the session with AdminDown (RFC 5880 §6.8.16). */
  remove(peer: string, watch: BfdWatch): Promise<void> {
    return this.serial(async () => {
      const entry = this.peers.get(peer);
      if (!entry || !entry.watchers.delete(watch) || entry.watchers.size > 0) return;
      this.peers.delete(peer);
      const sessions = await this.sockets.get(entry.socketKey);
      await sessions?.removePeer(peer);
      this.opts.metrics.removePeer(peer);
      this.opts.logger.info({ op: 'bfd', event: 'sessionRemoved', peer, msg: 'BFD session stopped (AdminDown sent)' });
    });
  }

  /** Ends every session (AdminDown) and closes the sockets. */
  async close(): Promise<void> {
    await this.serial(async () => {
      for (const p of this.sockets.values()) {
        try { await (await p).close(); } catch { /* never opened */ }
      }
      for (const peer of this.peers.keys()) this.opts.metrics.removePeer(peer);
      this.sockets.clear();
      this.peers.clear();
    });
  }

  private serial(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private lowestMinimumTtl(socketKey: string): number {
    let lowest = 255;
    for (const p of this.peers.values()) if (p.socketKey === socketKey) lowest = Math.min(lowest, p.config.minimumReceivedTtl);
    return lowest;
  }

  private socket(family: 4 | 6, port: number): Promise<BfdSessions> {
    const key = `${family}|${port}`;
    let p = this.sockets.get(key);
    if (p === undefined) {
      p = openBfdSessions({
        localAddress: family === 4 ? '0.0.0.0' : '::', family, port,
        attachTtlFilter: this.opts.attachTtlFilter,
        onStateChange: (c) => this.changed(c),
        onPacket: (peer, direction) => (direction === 'in' ? this.opts.metrics.packetIn(peer) : this.opts.metrics.packetOut(peer)),
        ...(this.opts.random ? { random: this.opts.random } : {}),
      });
      this.sockets.set(key, p);
      p.catch(() => { if (this.sockets.get(key) === p) this.sockets.delete(key); });
    }
    return p;
  }

  private changed(c: BfdStateChange): void {
    const entry = this.peers.get(c.peer);
    if (!entry) return;
    entry.state = c.to;
    if (c.to === 'Up') {
      this.opts.metrics.sessionUp(c.peer, true);
      this.opts.metrics.stateEvent(c.peer, 'up');
      this.opts.logger.info({ op: 'bfd', event: 'sessionUp', peer: c.peer, msg: 'BFD session up' });
    } else if (c.from === 'Up') {
      this.opts.metrics.sessionUp(c.peer, false);
      this.opts.metrics.stateEvent(c.peer, 'down');
      this.opts.logger.warn({ op: 'bfd', event: 'sessionDown', peer: c.peer, to: c.to, diag: diagName(c.diag), msg: 'BFD session down' });
    }
    for (const w of [...entry.watchers]) w.onState(c);
  }
}
