/**
 * The membership node: runs the pure detector (src/core/membership/detector.ts) over a UDP socket (probes
 * and gossip) and a TCP listener (state sync) on `--ml-bindaddr`:`--ml-bindport` (default 7946), with timers
 * from an injected Clock. It implements the speaker's `Membership` port (alive() / onChange()).
 *
 * Everything from the wire goes through decodeFrame first; a drop is counted by reason (`drops`), the
 * `foreign` kind (hashicorp memberlist: a MetalLB speaker in a mixed rollout) logged once per source. A decoded
 * frame names its sender by member id (frame v2); MemberIds maps it to the node name from the members the
 * detector reported (src/core/membership/member-id.ts; sealing and opening in FrameEndpoint, endpoint.ts), and two names with one id are logged once
 * (`memberIdCollision`).
 * No throw escapes a socket callback: bad input never crashes the speaker.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { aliveNames, createMembership, knownMembers, step, type MembershipState } from '../../core/membership/detector.js';
import { FrameEndpoint } from '../../core/membership/endpoint.js';
import { socketDrops } from './kernel-drops.js';
import { DROP_REASONS, peekFrame, MAX_BODY_BYTES, type Aead, type DropReason } from '../../core/membership/frame.js';
import type { Member, MembershipAction, MembershipEvent, MembershipTiming, Packet } from '../../core/membership/types.js';
import type { Logger } from '../../core/ports.js';
import type { Clock } from '../clock.js';
import { aesGcm, keyFromSecret } from './crypto.js';

export interface MembershipNodeOptions {
  /** Member name: the node name (spec §5.3: must equal spec.nodeName). */
  readonly name: string;
  readonly bindAddr: string;
  /** 0 picks a free port (tests); the speaker passes --ml-bindport. */
  readonly bindPort: number;
  /** METALLB_ML_SECRET_KEY; undefined or '' = unauthenticated gossip (v0.11 warns and does the same). */
  readonly secret?: string;
  readonly timing: MembershipTiming;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly meta?: Uint8Array;
  /** TCP state-sync deadline, ms (connect + one frame each way). */
  readonly syncTimeoutMs?: number;
}

/** "host:port", IPv6 in brackets. */
export function formatAddr(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Sources of hashicorp memberlist traffic logged at most, each once (a mixed rollout has one per MetalLB speaker). */
export const FOREIGN_LOGGED_HOSTS = 64;

/** Inverse of formatAddr; undefined for anything else. */
export function parseAddr(addr: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(addr);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (m[1] ?? m[2])!, port };
}

const SECONDS_2020 = 1_577_836_800;

/** SO_RCVBUF asked for the gossip UDP socket, bytes (Linux grants min(this, net.core.rmem_max) × 2). */
export const UDP_RECV_BUFFER_BYTES = 2 * 1024 * 1024;

export class MembershipNode {
  readonly name: string;
  readonly addr: string;
  readonly drops: Record<DropReason, number> = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  /** Frames and bytes sent, by channel (metrics and the bench). */
  readonly sent = { udpFrames: 0, udpBytes: 0, tcpFrames: 0, tcpBytes: 0 };
  /**
   * Detector verdicts seen here, cumulative (metrics and the soak bench): suspicions this node raised from its
   * own failed probes (`suspectedLocal`) or first heard from others (`suspectedRemote`); members it marked dead
   * by its own expired suspicion (`failedLocal`) or on another's word (`failedRemote`); accusations of itself it
   * refuted; verdicts deferred because a timer fired late (event-loop lag).
   */
  readonly verdicts = { suspectedLocal: 0, suspectedRemote: 0, failedLocal: 0, failedRemote: 0, refuted: 0, lateTimers: 0 };
  private state: MembershipState;
  private readonly udp: dgram.Socket;
  private readonly tcp: net.Server;
  private readonly aead: Aead | undefined;
  private readonly wire: FrameEndpoint;
  private readonly timers = new Map<string, () => void>();
  private readonly conns = new Map<number, net.Socket>();
  private nextConn = 0;
  private readonly listeners = new Set<() => void>();
  private readonly refuteListeners = new Set<() => void>();
  /** Hosts (not host:port: every socket and TCP connection has its own port) whose foreign traffic was logged. */
  private readonly foreignLogged = new Set<string>();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly syncTimeoutMs: number;
  private closed = false;
  private readonly bound: { readonly addr: string; readonly port: number };

  private constructor(opts: MembershipNodeOptions, udp: dgram.Socket, tcp: net.Server, port: number) {
    this.name = opts.name;
    this.addr = formatAddr(opts.bindAddr, port);
    // The socket's own address: a host name resolved, `::ffff:a.b.c.d` and zones as the kernel lists them.
    this.bound = { addr: udp.address().address, port };
    this.udp = udp;
    this.tcp = tcp;
    this.clock = opts.clock;
    this.logger = opts.logger.child({ component: 'memberlist' });
    this.syncTimeoutMs = opts.syncTimeoutMs ?? 5_000;
    this.aead = opts.secret ? aesGcm([keyFromSecret(opts.secret)]) : undefined;
    this.wire = new FrameEndpoint({
      name: opts.name, epoch: Date.now(), salt: () => randomBytes(4).readUInt32BE(0), now: Date.now, aead: this.aead,
      onCollision: (id, kept, other) => this.logger.warn({
        op: 'memberlist', event: 'memberIdCollision', id: id.toString(16).padStart(8, '0'), node: kept, other,
        msg: `nodes ${kept} and ${other} have the same member id; frames from ${other} are taken as ${kept}'s (rename one node)`,
      }),
    });
    this.state = createMembership({
      name: opts.name, addr: this.addr, timing: opts.timing, meta: opts.meta,
      seed: randomBytes(4).readUInt32BE(0),
      // Seconds since 2020: a restarted speaker starts above anything its previous life reached by refuting.
      incarnation: Math.max(0, Math.floor(Date.now() / 1000) - SECONDS_2020),
    });
  }

  /** Binds UDP and TCP on the same address and port, then starts probing. Rejects if either cannot bind. */
  static async start(opts: MembershipNodeOptions): Promise<MembershipNode> {
    if (!opts.secret) opts.logger.warn({ op: 'startup', msg: 'no ml-secret-key set, memberlist traffic will not be encrypted' });
    // A 2 MiB receive buffer (memberlist's too; the kernel caps it at net.core.rmem_max): a burst of gossip that
    // arrives while the event loop is busy waits in the socket instead of being dropped (RcvbufErrors), and a
    // dropped ack or refutation is a false suspicion.
    const udp = dgram.createSocket({ type: opts.bindAddr.includes(':') ? 'udp6' : 'udp4', recvBufferSize: UDP_RECV_BUFFER_BYTES });
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(opts.bindPort, opts.bindAddr, () => { udp.off('error', reject); resolve(); });
      });
    } catch (err) {
      try { udp.close(); } catch { /* never bound */ }
      throw err;
    }
    const port = udp.address().port;
    const tcp = net.createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, opts.bindAddr, () => { tcp.off('error', reject); resolve(); });
      });
    } catch (err) {
      udp.close();
      throw err;
    }
    const node = new MembershipNode(opts, udp, tcp, port);
    udp.on('message', (buf, rinfo) => node.onDatagram(buf, formatAddr(rinfo.address, rinfo.port)));
    udp.on('error', (err) => node.logger.error({ op: 'memberlist', error: err.message, msg: 'UDP socket error' }));
    tcp.on('connection', (sock) => node.onConnection(sock));
    tcp.on('error', (err) => node.logger.error({ op: 'memberlist', error: err.message, msg: 'TCP listener error' }));
    node.dispatch({ kind: 'start', now: node.clock.now() });
    const t = opts.timing;
    node.logger.info({
      event: 'memberlistStarted', addr: node.addr, encrypted: node.aead !== undefined,
      probeIntervalMs: t.probeIntervalMs, probeTimeoutMs: t.probeTimeoutMs, suspicionMult: t.suspicionMult,
      passiveRounds: t.recentContactMult, indirectChecks: t.indirectChecks, msg: 'memberlist started',
    });
    return node;
  }

  /** The speaker's Membership port: names of members alive or suspect, ourselves included. */
  alive(): ReadonlySet<string> { return aliveNames(this.state); }
  onChange(listener: () => void): () => void { this.listeners.add(listener); return () => { this.listeners.delete(listener); }; }
  members(): Member[] { return knownMembers(this.state); }

  /**
   * Datagrams the kernel dropped for the UDP socket so far because its receive buffer was full (they never reach
   * `drops`); undefined where /proc/self/net/udp does not list the socket (src/adapters/membership/kernel-drops.ts).
   */
  kernelDrops(): number | undefined { return socketDrops(this.bound.addr, this.bound.port); }
  /**
   * Calls `listener` when this node refuted a suspicion or death of itself: the others may have moved its IPs
   * meanwhile (a frozen speaker that resumes), so the speaker re-announces what it owns.
   */
  onRefuted(listener: () => void): () => void { this.refuteListeners.add(listener); return () => { this.refuteListeners.delete(listener); }; }
  /** Local health (Lifeguard), 0 = healthy. */
  health(): number { return this.state.health; }
  /** The UDP socket's receive buffer as the kernel granted it, bytes. */
  recvBufferBytes(): number { return this.udp.getRecvBufferSize(); }

  /** Sync with these addresses (discovery: speaker Pod IPs with the bind port). */
  join(addrs: readonly string[]): void { this.dispatch({ kind: 'join', now: this.clock.now(), addrs }); }
  setMeta(meta: Uint8Array): void { this.dispatch({ kind: 'set-meta', now: this.clock.now(), meta }); }

  /** Graceful leave (SIGTERM): tell everyone, give the datagrams a moment to leave, then close. */
  async leave(): Promise<void> {
    this.dispatch({ kind: 'leave', now: this.clock.now() });
    await new Promise<void>((r) => setImmediate(r));
    await this.close();
  }

  /** Closes the sockets without a goodbye (as a crash would, for tests). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
    for (const s of this.conns.values()) s.destroy();
    await Promise.all([
      new Promise<void>((r) => this.udp.close(() => r())),
      new Promise<void>((r) => this.tcp.close(() => r())),
    ]);
  }

  private dispatch(event: MembershipEvent): void {
    if (this.closed) return;
    const { state, actions } = step(this.state, event);
    this.state = state;
    this.wire.follow(actions, this.state.members);
    for (const a of actions) this.act(a);
    // alive() changes exactly when a member goes up or down (suspects count as up).
    if (actions.some((a) => a.kind === 'member-up' || a.kind === 'member-down')) for (const l of [...this.listeners]) l();
    if (actions.some((a) => a.kind === 'refuted')) for (const l of [...this.refuteListeners]) l();
  }

  private frame(packet: Packet, channel: 'udp' | 'tcp'): Buffer {
    return this.wire.seal(packet.messages, channel);
  }

  private act(a: MembershipAction): void {
    switch (a.kind) {
      case 'send': {
        const to = parseAddr(a.to);
        if (!to) return;
        const buf = this.frame(a.packet, 'udp');
        this.sent.udpFrames++; this.sent.udpBytes += buf.length;
        this.udp.send(buf, to.port, to.host, () => { /* send errors (unreachable) are loss to the detector */ });
        return;
      }
      case 'sync': this.syncWith(a.to, this.frame(a.packet, 'tcp')); return;
      case 'sync-reply': {
        const sock = this.conns.get(a.conn);
        this.conns.delete(a.conn);
        if (!sock) return;
        const buf = this.frame(a.packet, 'tcp');
        this.sent.tcpFrames++; this.sent.tcpBytes += buf.length;
        sock.end(buf);
        return;
      }
      case 'set-timer': {
        this.timers.get(a.id)?.();
        // The verdict runs after the poll phase that follows its timer (setImmediate), never in the timers phase:
        // an ack or a refutation that reached the socket while the timer was due, however little late it fired, is
        // read before the detector decides. (Node runs due timers before it reads sockets; the detector's own
        // late-timer guard only sees lateness above lateToleranceMs.)
        let immediate: NodeJS.Immediate | undefined;
        const cancel = this.clock.setTimer(a.at - this.clock.now(), () => {
          immediate = setImmediate(() => {
            this.timers.delete(a.id);
            this.dispatch({ kind: 'timer', id: a.id, now: this.clock.now() });
          });
        });
        this.timers.set(a.id, () => { cancel(); if (immediate) clearImmediate(immediate); });
        return;
      }
      case 'clear-timer': this.timers.get(a.id)?.(); this.timers.delete(a.id); return;
      case 'member-up': this.logger.info({ event: 'memberJoined', node: a.member.name, addr: a.member.addr, msg: 'member joined' }); return;
      case 'member-down':
        if (a.member.status === 'dead') { if (a.from === this.name) this.verdicts.failedLocal++; else this.verdicts.failedRemote++; }
        this.logger.info({ event: a.member.status === 'left' ? 'memberLeft' : 'memberFailed', node: a.member.name, from: a.from, incarnation: a.member.incarnation, msg: `member ${a.member.status}` });
        return;
      case 'member-updated': this.logger.info({ event: 'memberUpdated', node: a.member.name, msg: 'member updated' }); return;
      case 'member-suspect':
        if (a.from === this.name) this.verdicts.suspectedLocal++; else this.verdicts.suspectedRemote++;
        this.logger.info({ event: 'memberSuspect', node: a.member.name, from: a.from, incarnation: a.member.incarnation, msg: 'member suspected' });
        return;
      case 'refuted': this.verdicts.refuted++; this.logger.info({ event: 'refuted', incarnation: a.incarnation, msg: 'refuted a suspicion of this node' }); return;
      case 'late-timer': this.verdicts.lateTimers++; this.logger.debug({ event: 'lateTimer', timer: a.id, lateMs: Math.round(a.lateMs), msg: 'timer fired late; verdict not trusted' }); return;
    }
  }

  private drop(reason: DropReason, from: string, detail: string): void {
    this.drops[reason]++;
    if (reason !== 'foreign') return;
    const host = parseAddr(from)?.host ?? from;
    // Bounded: spoofed sources cannot grow the set or flood the log; the drop counter still counts everything.
    if (this.foreignLogged.has(host) || this.foreignLogged.size >= FOREIGN_LOGGED_HOSTS) return;
    this.foreignLogged.add(host);
    this.logger.warn({
      op: 'memberlist', from, error: detail,
      msg: this.foreignLogged.size === FOREIGN_LOGGED_HOSTS
        ? `dropping hashicorp memberlist traffic (a MetalLB speaker?); replace all speakers at once; further sources are not logged (${FOREIGN_LOGGED_HOSTS} logged)`
        : 'dropping hashicorp memberlist traffic (a MetalLB speaker?); replace all speakers at once',
    });
  }

  private onDatagram(buf: Buffer, from: string): void {
    try {
      const r = this.wire.open(buf, 'udp');
      if (!r.ok) { this.drop(r.reason, from, r.detail); return; }
      this.dispatch({ kind: 'packet', now: this.clock.now(), from, packet: r.packet, via: 'udp' });
    } catch (err) {
      this.logger.error({ op: 'memberlist', error: String(err), msg: 'unexpected error handling a datagram' });
    }
  }

  /** Reads exactly one frame from `sock` (TCP), or fails with a drop reason or a socket error. */
  private readFrame(sock: net.Socket, onFrame: (buf: Buffer) => void, onFail: (why: string, reason?: DropReason) => void): void {
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (): void => { done = true; sock.removeAllListeners('data'); };
    sock.setTimeout(this.syncTimeoutMs, () => { if (!done) { finish(); onFail('timeout'); } sock.destroy(); });
    sock.on('data', (chunk: Buffer) => {
      if (done) return;
      buf = Buffer.concat([buf, chunk]);
      const peek = peekFrame(buf, 'tcp');
      if (!peek.ok) {
        if (peek.reason === 'truncated') return; // header still incomplete
        finish(); onFail(peek.detail, peek.reason); sock.destroy(); return;
      }
      if (buf.length > MAX_BODY_BYTES + 64) { finish(); onFail('too large', 'malformed'); sock.destroy(); return; }
      if (buf.length >= peek.frameBytes) { finish(); onFrame(buf.subarray(0, peek.frameBytes)); }
    });
    sock.on('end', () => { if (!done) { finish(); onFail('closed before a whole frame', 'truncated'); } });
    sock.on('error', (err) => { if (!done) { finish(); onFail(err.message); } });
  }

  private onConnection(sock: net.Socket): void {
    const from = formatAddr(sock.remoteAddress ?? '?', sock.remotePort ?? 0);
    this.readFrame(sock, (buf) => {
      const r = this.wire.open(buf, 'tcp');
      if (!r.ok) { this.drop(r.reason, from, r.detail); sock.destroy(); return; }
      const conn = ++this.nextConn;
      this.conns.set(conn, sock);
      this.dispatch({ kind: 'packet', now: this.clock.now(), from, packet: r.packet, via: 'tcp', conn });
      // No reply wanted (a reply frame, or we left): just close.
      if (this.conns.delete(conn)) sock.end();
    }, (why, reason) => { if (reason) this.drop(reason, from, why); });
  }

  private syncWith(addr: string, frame: Buffer): void {
    const to = parseAddr(addr);
    const failed = (): void => this.dispatch({ kind: 'sync-failed', now: this.clock.now(), to: addr });
    if (!to) { failed(); return; }
    this.sent.tcpFrames++; this.sent.tcpBytes += frame.length;
    const sock = net.connect({ host: to.host, port: to.port, localAddress: parseAddr(this.addr)?.host });
    sock.on('connect', () => sock.write(frame));
    this.readFrame(sock, (buf) => {
      sock.end();
      const r = this.wire.open(buf, 'tcp');
      if (!r.ok) { this.drop(r.reason, addr, r.detail); failed(); return; }
      this.dispatch({ kind: 'packet', now: this.clock.now(), from: addr, packet: r.packet, via: 'tcp' });
    }, (why, reason) => { if (reason) this.drop(reason, addr, why); failed(); sock.destroy(); });
  }
}
