/**
 * A deterministic simulation of many membership detectors on a fake network and a fake clock, for the
 * detector's tests and the membership bench. One seeded PRNG drives latency, loss and the detectors' seeds,
 * so a run replays exactly from its seed.
 *
 * Faults: `kill` (the process is gone), `freeze`/`thaw` (SIGSTOP/SIGCONT: inbound packets and due timers wait,
 * and on thaw the due timers run before the waiting packets, as in Node's event loop, where expired timers run
 * before the poll phase reads sockets), `stall` (a freeze of a given length: event-loop lag), `partition`, and
 * packet loss. Every packet goes through the real frame codec, sealed (frame v2: header, body, 12-byte tag), its
 * receiver's replay guard and its receiver's sender-id resolution (MemberIds), so bytes are real frame sizes and
 * what arrives is what the wire can carry. The seal is `lengthOnlyAead`: the real layout and length, no cipher.
 */
import { aliveNames, createMembership, step, type MembershipState } from '../../core/membership/detector.js';
import { FrameEndpoint } from '../../core/membership/endpoint.js';
import { TAG_BYTES, type Aead } from '../../core/membership/frame.js';
import type { Member, MembershipAction, MembershipEvent, MembershipTiming, Packet } from '../../core/membership/types.js';

/**
 * A stand-in for AES-256-GCM with the same output length (plaintext, then TAG_BYTES zero bytes as the tag), so the
 * simulation counts sealed frame sizes without paying for a cipher. Not encryption: simulation only.
 */
export const lengthOnlyAead: Aead = {
  seal: (_nonce, _aad, plaintext) => { const out = new Uint8Array(plaintext.length + TAG_BYTES); out.set(plaintext); return out; },
  open: (_nonce, _aad, sealed) => (sealed.length >= TAG_BYTES && sealed.subarray(sealed.length - TAG_BYTES).every((b) => b === 0) ? sealed.subarray(0, sealed.length - TAG_BYTES) : undefined),
};

/** A frame on its way: decoded by its receiver when it arrives. */
interface InFlight { readonly kind: 'frame'; readonly frame: Buffer; readonly from: string; readonly via: 'udp' | 'tcp'; readonly conn?: number }

interface SimEvent { at: number; cls: number; seq: number; member: number; event: MembershipEvent | InFlight | { kind: 'thaw' } }

/** What one member saw happen to another, for assertions. */
export interface Observation { at: number; observer: string; kind: 'up' | 'down' | 'suspect' | 'updated'; member: Member }

interface SimMember {
  readonly name: string;
  readonly addr: string;
  state: MembershipState;
  killed: boolean;
  frozen: boolean;
  buffered: SimEvent[];
  /** Sealed frame bytes sent (UDP/IP and TCP/IP headers not counted). */
  udpBytesSent: number;
  tcpBytesSent: number;
  packetsSent: number;
  /** Its end of the wire (endpoint.ts, as the transport's): sealing, replay guard, sender ids. */
  readonly wire: FrameEndpoint;
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
  /** Frames dropped as replays (reordered beyond the 64-frame window; none expected at LAN jitter). */
  replayed = 0;
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
        wire: new FrameEndpoint({ name, epoch: 1_764_547_200_000 + i, salt: () => Math.floor(this.random() * 2 ** 32), now: () => 1_764_547_200_000 + this.now, aead: lengthOnlyAead }),
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
    let event: MembershipEvent;
    if (e.event.kind === 'frame') {
      const f = e.event;
      const packet = this.receive(e.member, f.frame, f.via);
      if (!packet) return;
      event = { kind: 'packet', now: this.now, from: f.from, packet, via: f.via, conn: f.conn };
    } else event = { ...e.event, now: this.now } as MembershipEvent;
    const { state, actions } = step(m.state, event);
    m.state = state;
    m.wire.follow(actions, m.state.members);
    for (const a of actions) this.act(e.member, a);
  }

  private act(i: number, a: MembershipAction): void {
    const m = this.members[i]!;
    switch (a.kind) {
      case 'set-timer': this.schedule(i, a.at, 0, { kind: 'timer', id: a.id, now: a.at }); break;
      case 'clear-timer': break; // the state no longer lists it; dispatch drops the stale firing
      case 'send': this.sendUdp(i, a.to, a.packet); break;
      case 'sync': {
        const frame = this.frame(i, a.packet, 'tcp');
        m.tcpBytesSent += frame.length;
        const to = this.byAddr.get(a.to);
        const conn = ++this.conn;
        this.conns.set(conn, { origin: i });
        const reachable = to !== undefined && !this.members[to]!.killed && !this.blocked(i, to);
        if (!reachable) { this.schedule(i, this.now + 1000, 1, { kind: 'sync-failed', now: 0, to: a.to }); break; }
        this.schedule(to, this.now + this.delay(), 1, { kind: 'frame', frame, from: m.addr, via: 'tcp', conn });
        break;
      }
      case 'sync-reply': {
        const c = this.conns.get(a.conn);
        this.conns.delete(a.conn);
        if (!c) break;
        const frame = this.frame(i, a.packet, 'tcp');
        m.tcpBytesSent += frame.length;
        if (this.blocked(i, c.origin)) break;
        this.schedule(c.origin, this.now + this.delay(), 1, { kind: 'frame', frame, from: m.addr, via: 'tcp' });
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

  /** Member i's next sealed frame of `packet` (its own id, epoch, salt and seq, shared by UDP and TCP as in the transport). */
  private frame(i: number, packet: Packet, channel: 'udp' | 'tcp'): Buffer {
    return this.members[i]!.wire.seal(packet.messages, channel);
  }

  /**
   * Member j's decoding of a frame, as the transport does it: decodeFrame (replay guard included), then its
   * MemberIds' view of the sender. A replayed frame (reordered beyond the 64-frame window) is lost; any other
   * drop is a codec bug.
   */
  private receive(j: number, frame: Buffer, channel: 'udp' | 'tcp'): Packet | undefined {
    const r = this.members[j]!.wire.open(frame, channel);
    if (!r.ok) {
      if (r.reason === 'replayed') { this.replayed++; return undefined; }
      throw new Error(`frame round trip failed: ${r.reason} ${r.detail}`);
    }
    return r.packet;
  }

  private sendUdp(i: number, to: string, packet: Packet): void {
    const m = this.members[i]!;
    const frame = this.frame(i, packet, 'udp');
    m.udpBytesSent += frame.length;
    m.packetsSent++;
    const j = this.byAddr.get(to);
    if (j === undefined || this.blocked(i, j) || this.random() < this.loss) return;
    // Decoded when it arrives (the receiver's id table is the one it has then), not when sent.
    this.schedule(j, this.now + this.delay(), 1, { kind: 'frame', frame, from: m.addr, via: 'udp' });
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
