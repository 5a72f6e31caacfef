/**
 * One BGP session over a real TCP socket: the pure FSM (src/core/bgp/fsm.ts) driven by `net.Socket` events
 * and an injected Clock, plus the session's Adj-RIB-Out (rib-out.ts). Thin on purpose: every decision is the
 * reducer's; this file only carries out actions. The speaker keeps one per selected peer (speaker-bgp.ts).
 */
import net from 'node:net';
import { type Clock } from '../clock.js';
import { dial } from './md5-dialer.js';
import { type Family, type IpAddr, parseIp } from '../../core/ip/index.js';
import { type Logger, NOOP_LOGGER } from '../../core/ports.js';
import {
  BgpFramer, type FsmAction, type FsmEvent, type FsmSnapshot, type Negotiated, type RibOutContext, type Route, type RouteTable,
  type SessionConfig, type StopReason, type TimerName, initialSnapshot, initialUpdates, planUpdates, refreshUpdates, step,
} from '../../core/bgp/index.js';

/** Where and how to connect, and what the routes' next hops are. */
export interface BgpSessionOptions {
  readonly config: SessionConfig;
  readonly peerAddress: string;
  readonly peerPort: number;
  /** source-address: bind the connection to it (it is then also the next hop, spec §6.4). */
  readonly sourceAddress?: string | undefined;
  /** TCP-MD5 key (RFC 2385, spec §6.2 `password`); with it or a source address, md5-dialer.ts dials. */
  readonly password?: string | undefined;
  readonly clock: Clock;
  /** BGP Identifier for a connection with this local address (core/bgp/router-id.ts). */
  readonly routerId: (localAddress: IpAddr) => number;
  /** Next hop for the family that is not the connection's own (the node's other-family address, found from the local one). */
  readonly otherFamilyNextHop?: (family: Family, localAddress: IpAddr) => IpAddr | undefined;
  readonly log?: Logger | undefined;
  /**
   * Passive (`--bgp-listen`): never dial; wait for the peer's connection, handed over by offer(). The FSM's
   * Connect state then means "waiting for the peer" (RFC 4271 §8.2.1.4 PassiveTcpEstablishment).
   */
  readonly passive?: boolean | undefined;
  /** Observers for metrics and tests. */
  readonly onUp?: ((n: Negotiated) => void) | undefined;
  readonly onDown?: ((reason: string, graceful: boolean) => void) | undefined;
  /** Each failure of the session or of a connection attempt (refused, timed out, NOTIFICATION), with its reason. */
  readonly onError?: ((reason: string) => void) | undefined;
  /** Each UPDATE written (a batch of withdrawals counts once, as v0.11's `updates_total`). */
  readonly onUpdateSent?: (() => void) | undefined;
  /** After each change: prefixes the peer has from us, and the desired prefixes of the families the session carries. */
  readonly onRoutes?: ((announced: number, desired: number) => void) | undefined;
  /**
   * Called once per run of silent connect failures with a password set: the kernel drops segments whose
   * TCP-MD5 signature is wrong or missing, so a key mismatch shows only as connects that get no answer.
   */
  readonly onSuspectedPasswordMismatch?: ((silentFailures: number) => void) | undefined;
}

/** How long a closed connection may take to flush a final NOTIFICATION before it is destroyed, ms. */
const CLOSE_LINGER_MS = 2000;

/** Consecutive unanswered connects (with a password) before a key mismatch is suspected. */
export const SILENT_FAILURES_BEFORE_SUSPECT = 2;

/** A running session: start, stop, and the routes the peer should have. */
export class BgpSession {
  private state: FsmSnapshot;
  private socket: net.Socket | undefined;
  private generation = 0;
  private readonly timers = new Map<TimerName, () => void>();
  private desired: RouteTable = new Map();
  private advertised: Map<string, Route> = new Map();
  private ctx: RibOutContext | undefined;
  private readonly log: Logger;
  private readonly opts: BgpSessionOptions;
  /** Cancels the native dial in flight (no answer yet); undefined when none. */
  private pendingDial: (() => void) | undefined;
  private silentFailures = 0;
  /** Passive: the generation of the Connect state waiting for the peer's connection; undefined when not waiting. */
  private awaiting: number | undefined;

  constructor(opts: BgpSessionOptions) {
    this.opts = opts;
    this.state = initialSnapshot(opts.config);
    const host = opts.peerAddress.includes(':') ? `[${opts.peerAddress}]` : opts.peerAddress;
    this.log = (opts.log ?? NOOP_LOGGER).child({ peer: `${host}:${opts.peerPort}` });
  }

  /** The FSM state name, for metrics and tests. */
  get fsmState(): FsmSnapshot['state'] {
    return this.state.state;
  }

  /**
   * Passive: the peer's incoming connection (already checked to come from this peer's address). Taken when the
   * session waits for one (Connect) or is between attempts (Idle, the backoff is cut short); refused (false,
   * the caller closes it) while a connection is in use: the existing one wins (RFC 4271 §6.8, simplified).
   */
  offer(socket: net.Socket): boolean {
    if (!this.opts.passive || !this.state.running) return false;
    if (this.state.state === 'idle') {
      this.timers.get('idleHold')?.();
      this.timers.delete('idleHold');
      this.dispatch({ type: 'timerFired', timer: 'idleHold' });
    }
    if (this.state.state !== 'connect' || this.awaiting !== this.generation) return false;
    this.awaiting = undefined;
    const gen = this.generation;
    this.attach(socket, () => gen === this.generation);
    this.connected(socket);
    return true;
  }

  start(): void {
    this.dispatch({ type: 'start' });
  }

  stop(reason: StopReason): void {
    this.dispatch({ type: 'stop', reason });
  }

  /** Sets the routes the peer should have; only the difference is sent, and only when Established. */
  setRoutes(desired: RouteTable): void {
    this.desired = desired;
    if (this.ctx !== undefined) {
      const plan = planUpdates(this.advertised, desired, this.ctx);
      this.advertised = plan.advertised;
      this.dispatch({ type: 'sendUpdates', frames: plan.frames });
    }
    this.reportRoutes();
  }

  private reportRoutes(): void {
    // Pending: what the peer should have, i.e. the desired routes of the families this session carries.
    const families = this.ctx?.families;
    let pending = 0;
    for (const r of this.desired.values()) if (families === undefined || families.includes(r.prefix.base.family)) pending++;
    this.opts.onRoutes?.(this.advertised.size, pending);
  }

  private dispatch(e: FsmEvent): void {
    const r = step(this.state, e);
    this.state = r.state;
    for (const a of r.actions) this.carryOut(a);
  }

  private carryOut(a: FsmAction): void {
    switch (a.type) {
      case 'connect':
        return this.connect();
      case 'close':
        if (this.pendingDial) this.silentFailure(); // the FSM's connectRetry fired before any answer
        this.pendingDial?.();
        this.pendingDial = undefined;
        this.generation++;
        if (this.socket) {
          // end(), not destroy(): a NOTIFICATION written just before must reach the peer (destroy drops
          // unflushed data); the socket is destroyed anyway once the peer had time to read it.
          const socket = this.socket;
          socket.end();
          const t = setTimeout(() => socket.destroy(), CLOSE_LINGER_MS);
          t.unref();
        }
        this.socket = undefined;
        return;
      case 'send':
        this.socket?.write(a.frame);
        if (a.message === 'update') this.opts.onUpdateSent?.();
        return;
      case 'setTimer': {
        this.timers.get(a.timer)?.();
        const gen = this.generation;
        this.timers.set(a.timer, this.opts.clock.setTimer(a.ms, () => {
          this.timers.delete(a.timer);
          // A connection-scoped timer of a closed connection is stale; idleHold outlives connections.
          if (a.timer === 'idleHold' || gen === this.generation) this.dispatch({ type: 'timerFired', timer: a.timer });
        }));
        return;
      }
      case 'clearTimer':
        this.timers.get(a.timer)?.();
        this.timers.delete(a.timer);
        return;
      case 'up': {
        const n = a.negotiated;
        const own = n.localAddress.family;
        const other: Family = own === 4 ? 6 : 4;
        this.ctx = { localAs: n.localAs, ibgp: n.ibgp, fourOctetAs: n.fourOctetAs, families: n.families, nextHops: { [own]: n.localAddress, [other]: this.opts.otherFamilyNextHop?.(other, n.localAddress) } };
        this.log.info({ event: 'sessionUp', msg: 'BGP session established', holdTime: n.holdTimeSeconds, families: n.families });
        this.opts.onUp?.(n);
        const plan = initialUpdates(this.desired, this.ctx);
        this.advertised = plan.advertised;
        this.dispatch({ type: 'sendUpdates', frames: plan.frames });
        this.reportRoutes();
        return;
      }
      case 'down':
        this.ctx = undefined;
        this.advertised = new Map();
        this.reportRoutes();
        this.log.info({ event: 'sessionDown', msg: 'BGP session down', reason: a.reason, graceful: a.graceful });
        this.opts.onDown?.(a.reason, a.graceful);
        return;
      case 'error':
        this.log.error({ op: 'session', error: a.reason, msg: 'BGP session failed', notification: a.sentNotification });
        this.opts.onError?.(a.reason);
        return;
      case 'routeRefresh':
        if (this.ctx !== undefined) this.dispatch({ type: 'sendUpdates', frames: refreshUpdates(this.advertised, a.family, this.ctx) });
        return;
      case 'updateError':
        this.log.warn({ op: 'receiveUpdate', error: a.reason, handling: a.handling, msg: 'malformed UPDATE from peer' });
        return;
    }
  }

  /** An unanswered connect; with a password, a run of them is reported once as a suspected key mismatch. */
  private silentFailure(): void {
    if (this.opts.password === undefined) return;
    this.silentFailures++;
    if (this.silentFailures !== SILENT_FAILURES_BEFORE_SUSPECT) return;
    this.log.warn({
      op: 'connect', event: 'suspectedPasswordMismatch', silentFailures: this.silentFailures,
      msg: 'connects get no answer: the TCP-MD5 password probably differs from the peer\'s (the kernel drops such segments silently)',
    });
    this.opts.onSuspectedPasswordMismatch?.(this.silentFailures);
  }

  private connect(): void {
    const gen = ++this.generation;
    const live = () => gen === this.generation;
    if (this.opts.passive) {
      this.awaiting = gen;
      return;
    }
    if (this.opts.password === undefined && this.opts.sourceAddress === undefined) {
      const socket = net.connect({ host: this.opts.peerAddress, port: this.opts.peerPort });
      socket.on('connect', () => { if (live()) this.connected(socket); });
      this.attach(socket, live);
      return;
    }
    this.pendingDial = dial({
      peerAddress: this.opts.peerAddress, peerPort: this.opts.peerPort, sourceAddress: this.opts.sourceAddress,
      password: this.opts.password, timeoutMs: this.opts.config.connectTimeoutMs,
    }, (r) => {
      this.pendingDial = undefined;
      if (!live()) { if (r.ok) r.socket.destroy(); return; }
      if (!r.ok) {
        if (r.timedOut) this.silentFailure();
        else this.silentFailures = 0;
        return this.dispatch({ type: 'tcpClosed', error: r.error });
      }
      this.attach(r.socket, live);
      this.connected(r.socket);
    });
  }

  private connected(socket: net.Socket): void {
    this.silentFailures = 0;
    const local = parseIp(socket.localAddress ?? '');
    if (local === undefined) return this.dispatch({ type: 'tcpClosed', error: `unusable local address ${socket.localAddress}` });
    this.dispatch({ type: 'tcpConnected', localAddress: local, routerId: this.opts.routerId(local) });
  }

  private attach(socket: net.Socket, live: () => boolean): void {
    const framer = new BgpFramer();
    socket.setNoDelay(true);
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      if (!live()) return;
      const out = framer.push(chunk);
      for (const frame of out.frames) {
        if (!live()) return;
        this.dispatch({ type: 'message', frame });
      }
      if (out.error && live()) this.dispatch({ type: 'decodeError', error: out.error });
    });
    socket.on('error', (err) => {
      if (live()) this.dispatch({ type: 'tcpClosed', error: err.message });
    });
    socket.on('close', () => {
      if (live()) this.dispatch({ type: 'tcpClosed' });
    });
  }
}
