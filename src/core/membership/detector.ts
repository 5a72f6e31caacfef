/**
 * The speaker's failure detector as a reducer: `step(state, event) → { state, actions }`. SWIM (Das, Gupta,
 * Motivala, DSN 2002) — one probe per round, k indirect probes, suspicion before death, incarnation numbers
 * to refute, updates piggybacked on probes — with Lifeguard's refinements (Dadgar et al. 2018): a local
 * health score that slows our own probing when we are the slow one, nacks from indirect probers, and a
 * suspicion timeout that shrinks with independent confirmations. A full state sync (push/pull) over TCP
 * repairs what gossip missed and heals partitions.
 *
 * Guard against false deaths from a busy node: timers carry their scheduled time, and a probe verdict or
 * suspicion expiry whose timer fired more than `lateToleranceMs` late is not trusted (the ack or the
 * refutation may be waiting unread in our socket; Node runs expired timers before it polls sockets).
 * It is re-armed once, 1 ms later, so the socket is read before the verdict, and our local health gets
 * worse, which stretches our probe interval and timeout until probes succeed again. (Discarding late
 * verdicts outright was tried: a starved process then never detects anything.)
 *
 * Passive liveness (a refinement of ours, not in SWIM or memberlist): a round passes over members that sent us a
 * packet within recentContactMult rounds (their ping or their ack proved them alive) and pings the next one that
 * needs it, or nobody. Two members then exchange at most one ping and ack per window, which halves the probes of a
 * 3-member cluster (the keepalived-sized one); in large clusters a target has rarely been heard from lately.
 *
 * Pure: time arrives in events, randomness from a seeded PRNG in the state, packets leave as actions.
 */
import { type Broadcast, enqueue, fill } from './broadcasts.js';
import { memberId } from './member-id.js';
import { nextRandom } from './random.js';
import { pushPullIntervalMs, recentContactWindowMs, retransmitLimit, suspicionConfirmationsWanted, suspicionTimeoutMs } from './timing.js';
import type { Member, MemberState, MembershipAction, MembershipEvent, MembershipTiming, Message, Packet } from './types.js';

interface Suspicion { readonly start: number; readonly incarnation: number; readonly from: readonly string[] }
interface Probe { readonly seq: number; readonly target: string; readonly start: number; acked: boolean; expectedNacks: number; nacks: number }
interface Relay { readonly originAddr: string; readonly originSeq: number }

/** Detector state. Treat as immutable: step() returns a new one. */
export interface MembershipState {
  readonly timing: MembershipTiming;
  readonly self: Member;
  /** Other members by name (dead and left ones until deadRetentionMs passed). */
  readonly members: ReadonlyMap<string, Member & { readonly since: number }>;
  readonly suspicions: ReadonlyMap<string, Suspicion>;
  /** Pending timers: id → the time it is due. */
  readonly timers: ReadonlyMap<string, number>;
  /** Suspicion timers already re-armed once because they fired late. */
  readonly deferred: ReadonlySet<string>;
  readonly probe: Probe | undefined;
  readonly probeOrder: readonly string[];
  readonly probeIndex: number;
  readonly relays: ReadonlyMap<number, Relay>;
  readonly broadcasts: readonly Broadcast[];
  readonly seq: number;
  /** Lifeguard's local health multiplier, 0 (healthy) … timing.maxLocalHealth. */
  readonly health: number;
  readonly rng: number;
  readonly started: boolean;
  /** Members up, ourselves included (n in the timing formulas), kept so no event pays O(N) for it. */
  readonly upCount: number;
  /**
   * Member name → when its last UDP packet arrived (ms). Shared by successive states and updated in place (one
   * write per packet; a copy per packet would cost O(N)): step only the newest state.
   */
  readonly heard: Map<string, number>;
}

export interface StepResult { readonly state: MembershipState; readonly actions: MembershipAction[] }

/**
 * A fresh detector for the member `name` at `addr` (host:port as the transport understands it).
 * `incarnation`: start value; the adapter passes seconds since 2020 so a restarted speaker out-bids what
 * the others remember of its previous life without waiting to refute it. `seed` drives all randomness.
 */
export function createMembership(opts: { name: string; addr: string; meta?: Uint8Array; timing: MembershipTiming; seed: number; incarnation?: number }): MembershipState {
  return {
    timing: opts.timing,
    self: { name: opts.name, addr: opts.addr, incarnation: (opts.incarnation ?? 0) >>> 0, status: 'alive', meta: opts.meta ?? new Uint8Array() },
    members: new Map(), suspicions: new Map(), timers: new Map(), deferred: new Set(), probe: undefined,
    probeOrder: [], probeIndex: 0, relays: new Map(), broadcasts: [], seq: 0, health: 0, rng: opts.seed >>> 0, started: false, upCount: 1,
    heard: new Map(),
  };
}

/** Members that count as up for elections: ourselves (unless we left), alive and suspect members. */
export function aliveNames(state: MembershipState): Set<string> {
  const out = new Set<string>();
  if (state.self.status === 'alive') out.add(state.self.name);
  for (const m of state.members.values()) if (m.status === 'alive' || m.status === 'suspect') out.add(m.name);
  return out;
}

/** Every member we know, ourselves first. */
export function knownMembers(state: MembershipState): Member[] {
  return [state.self, ...[...state.members.values()].map(({ since: _since, ...m }) => m)];
}

/** Applies one event. Never throws on any packet content. */
export function step(state: MembershipState, event: MembershipEvent): StepResult {
  const d = new Draft(state, event.now);
  if (d.self.status === 'left') return d.result();
  switch (event.kind) {
    case 'start': d.start(); break;
    case 'timer': d.timer(event.id); break;
    case 'packet': d.packet(event.from, event.packet, event.via, event.conn); break;
    case 'join': d.join(event.addrs); break;
    case 'sync-failed': break;
    case 'set-meta': d.setMeta(event.meta); break;
    case 'leave': d.leave(); break;
  }
  return d.result();
}

type Rec = Member & { readonly since: number };
/** Up to this many members, a refutation goes to every member directly rather than by gossip alone. */
const REFUTE_TO_ALL_MAX = 16;
const up = (m: Member | undefined): boolean => m !== undefined && (m.status === 'alive' || m.status === 'suspect');
const strip = ({ since: _since, ...m }: Rec): Member => m;

class Draft {
  readonly t: MembershipTiming;
  self: Member;
  members: ReadonlyMap<string, Rec>;
  private membersOwned = false;
  private nCache: number | undefined;
  suspicions: Map<string, Suspicion>;
  timers: Map<string, number>;
  deferred: Set<string>;
  probe: Probe | undefined;
  probeOrder: readonly string[];
  probeIndex: number;
  relays: Map<number, Relay>;
  broadcasts: Broadcast[];
  seq: number;
  health: number;
  rng: number;
  started: boolean;
  readonly heard: Map<string, number>;
  readonly actions: MembershipAction[] = [];

  readonly now: number;
  constructor(s: MembershipState, now: number) {
    this.now = now;
    this.t = s.timing; this.self = s.self; this.members = s.members; this.suspicions = new Map(s.suspicions);
    this.timers = new Map(s.timers); this.deferred = new Set(s.deferred); this.probe = s.probe && { ...s.probe };
    this.probeOrder = s.probeOrder; this.probeIndex = s.probeIndex; this.relays = new Map(s.relays); this.broadcasts = [...s.broadcasts];
    this.seq = s.seq; this.health = s.health; this.rng = s.rng; this.started = s.started; this.nCache = s.upCount; this.heard = s.heard;
  }

  result(): StepResult {
    const state: MembershipState = {
      timing: this.t, self: this.self, members: this.members, suspicions: this.suspicions, timers: this.timers,
      deferred: this.deferred, probe: this.probe, probeOrder: this.probeOrder, probeIndex: this.probeIndex, relays: this.relays,
      broadcasts: this.broadcasts, seq: this.seq, health: this.health, rng: this.rng, started: this.started, upCount: this.n(),
      heard: this.heard,
    };
    return { state, actions: this.actions };
  }

  // ---- helpers ----
  random(): number { const [v, next] = nextRandom(this.rng); this.rng = next; return v; }
  nextSeq(): number { this.seq = (this.seq + 1) >>> 0; return this.seq; }
  /** Members believed up, ourselves included (n in the timing formulas). */
  n(): number {
    if (this.nCache === undefined) { let c = 1; for (const m of this.members.values()) if (up(m)) c++; this.nCache = c; }
    return this.nCache;
  }
  /** Copy-on-write: most events change no member, and copying N entries per event would dominate. */
  writeMembers(): Map<string, Rec> {
    if (!this.membersOwned) { this.members = new Map(this.members); this.membersOwned = true; }
    this.nCache = undefined;
    return this.members as Map<string, Rec>;
  }
  scale(): number { return 1 + this.health; }
  adjustHealth(delta: number): void { this.health = Math.min(this.t.maxLocalHealth, Math.max(0, this.health + delta)); }
  setTimer(id: string, at: number): void { this.timers.set(id, at); this.actions.push({ kind: 'set-timer', id, at }); }
  clearTimer(id: string): void { if (this.timers.delete(id)) this.actions.push({ kind: 'clear-timer', id }); this.deferred.delete(id); }
  /** Up to `count` distinct random members matching `ok`. */
  pick(count: number, ok: (m: Rec) => boolean): Rec[] {
    const pool: Rec[] = [];
    for (const m of this.members.values()) if (ok(m)) pool.push(m);
    const take = Math.min(count, pool.length);
    for (let i = 0; i < take; i++) { const j = i + Math.floor(this.random() * (pool.length - i)); [pool[i], pool[j]] = [pool[j]!, pool[i]!]; }
    return pool.slice(0, take);
  }
  broadcast(message: Message): void { this.broadcasts = enqueue(this.broadcasts, message); }
  /** Sends `messages` to `to` with as many queued updates piggybacked as fit the packet budget. */
  send(to: string, messages: Message[]): void {
    const filled = fill(this.broadcasts, messages, this.t.maxPacketBytes, retransmitLimit(this.t, this.n()));
    this.broadcasts = filled.queue;
    this.actions.push({ kind: 'send', to, packet: { sender: this.self.name, messages: filled.messages } });
  }
  aliveMessage(): Message {
    return { type: 'alive', name: this.self.name, incarnation: this.self.incarnation, addr: this.self.addr, meta: this.self.meta };
  }
  localState(join: boolean, reply: boolean): Packet {
    const members: MemberState[] = [this.self, ...[...this.members.values()].map(strip)]
      .map(({ name, addr, incarnation, status, meta }) => ({ name, addr, incarnation, status, meta }));
    return { sender: this.self.name, messages: [{ type: 'push-pull', join, reply, members }] };
  }

  // ---- events ----
  start(): void {
    if (this.started) return;
    this.started = true;
    this.broadcast(this.aliveMessage());
    // Random phases so members started together do not probe and sync in lockstep.
    this.setTimer('probe', this.now + Math.floor(this.random() * this.t.probeIntervalMs));
    this.setTimer('gossip', this.now + this.t.gossipIntervalMs);
    if (this.t.pushPullIntervalMs > 0) this.setTimer('push-pull', this.now + Math.floor(this.random() * this.t.pushPullIntervalMs));
  }

  timer(id: string): void {
    const due = this.timers.get(id);
    if (due === undefined) return; // cleared meanwhile: a stale firing
    this.timers.delete(id);
    const late = this.now - due;
    if (id === 'probe') this.probeRound(late);
    else if (id === 'probe-timeout') this.probeTimeout();
    else if (id === 'gossip') this.gossipRound();
    else if (id === 'push-pull') this.pushPullRound();
    else if (id.startsWith('suspect:')) this.suspicionExpired(id, id.slice('suspect:'.length), late);
    else if (id.startsWith('relay:')) this.relayExpired(Number(id.slice('relay:'.length)));
  }

  /** End the previous probe (verdict), then probe the next member in a shuffled round-robin. */
  probeRound(late: number): void {
    const p = this.probe;
    if (p && !p.acked && late > this.t.lateToleranceMs && !this.deferred.has('probe')) {
      // Our own loop lagged: the ack may be waiting unread behind this timer. Decide 1 ms later, after the
      // socket has been read (Node polls sockets between two timer phases).
      this.actions.push({ kind: 'late-timer', id: 'probe', lateMs: late });
      this.adjustHealth(1);
      this.deferred.add('probe');
      this.setTimer('probe', this.now + 1);
      return;
    }
    this.deferred.delete('probe');
    this.probe = undefined;
    if (p && !p.acked) {
      {
        this.adjustHealth(p.expectedNacks > 0 ? Math.max(0, p.expectedNacks - p.nacks) : 1);
        const target = this.members.get(p.target);
        if (target && up(target)) this.suspect(target, target.incarnation, this.self.name);
      }
    }
    const interval = this.t.probeIntervalMs * this.scale();
    this.setTimer('probe', this.now + interval);
    // Passive liveness: a member whose own ping, or ack to ours, arrived lately needs no ping now; take the next
    // one in the round-robin that does, and send nothing if none does (at most one try per other member).
    let target = this.nextProbeTarget();
    for (let i = 1; target && this.heardLately(target) && i < this.n() - 1; i++) target = this.nextProbeTarget();
    if (!target || this.heardLately(target)) return;
    const seq = this.nextSeq();
    this.probe = { seq, target: target.name, start: this.now, acked: false, expectedNacks: 0, nacks: 0 };
    this.send(target.addr, [{ type: 'ping', seq, target: memberId(target.name) }]);
    this.setTimer('probe-timeout', this.now + Math.min(interval, this.t.probeTimeoutMs * this.scale()));
  }

  /** Passive liveness: an alive member whose UDP packet arrived within the window (timing.ts) needs no ping now. */
  heardLately(m: Rec): boolean {
    const at = this.heard.get(m.name);
    return m.status === 'alive' && at !== undefined && this.now - at < recentContactWindowMs(this.t, this.n());
  }

  nextProbeTarget(): Rec | undefined {
    for (let pass = 0; pass < 2; pass++) {
      while (this.probeIndex < this.probeOrder.length) {
        const m = this.members.get(this.probeOrder[this.probeIndex++]!);
        if (m && up(m)) return m;
      }
      this.forgetTheLongDead();
      this.probeOrder = this.pick(Number.MAX_SAFE_INTEGER, up).map((m) => m.name);
      this.probeIndex = 0;
    }
    return undefined;
  }

  forgetTheLongDead(): void {
    for (const [name, m] of this.members) {
      if (!up(m) && this.now - m.since > this.t.deadRetentionMs) { this.writeMembers().delete(name); this.heard.delete(name); }
    }
  }

  /** No direct ack in time: ask k others to probe the target for us (Lifeguard: and to nack if they cannot). */
  probeTimeout(): void {
    const p = this.probe;
    if (!p || p.acked) return;
    const target = this.members.get(p.target);
    if (!target) return;
    const helpers = this.pick(this.t.indirectChecks, (m) => m.status === 'alive' && m.name !== p.target);
    p.expectedNacks = helpers.length;
    for (const h of helpers) this.send(h.addr, [{ type: 'ping-req', seq: p.seq, target: target.name, targetAddr: target.addr }]);
  }

  gossipRound(): void {
    this.setTimer('gossip', this.now + this.t.gossipIntervalMs);
    if (this.broadcasts.length === 0) return;
    // The recently dead get gossip too, so a member wrongly declared dead hears it and refutes.
    const recent = 5 * this.t.probeIntervalMs * (this.t.suspicionMult + 1);
    for (const m of this.pick(this.t.gossipFanout, (x) => up(x) || (x.status === 'dead' && this.now - x.since < recent))) {
      if (this.broadcasts.length === 0) break;
      this.send(m.addr, []);
    }
  }

  pushPullRound(): void {
    this.setTimer('push-pull', this.now + pushPullIntervalMs(this.t, this.n()));
    // Dead (not left) members are candidates as well: after a partition heals, this is how the halves meet.
    const [peer] = this.pick(1, (m) => m.status !== 'left');
    if (peer) this.actions.push({ kind: 'sync', to: peer.addr, packet: this.localState(false, false) });
  }

  suspicionExpired(id: string, name: string, late: number): void {
    if (late > this.t.lateToleranceMs && !this.deferred.has(id)) {
      // The refutation may be queued behind this timer: look again right after the socket is read.
      this.actions.push({ kind: 'late-timer', id, lateMs: late });
      this.adjustHealth(1);
      this.setTimer(id, this.now + 1);
      this.deferred.add(id);
      return;
    }
    this.deferred.delete(id);
    const s = this.suspicions.get(name);
    this.suspicions.delete(name);
    const m = this.members.get(name);
    if (!s || !m || m.status !== 'suspect' || m.incarnation !== s.incarnation) return;
    this.markDown(m, 'dead', this.self.name);
    const dead: Message = { type: 'dead', name, incarnation: m.incarnation, from: this.self.name };
    this.broadcast(dead);
    // Small clusters: every member at once (a packet each, once per death), not at the next gossip round; the
    // others' own suspicions would expire later than this news arrives (≈ 25 ms sooner agreement at 3 members).
    if (this.n() <= REFUTE_TO_ALL_MAX) for (const o of this.members.values()) if (o.status === 'alive') this.send(o.addr, [dead]);
  }

  relayExpired(seq: number): void {
    const r = this.relays.get(seq);
    if (!r) return;
    this.relays.delete(seq);
    this.send(r.originAddr, [{ type: 'nack', seq: r.originSeq }]);
  }

  join(addrs: readonly string[]): void {
    const known = new Set([...this.members.values()].filter(up).map((m) => m.addr));
    for (const addr of new Set(addrs)) {
      if (addr === this.self.addr || known.has(addr)) continue;
      this.actions.push({ kind: 'sync', to: addr, packet: this.localState(true, false) });
    }
  }

  setMeta(meta: Uint8Array): void {
    this.self = { ...this.self, meta, incarnation: (this.self.incarnation + 1) >>> 0 };
    this.broadcast(this.aliveMessage());
  }

  /** Graceful leave: tell every member directly (not only by gossip), then stop. */
  leave(): void {
    this.self = { ...this.self, status: 'left' };
    const bye: Message = { type: 'dead', name: this.self.name, incarnation: this.self.incarnation, from: this.self.name };
    for (const m of this.members.values()) if (up(m)) this.actions.push({ kind: 'send', to: m.addr, packet: { sender: this.self.name, messages: [bye] } });
    for (const id of [...this.timers.keys()]) this.clearTimer(id);
    this.probe = undefined;
  }

  packet(from: string, packet: Packet, via: 'udp' | 'tcp', conn: number | undefined): void {
    // A member we hold dead is talking to us: it missed its own death notice (gossip to the dead is brief),
    // so tell it; it refutes at once instead of waiting for a state sync to bring the news.
    // `sender` is undefined when the frame's sender id names nobody we know (MemberIds.resolve kept only pings,
    // alive and push-pull then).
    const sender = packet.sender === undefined ? undefined : this.members.get(packet.sender);
    if (sender && via === 'udp') this.heard.set(sender.name, this.now);
    if (sender && sender.status === 'dead' && via === 'udp') {
      this.send(from, [{ type: 'dead', name: sender.name, incarnation: sender.incarnation, from: this.self.name }]);
    }
    for (const m of packet.messages) {
      switch (m.type) {
        // The target id guards against a misdelivered ping (an address now used by another member): only the
        // member it was meant for acks.
        case 'ping': if (m.target === memberId(this.self.name)) this.send(from, [{ type: 'ack', seq: m.seq }]); break;
        case 'ping-req': {
          if (m.target === this.self.name) { this.send(from, [{ type: 'ack', seq: m.seq }]); break; }
          const seq = this.nextSeq();
          this.relays.set(seq, { originAddr: from, originSeq: m.seq });
          this.send(m.targetAddr, [{ type: 'ping', seq, target: memberId(m.target) }]);
          this.setTimer(`relay:${seq}`, this.now + Math.floor(this.t.probeTimeoutMs * 0.8));
          break;
        }
        case 'ack': this.ack(m.seq); break;
        case 'nack': if (this.probe && this.probe.seq === m.seq) this.probe.nacks++; break;
        case 'alive': this.onAlive(m.name, m.incarnation, m.addr, m.meta); break;
        case 'suspect': this.onSuspect(m.name, m.incarnation, m.from, from); break;
        case 'dead': this.onDead(m.name, m.incarnation, m.from, from); break;
        case 'push-pull':
          this.merge(m.members, packet.sender);
          if (via === 'tcp' && !m.reply && conn !== undefined) this.actions.push({ kind: 'sync-reply', conn, packet: this.localState(false, true) });
          break;
      }
    }
  }

  ack(seq: number): void {
    const p = this.probe;
    if (p && p.seq === seq) {
      if (!p.acked) {
        p.acked = true;
        this.adjustHealth(-1);
        this.clearTimer('probe-timeout');
        // The member we hold suspect just answered: ask it for its refutation directly (it refutes, or answers a
        // stale suspicion with its current alive). Gossip alone may bring the refutation after our timer in a
        // large cluster, where the suspicion and the refutation race through the same piggyback queues.
        const t = this.members.get(p.target);
        if (t && t.status === 'suspect') this.send(t.addr, [{ type: 'suspect', name: t.name, incarnation: t.incarnation, from: this.self.name }]);
      }
      return;
    }
    const r = this.relays.get(seq);
    if (r) {
      this.relays.delete(seq);
      this.clearTimer(`relay:${seq}`);
      this.send(r.originAddr, [{ type: 'ack', seq: r.originSeq }]);
    }
  }

  /** Full state from a peer. A remote `dead` becomes a suspicion here: we check for ourselves (as memberlist). */
  merge(states: readonly MemberState[], sender: string | undefined): void {
    for (const s of states) {
      if (s.status === 'alive') this.onAlive(s.name, s.incarnation, s.addr, s.meta);
      else if (s.status === 'left') this.onDead(s.name, s.incarnation, s.name);
      else if (sender !== undefined) {
        if (!this.members.has(s.name) && s.name !== this.self.name) continue; // never learn a member as suspect first
        this.onSuspect(s.name, s.incarnation, sender);
      }
    }
  }

  /**
   * Out-bids a suspicion or death notice about us. The news goes to the accuser at once and to a gossip
   * fan-out right away: the accusers' timers are running, and waiting for the next gossip round (or, after
   * an event-loop stall, behind other work) is what turns a slow member into a dead one.
   */
  refute(incarnation: number, accuser?: string): void {
    this.self = { ...this.self, incarnation: (Math.max(this.self.incarnation, incarnation) + 1) >>> 0 };
    this.adjustHealth(1);
    this.actions.push({ kind: 'refuted', incarnation: this.self.incarnation });
    this.broadcast(this.aliveMessage());
    // Small clusters: everyone directly (a handful of packets, rarely). Gossip alone misses a member with
    // probability ≈ e^-transmits, worst when N is small, and a miss there is a false failover.
    if (this.n() <= REFUTE_TO_ALL_MAX) {
      for (const m of this.members.values()) if (up(m)) this.send(m.addr, [this.aliveMessage()]);
      return;
    }
    const to = accuser === undefined ? undefined : this.members.get(accuser);
    if (to && up(to)) this.send(to.addr, [this.aliveMessage()]);
    for (const m of this.pick(this.t.gossipFanout, (x) => up(x) && x.name !== accuser)) this.send(m.addr, [this.aliveMessage()]);
  }

  onAlive(name: string, incarnation: number, addr: string, meta: Uint8Array): void {
    if (name === this.self.name) {
      // An older instance of us, or an impostor, claims a newer incarnation: out-bid it.
      if (incarnation > this.self.incarnation || (incarnation === this.self.incarnation && addr !== this.self.addr)) this.refute(incarnation);
      return;
    }
    const cur = this.members.get(name);
    // Only a newer incarnation changes anything, for up and down members alike (a restart comes back with a
    // higher one: the adapter seeds it from the wall clock, or the member refutes its death).
    if (cur && incarnation <= cur.incarnation) return;
    const member: Rec = { name, addr, incarnation, status: 'alive', meta, since: up(cur) ? cur!.since : this.now };
    this.writeMembers().set(name, member);
    this.suspicions.delete(name);
    this.clearTimer(`suspect:${name}`);
    this.broadcast({ type: 'alive', name, incarnation, addr, meta });
    if (!up(cur)) {
      this.actions.push({ kind: 'member-up', member: strip(member) });
      // Into the rest of this round at a random place, so a new member is probed within one round.
      const rest = this.probeOrder.slice(this.probeIndex);
      if (!rest.includes(name)) {
        rest.splice(Math.floor(this.random() * (rest.length + 1)), 0, name);
        this.probeOrder = rest;
        this.probeIndex = 0;
      }
    } else if (cur!.addr !== addr || !sameBytes(cur!.meta, meta)) this.actions.push({ kind: 'member-updated', member: strip(member) });
  }

  /** @param via the address the news came from (to correct it if it is stale news about us) */
  onSuspect(name: string, incarnation: number, from: string, via?: string): void {
    if (name === this.self.name) {
      if (incarnation >= this.self.incarnation) this.refute(incarnation, from);
      else if (via !== undefined) this.send(via, [this.aliveMessage()]); // stale gossip: correct its carrier
      return;
    }
    const cur = this.members.get(name);
    if (!cur || !up(cur) || incarnation < cur.incarnation) return;
    if (cur.status === 'suspect' && incarnation === cur.incarnation) {
      const s = this.suspicions.get(name);
      if (!s || s.from.includes(from)) return;
      // Past k confirmations the timeout is at its minimum: one more changes nothing here and is not gossiped
      // (memberlist's rule). Re-gossiping every accuser would put O(N) suspect messages per death on every
      // member's queue (each member ends up accusing a dead one), O(N² log N) messages cluster-wide.
      if (s.from.length - 1 >= suspicionConfirmationsWanted(this.t, this.n())) return;
      // An independent confirmation: the timeout shrinks (Lifeguard), and others should count it too.
      const next = { ...s, from: [...s.from, from] };
      this.suspicions.set(name, next);
      this.armSuspicion(name, next);
      this.broadcast({ type: 'suspect', name, incarnation, from });
      return;
    }
    this.suspect(cur, incarnation, from);
  }

  suspect(cur: Rec, incarnation: number, from: string): void {
    if (cur.status === 'suspect' && incarnation === cur.incarnation) { this.onSuspect(cur.name, incarnation, from); return; }
    const member: Rec = { ...cur, incarnation, status: 'suspect' };
    this.writeMembers().set(cur.name, member);
    const s: Suspicion = { start: this.now, incarnation, from: [from] };
    this.suspicions.set(cur.name, s);
    this.armSuspicion(cur.name, s);
    this.actions.push({ kind: 'member-suspect', member: strip(member), from });
    const msg: Message = { type: 'suspect', name: cur.name, incarnation, from };
    this.broadcast(msg);
    // Tell the suspect directly, so it can refute without waiting for gossip to reach it.
    if (from === this.self.name) this.send(cur.addr, [msg]);
    // Someone else's suspicion: probe the suspect next, so our own verdict (a confirmation that shortens the
    // timeout, or an ack) comes within a round instead of whenever the round-robin reaches it.
    else this.probeOrder = [cur.name, ...this.probeOrder.slice(this.probeIndex)], this.probeIndex = 0;
  }

  armSuspicion(name: string, s: Suspicion): void {
    const confirmations = s.from.length - 1;
    this.clearTimer(`suspect:${name}`);
    this.setTimer(`suspect:${name}`, s.start + suspicionTimeoutMs(this.t, this.n(), confirmations));
  }

  onDead(name: string, incarnation: number, from: string, via?: string): void {
    if (name === this.self.name) {
      // Even a `left` in our name: we are running (step() ignores everything after our own leave), so it is
      // news about an earlier instance of us.
      if (incarnation >= this.self.incarnation) this.refute(incarnation, from);
      else if (via !== undefined) this.send(via, [this.aliveMessage()]);
      return;
    }
    const cur = this.members.get(name);
    if (!cur || incarnation < cur.incarnation || !up(cur)) return;
    this.markDown({ ...cur, incarnation }, from === name ? 'left' : 'dead', from);
    this.broadcast({ type: 'dead', name, incarnation, from });
  }

  markDown(cur: Rec, status: 'dead' | 'left', from: string): void {
    const member: Rec = { ...cur, status, since: this.now };
    this.writeMembers().set(cur.name, member);
    this.suspicions.delete(cur.name);
    this.clearTimer(`suspect:${cur.name}`);
    this.actions.push({ kind: 'member-down', member: strip(member), from });
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
