/**
 * A deterministic simulation of many membership detectors on a fake network and a fake clock, for the
 * detector's tests and the membership bench. One seeded PRNG drives latency, loss and the detectors' seeds,
 * so a run replays exactly from its seed.
 *
 * Faults: `kill` (the process is gone), `freeze`/`thaw` (SIGSTOP/SIGCONT: inbound packets and due timers wait,
 * and on thaw the due timers run before the waiting packets, as in Node's event loop, where expired timers run
 * before the poll phase reads sockets), `stall` (a freeze of a given length: event-loop lag), `partition`, and
 * packet loss. Every UDP packet goes through the real body codec, so bytes are real frame sizes.
 */
import { decodeBody, encodeBody } from '../../core/membership/codec.js';
import { aliveNames, createMembership, step, type MembershipState } from '../../core/membership/detector.js';
import { HEADER_BYTES, TAG_BYTES } from '../../core/membership/frame.js';
import type { Member, MembershipAction, MembershipEvent, MembershipTiming, Packet } from '../../core/membership/types.js';

/** Bytes a frame adds to a body when sealed (header + tag). UDP/IP headers are not counted. */
export const FRAME_OVERHEAD = HEADER_BYTES + TAG_BYTES;

interface SimEvent { at: number; cls: number; seq: number; member: number; event: MembershipEvent | { kind: 'thaw' } }

/** What one member saw happen to another, for assertions. */
export interface Observation { at: number; observer: string; kind: 'up' | 'down' | 'suspect' | 'updated'; member: Member }

interface SimMember {
  readonly name: string;
  readonly addr: string;
  state: MembershipState;
  killed: boolean;
  frozen: boolean;
  buffered: SimEvent[];
  udpBytesSent: number;
  tcpBytesSent: number;
  packetsSent: number;
}

export interface SimOptions {
  readonly size: number;
  readonly seed: number;
  readonly timing: MembershipTiming;
  /** One-way latency: base + uniform jitter, ms. */
  readonly latencyMs?: number;
  readonly jitterMs?: number;
  readonly loss?: number;
}

/** Min-heap on (at, cls, seq): at equal times timers (cls 0) run before packets (cls 1). */
class Heap {
  private a: SimEvent[] = [];
  get size(): number { return this.a.length; }
  peek(): SimEvent | undefined { return this.a[0]; }
  private less(x: SimEvent, y: SimEvent): boolean { return x.at < y.at || (x.at === y.at && (x.cls < y.cls || (x.cls === y.cls && x.seq < y.seq))); }
  push(e: SimEvent): void {
    const a = this.a; a.push(e);
    let i = a.length - 1;
    while (i > 0) { const p = (i - 1) >> 1; if (!this.less(a[i]!, a[p]!)) break; [a[i], a[p]] = [a[p]!, a[i]!]; i = p; }
  }
  pop(): SimEvent | undefined {
    const a = this.a; const top = a[0]; const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1; const r = l + 1; let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!]; i = m;
      }
    }
    return top;
  }
}

export class MembershipSim {
  readonly members: SimMember[] = [];
  readonly observations: Observation[] = [];
  now = 0;
  loss: number;
  private readonly heap = new Heap();
  private seq = 0;
  private rng: number;
  private readonly byAddr = new Map<string, number>();
  private blocked: (a: number, b: number) => boolean = () => false;
  private conn = 0;
  private readonly conns = new Map<number, { origin: number }>();
  private readonly latency: number;
  private readonly jitter: number;

  readonly opts: SimOptions;
  constructor(opts: SimOptions) {
    this.opts = opts;
    this.rng = opts.seed >>> 0;
    this.loss = opts.loss ?? 0;
    this.latency = opts.latencyMs ?? 0.2;
    this.jitter = opts.jitterMs ?? 0.3;
    for (let i = 0; i < opts.size; i++) {
      const name = `node-${String(i).padStart(3, '0')}`;
      const addr = `10.0.${i >> 8}.${i & 255}:7946`;
      this.byAddr.set(addr, i);
      this.members.push({
        name, addr, killed: false, frozen: false, buffered: [], udpBytesSent: 0, tcpBytesSent: 0, packetsSent: 0,
        state: createMembership({ name, addr, timing: opts.timing, seed: Math.floor(this.random() * 2 ** 32) }),
      });
    }
  }

  random(): number {
    this.rng = (this.rng + 0x6d2b79f5) >>> 0;
    let t = this.rng;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Starts every member; each joins through member 0 (as discovery would hand them its address). */
  startAll(): void {
    for (let i = 0; i < this.members.length; i++) this.inject(i, { kind: 'start', now: this.now });
    for (let i = 1; i < this.members.length; i++) this.inject(i, { kind: 'join', now: this.now, addrs: [this.members[0]!.addr] });
  }

  /** Delivers an event to member i now (through its freeze, if frozen). */
  inject(i: number, event: MembershipEvent): void {
    this.schedule(i, this.now, 1, event);
  }

  private schedule(member: number, at: number, cls: number, event: SimEvent['event']): void {
    this.heap.push({ at, cls, seq: this.seq++, member, event });
  }

  /** Runs until `until` (absolute ms). */
  runUntil(until: number): void {
    for (;;) {
      const e = this.heap.peek();
      if (!e || e.at > until) break;
      this.heap.pop();
      this.now = Math.max(this.now, e.at);
      this.dispatch(e);
    }
    this.now = until;
  }

  run(ms: number): void { this.runUntil(this.now + ms); }

  /** Runs in steps of `stepMs` until `done()` or `maxMs` passed; returns the time it took, or undefined. */
  runUntilTrue(done: () => boolean, maxMs: number, stepMs = 1): number | undefined {
    const start = this.now;
    while (this.now - start <= maxMs) {
      if (done()) return this.now - start;
      this.run(stepMs);
    }
    return done() ? this.now - start : undefined;
  }

  private dispatch(e: SimEvent): void {
    const m = this.members[e.member]!;
    if (m.killed) return;
    if (e.event.kind === 'thaw') {
      m.frozen = false;
      // Due timers first, then packets, in their original order: Node's timers phase precedes its poll phase.
      const waiting = m.buffered.sort((x, y) => x.cls - y.cls || x.at - y.at || x.seq - y.seq);
      m.buffered = [];
      for (const w of waiting) this.schedule(e.member, this.now, w.cls, w.event);
      return;
    }
    if (m.frozen) { m.buffered.push(e); return; }
    // A timer event carries its due time in `now` until it runs; one cleared or re-armed since is stale.
    if (e.event.kind === 'timer' && m.state.timers.get(e.event.id) !== e.event.now) return;
    const event = { ...e.event, now: this.now } as MembershipEvent;
    const { state, actions } = step(m.state, event);
    m.state = state;
    for (const a of actions) this.act(e.member, a);
  }

  private act(i: number, a: MembershipAction): void {
    const m = this.members[i]!;
    switch (a.kind) {
      case 'set-timer': this.schedule(i, a.at, 0, { kind: 'timer', id: a.id, now: a.at }); break;
      case 'clear-timer': break; // the state no longer lists it; dispatch drops the stale firing
      case 'send': this.sendUdp(i, a.to, a.packet); break;
      case 'sync': {
        const bytes = encodeBody(a.packet).length + FRAME_OVERHEAD;
        m.tcpBytesSent += bytes;
        const to = this.byAddr.get(a.to);
        const conn = ++this.conn;
        this.conns.set(conn, { origin: i });
        const reachable = to !== undefined && !this.members[to]!.killed && !this.blocked(i, to);
        if (!reachable) { this.schedule(i, this.now + 1000, 1, { kind: 'sync-failed', now: 0, to: a.to }); break; }
        this.schedule(to, this.now + this.delay(), 1, { kind: 'packet', now: 0, from: m.addr, packet: this.wire(a.packet), via: 'tcp', conn });
        break;
      }
      case 'sync-reply': {
        const c = this.conns.get(a.conn);
        this.conns.delete(a.conn);
        if (!c) break;
        m.tcpBytesSent += encodeBody(a.packet).length + FRAME_OVERHEAD;
        if (this.blocked(i, c.origin)) break;
        this.schedule(c.origin, this.now + this.delay(), 1, { kind: 'packet', now: 0, from: m.addr, packet: this.wire(a.packet), via: 'tcp' });
        break;
      }
      case 'member-up': this.observations.push({ at: this.now, observer: m.name, kind: 'up', member: a.member }); break;
      case 'member-down': this.observations.push({ at: this.now, observer: m.name, kind: 'down', member: a.member }); break;
      case 'member-suspect': this.observations.push({ at: this.now, observer: m.name, kind: 'suspect', member: a.member }); break;
      case 'member-updated': this.observations.push({ at: this.now, observer: m.name, kind: 'updated', member: a.member }); break;
      case 'refuted': case 'late-timer': break;
    }
  }

  private delay(): number { return this.latency + this.random() * this.jitter; }

  /** Through the real codec, so what arrives is what the wire can carry. */
  private wire(p: Packet): Packet {
    const d = decodeBody(encodeBody(p));
    if (!d.ok) throw new Error(`codec round trip failed: ${d.reason} ${d.detail}`);
    return d.packet;
  }

  private sendUdp(i: number, to: string, packet: Packet): void {
    const m = this.members[i]!;
    const body = encodeBody(packet);
    m.udpBytesSent += body.length + FRAME_OVERHEAD;
    m.packetsSent++;
    const j = this.byAddr.get(to);
    if (j === undefined || this.blocked(i, j) || this.random() < this.loss) return;
    const d = decodeBody(body);
    if (!d.ok) throw new Error(`codec round trip failed: ${d.reason} ${d.detail}`);
    this.schedule(j, this.now + this.delay(), 1, { kind: 'packet', now: 0, from: m.addr, packet: d.packet, via: 'udp' });
  }

  kill(i: number): void { this.members[i]!.killed = true; }
  freeze(i: number): void { this.members[i]!.frozen = true; }
  thaw(i: number): void { this.schedule(i, this.now, 0, { kind: 'thaw' }); }
  /** Event-loop lag: member i does nothing for `ms`, then catches up (timers first). */
  stall(i: number, ms: number): void { this.freeze(i); this.schedule(i, this.now + ms, 0, { kind: 'thaw' }); }
  /** Packets between the groups are dropped until heal(). */
  partition(groupA: readonly number[]): void {
    const a = new Set(groupA);
    this.blocked = (x, y) => a.has(x) !== a.has(y);
  }
  heal(): void { this.blocked = () => false; }

  /** Names member i believes up (itself included). */
  view(i: number): Set<string> { return aliveNames(this.members[i]!.state); }

  /** True when every live (not killed) member's view equals the set of names in `expected`. */
  agree(expected: readonly number[], among?: readonly number[]): boolean {
    const want = new Set(expected.map((j) => this.members[j]!.name));
    const who = among ?? this.members.map((_, j) => j).filter((j) => !this.members[j]!.killed);
    return who.every((j) => { const v = this.view(j); return v.size === want.size && [...want].every((n) => v.has(n)); });
  }

  /** Observations of `kind` about member `name` since `since`. */
  seen(kind: Observation['kind'], name: string, since = 0): Observation[] {
    return this.observations.filter((o) => o.kind === kind && o.member.name === name && o.at >= since);
  }
}
