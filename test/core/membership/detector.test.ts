/**
 * The detector reducer, event by event, with hand-written packets: the rules that the simulation tests
 * exercise only in aggregate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMembership, step, type MembershipState } from '../../../src/core/membership/detector.js';
import { memberId } from '../../../src/core/membership/member-id.js';
import { pushPullIntervalMs, recentContactWindowMs, retransmitLimit, suspicionTimeoutMs } from '../../../src/core/membership/timing.js';
import { DEFAULT_TIMING, type Message, type MembershipAction, type MembershipEvent } from '../../../src/core/membership/types.js';

const T = DEFAULT_TIMING;

function run(s: MembershipState, ...events: MembershipEvent[]): { state: MembershipState; actions: MembershipAction[] } {
  const actions: MembershipAction[] = [];
  for (const e of events) { const r = step(s, e); s = r.state; actions.push(...r.actions); }
  return { state: s, actions };
}

const pkt = (now: number, sender: string, ...messages: Message[]): MembershipEvent =>
  ({ kind: 'packet', now, from: `${sender}:7946`, via: 'udp', packet: { sender, messages } });
const alive = (name: string, incarnation = 1): Message => ({ type: 'alive', name, incarnation, addr: `${name}:7946`, meta: new Uint8Array() });
const sends = (actions: MembershipAction[]): Array<{ to: string; types: string[] }> =>
  actions.flatMap((a) => (a.kind === 'send' ? [{ to: a.to, types: a.packet.messages.map((m) => m.type) }] : []));

/** `a` started, knowing b and c. */
function withPeers(): MembershipState {
  return run(createMembership({ name: 'a', addr: 'a:7946', timing: T, seed: 1 }), { kind: 'start', now: 0 }, pkt(1, 'b', alive('b'), alive('c'))).state;
}

test('timing formulas: Lifeguard suspicion shrinks with confirmations; retransmits and state sync grow with log N', () => {
  assert.equal(suspicionTimeoutMs(T, 3, 0), 450);
  assert.equal(suspicionTimeoutMs(T, 3, 1), 150);
  assert.equal(suspicionTimeoutMs(T, 2, 0), 150, 'nobody can confirm in a pair: straight to the minimum');
  assert.equal(Math.round(suspicionTimeoutMs(T, 100, 1)), 300);
  assert.deepEqual([1, 2, 3, 10, 200].map((n) => recentContactWindowMs(T, n)), [200, 200, 400, 400, 400], 'passive-liveness window: 2 × (n − 1) rounds, at most 4');
  assert.equal(retransmitLimit(T, 9), 4);
  assert.equal(retransmitLimit(T, 10), 8);
  assert.deepEqual([10, 32, 33, 64, 200].map((n) => pushPullIntervalMs(T, n)), [15_000, 15_000, 30_000, 30_000, 60_000]);
});

test('a ping for us is acked to its source; a ping for another name (a restarted node at this address) is not', () => {
  const s = withPeers();
  assert.deepEqual(sends(step(s, pkt(5, 'b', { type: 'ping', seq: 9, target: memberId('a') })).actions)[0], { to: 'b:7946', types: ['ack', 'alive', 'alive', 'alive'] });
  assert.deepEqual(sends(step(s, pkt(5, 'b', { type: 'ping', seq: 9, target: memberId('z') })).actions), []);
});

test('a probe that times out goes indirect, then suspects; an ack via a helper saves the target', () => {
  let s = withPeers();
  const due = s.timers.get('probe')!;
  let r = run(s, { kind: 'timer', id: 'probe', now: due });
  const probe = r.state.probe!;
  r = run(r.state, { kind: 'timer', id: 'probe-timeout', now: r.state.timers.get('probe-timeout')! });
  const helper = probe.target === 'b' ? 'c' : 'b';
  assert.deepEqual(sends(r.actions).map((x) => [x.to, x.types[0]]), [[`${helper}:7946`, 'ping-req']]);
  const saved = run(r.state, pkt(due + 60, helper, { type: 'ack', seq: probe.seq }), { kind: 'timer', id: 'probe', now: due + T.probeIntervalMs });
  assert.ok(!saved.actions.some((a) => a.kind === 'member-suspect'));
  s = run(r.state, { kind: 'timer', id: 'probe', now: due + T.probeIntervalMs }).state;
  assert.equal(s.members.get(probe.target)!.status, 'suspect');
  assert.ok(s.timers.has(`suspect:${probe.target}`));
});

test('a probe verdict whose timer fired late is re-checked after the socket is read, and our local health worsens', () => {
  const s = withPeers();
  const due = s.timers.get('probe')!;
  const r1 = run(s, { kind: 'timer', id: 'probe', now: due });
  const probe = r1.state.probe!;
  const next = r1.state.timers.get('probe')!;
  const lateAt = next + T.lateToleranceMs + 50;
  const r2 = run(r1.state, { kind: 'timer', id: 'probe', now: lateAt });
  assert.ok(r2.actions.some((a) => a.kind === 'late-timer'));
  assert.ok(!r2.actions.some((a) => a.kind === 'member-suspect'));
  assert.equal(r2.state.health, 1);
  assert.equal(r2.state.timers.get('probe'), lateAt + 1, 're-armed 1 ms later');
  // The ack that was waiting behind the timer is read first: no suspicion, and the next round starts,
  // stretched by the health score: interval × (1 + health).
  const saved = run(r2.state, pkt(lateAt, probe.target, { type: 'ack', seq: probe.seq }), { kind: 'timer', id: 'probe', now: lateAt + 1 });
  assert.ok(!saved.actions.some((a) => a.kind === 'member-suspect'));
  assert.equal(saved.state.timers.get('probe')! - (lateAt + 1), T.probeIntervalMs * (1 + saved.state.health));
  // No ack even then: the re-check decides (a starved process still detects), however late it fires.
  const lost = run(r2.state, { kind: 'timer', id: 'probe', now: lateAt + 200 });
  assert.ok(lost.actions.some((a) => a.kind === 'member-suspect'));
});

test('a late suspicion expiry is re-checked once after the socket is read: a queued refutation wins', () => {
  const s = run(withPeers(), pkt(10, 'c', { type: 'suspect', name: 'b', incarnation: 1, from: 'c' })).state;
  const due = s.timers.get('suspect:b')!;
  const late = run(s, { kind: 'timer', id: 'suspect:b', now: due + 300 });
  assert.ok(late.actions.some((a) => a.kind === 'late-timer'));
  assert.equal(late.state.members.get('b')!.status, 'suspect');
  const refuted = run(late.state, pkt(due + 300, 'b', alive('b', 2)), { kind: 'timer', id: 'suspect:b', now: due + 301 });
  assert.equal(refuted.state.members.get('b')!.status, 'alive');
  assert.ok(!refuted.actions.some((a) => a.kind === 'member-down'));
  // Without the refutation, the re-check declares the death.
  const dead = run(late.state, { kind: 'timer', id: 'suspect:b', now: due + 301 });
  assert.equal(dead.state.members.get('b')!.status, 'dead');
});

test('incarnations: stale news is ignored, a suspicion of us is refuted to everyone, a dead member comes back only newer', () => {
  let s = withPeers();
  s = run(s, pkt(10, 'c', { type: 'suspect', name: 'b', incarnation: 0, from: 'c' })).state;
  assert.equal(s.members.get('b')!.status, 'alive', 'older incarnation ignored');
  const r = run(s, pkt(11, 'c', { type: 'suspect', name: 'a', incarnation: 0, from: 'c' }));
  assert.equal(r.state.self.incarnation, 1);
  assert.deepEqual(sends(r.actions).map((x) => x.to).sort(), ['b:7946', 'c:7946']);
  s = run(r.state, pkt(12, 'c', { type: 'dead', name: 'b', incarnation: 1, from: 'c' })).state;
  assert.equal(s.members.get('b')!.status, 'dead');
  assert.equal(run(s, pkt(13, 'b', alive('b', 1))).state.members.get('b')!.status, 'dead');
  assert.equal(run(s, pkt(13, 'b', alive('b', 2))).state.members.get('b')!.status, 'alive');
  // A member we hold dead that pings us is told it is dead, so it refutes now rather than at the next state sync.
  const told = sends(step(s, pkt(14, 'b', { type: 'ping', seq: 3, target: memberId('a') })).actions);
  assert.deepEqual(told.map((x) => [x.to, x.types[0]]), [['b:7946', 'dead'], ['b:7946', 'ack']]);
});

test('leave tells every member directly, clears all timers, and the detector then ignores everything', () => {
  const r = run(withPeers(), { kind: 'leave', now: 20 });
  assert.deepEqual(sends(r.actions).map((x) => [x.to, x.types]).sort(), [['b:7946', ['dead']], ['c:7946', ['dead']]]);
  assert.equal(r.state.timers.size, 0);
  assert.deepEqual(step(r.state, pkt(30, 'b', { type: 'ping', seq: 1, target: memberId('a') })).actions, []);
});

test('push/pull over TCP is answered on the same connection; a remote "dead" only makes us suspect', () => {
  const s = withPeers();
  const r = step(s, { kind: 'packet', now: 40, from: 'c:5555', via: 'tcp', conn: 7, packet: { sender: 'c', messages: [{ type: 'push-pull', join: false, reply: false, members: [
    { name: 'b', addr: 'b:7946', incarnation: 1, status: 'dead', meta: new Uint8Array() },
    { name: 'd', addr: 'd:7946', incarnation: 4, status: 'alive', meta: new Uint8Array([1]) },
  ] }] } });
  assert.equal(r.state.members.get('b')!.status, 'suspect');
  assert.equal(r.state.members.get('d')!.status, 'alive');
  const reply = r.actions.find((a) => a.kind === 'sync-reply');
  assert.ok(reply && reply.kind === 'sync-reply' && reply.conn === 7);
  const pp = reply.packet.messages[0]!;
  assert.ok(pp.type === 'push-pull' && pp.reply && pp.members.length === 4);
});

test('an ack from a member we hold suspect asks it directly for its refutation, which clears the suspicion', () => {
  // b is suspected by c (gossip); a probes b next, b acks.
  let r = run(withPeers(), pkt(10, 'c', { type: 'suspect', name: 'b', incarnation: 1, from: 'c' }));
  assert.equal(r.state.members.get('b')!.status, 'suspect');
  r = run(r.state, { kind: 'timer', id: 'probe', now: r.state.timers.get('probe')! });
  const probe = r.state.probe!;
  assert.equal(probe.target, 'b', 'the suspect is probed next');
  const acked = run(r.state, pkt(probe.start + 1, 'b', { type: 'ack', seq: probe.seq }));
  const asked = acked.actions.flatMap((a) => (a.kind === 'send' && a.to === 'b:7946' ? a.packet.messages : []));
  assert.ok(asked.some((m) => m.type === 'suspect' && m.name === 'b' && m.incarnation === 1 && m.from === 'a'), 'a asked b to refute');
  // b's answer (its refutation, or its current alive for a stale suspicion) clears it before the timer.
  const cleared = run(acked.state, pkt(probe.start + 2, 'b', alive('b', 2)));
  assert.equal(cleared.state.members.get('b')!.status, 'alive');
  assert.ok(!cleared.state.timers.has('suspect:b'));
  // An ack from a member that is not suspect asks nothing.
  const plain = run(withPeers(), { kind: 'timer', id: 'probe', now: withPeers().timers.get('probe')! });
  const quiet = run(plain.state, pkt(plain.state.probe!.start + 1, plain.state.probe!.target, { type: 'ack', seq: plain.state.probe!.seq }));
  assert.ok(!quiet.actions.some((a) => a.kind === 'send' && a.packet.messages.some((m) => m.type === 'suspect')));
});

test('passive liveness: a round passes over members heard from within the window (4 rounds at 3 members), pings the next one that needs it, and a suspect regardless', () => {
  const pings = (actions: MembershipAction[]): string[] => sends(actions).filter((x) => x.types[0] === 'ping').map((x) => x.to);
  // b and c both pinged us 10 ms before our round: neither needs our ping for 400 ms.
  let s = withPeers();
  const due = s.timers.get('probe')!;
  const heardAt = Math.max(1, due - 10);
  s = run(s, pkt(heardAt, 'b', { type: 'ping', seq: 1, target: memberId('a') }), pkt(heardAt, 'c', { type: 'ping', seq: 1, target: memberId('a') })).state;
  let r = run(s, { kind: 'timer', id: 'probe', now: due });
  assert.deepEqual(pings(r.actions), [], 'first round: both heard from 10 ms ago');
  assert.equal(r.state.probe, undefined);
  assert.equal(r.state.timers.get('probe'), due + T.probeIntervalMs, 'the rounds keep their pace');
  for (const k of [1, 2, 3]) {
    r = run(r.state, { kind: 'timer', id: 'probe', now: due + k * T.probeIntervalMs });
    assert.deepEqual(pings(r.actions), [], `round ${k + 1}: ${k * 100 + 10} ms < 4 × 100 ms`);
  }
  r = run(r.state, { kind: 'timer', id: 'probe', now: due + 4 * T.probeIntervalMs });
  assert.equal(pings(r.actions).length, 1, 'fifth round: 410 ms of silence, so it pings');
  // Two members keep a 2-round window: a 4-round one would only delay detection.
  let p = run(createMembership({ name: 'a', addr: 'a:7946', timing: T, seed: 1 }), { kind: 'start', now: 0 }, pkt(1, 'b', alive('b'))).state;
  const pdue = p.timers.get('probe')!;
  p = run(p, pkt(Math.max(1, pdue - 10), 'b', { type: 'ping', seq: 1, target: memberId('a') })).state;
  let pr = run(p, { kind: 'timer', id: 'probe', now: pdue }, { kind: 'timer', id: 'probe', now: pdue + T.probeIntervalMs });
  assert.deepEqual(pings(pr.actions), [], 'pair: 110 ms < 2 × 100 ms');
  pr = run(pr.state, { kind: 'timer', id: 'probe', now: pdue + 2 * T.probeIntervalMs });
  assert.deepEqual(pings(pr.actions), ['b:7946'], 'pair: 210 ms of silence, so it pings');
  // Only the round-robin's next target was heard from: the round pings the other one instead.
  for (const seed of [1, 2, 3, 4]) {
    let o = run(createMembership({ name: 'a', addr: 'a:7946', timing: T, seed }), { kind: 'start', now: 0 }, pkt(1, 'b', alive('b'), alive('c'))).state;
    const odue = o.timers.get('probe')!;
    const first = run(o, { kind: 'timer', id: 'probe', now: odue }).state.probe!.target; // what the round-robin picks
    const other = first === 'b' ? 'c' : 'b';
    o = run(o, pkt(Math.max(1, odue - 10), first, { type: 'ping', seq: 1, target: memberId('a') })).state;
    assert.deepEqual(pings(run(o, { kind: 'timer', id: 'probe', now: odue }).actions), [`${other}:7946`], `seed ${seed}`);
  }
  // A suspect is pinged even right after a packet from it: only our own verdict confirms or clears a suspicion.
  let q = withPeers();
  const qdue = q.timers.get('probe')!;
  const qat = Math.max(1, qdue - 5);
  q = run(q, pkt(qat, 'c', { type: 'suspect', name: 'b', incarnation: 1, from: 'c' }), pkt(qat, 'b', { type: 'ping', seq: 1, target: memberId('a') })).state;
  assert.equal(q.members.get('b')!.status, 'suspect');
  assert.deepEqual(pings(run(q, { kind: 'timer', id: 'probe', now: qdue }).actions), ['b:7946']);
  // SWIM as published (recentContactMult 0) pings every round.
  let w = run(createMembership({ name: 'a', addr: 'a:7946', timing: { ...T, recentContactMult: 0 }, seed: 1 }), { kind: 'start', now: 0 }, pkt(1, 'b', alive('b'), alive('c'))).state;
  const wdue = w.timers.get('probe')!;
  w = run(w, pkt(Math.max(1, wdue - 10), 'b', { type: 'ping', seq: 1, target: memberId('a') }), pkt(Math.max(1, wdue - 10), 'c', { type: 'ping', seq: 1, target: memberId('a') })).state;
  assert.equal(pings(run(w, { kind: 'timer', id: 'probe', now: wdue }).actions).length, 1);
});

test('in a small cluster our own death verdict goes to every alive member at once, not only by gossip', () => {
  // c suspects b; nobody confirms; the suspicion expires here.
  const r = run(withPeers(), pkt(10, 'c', { type: 'suspect', name: 'b', incarnation: 1, from: 'c' }));
  const at = r.state.timers.get('suspect:b')!;
  const expired = run(r.state, { kind: 'timer', id: 'suspect:b', now: at });
  assert.ok(expired.actions.some((a) => a.kind === 'member-down' && a.member.name === 'b'));
  const toC = expired.actions.flatMap((a) => (a.kind === 'send' && a.to === 'c:7946' ? a.packet.messages : []));
  assert.ok(toC.some((m) => m.type === 'dead' && m.name === 'b' && m.from === 'a'), 'c hears it in the same step');
  assert.ok(!expired.actions.some((a) => a.kind === 'send' && a.to === 'b:7946'), 'not to the dead member');
});

test('a suspicion takes k confirmations; later accusers are neither counted nor gossiped (O(1) per death per member)', () => {
  // a knows b..f; k = suspicionConfirmations (1 by default) → at most k + 1 accusers of one suspicion travel.
  const five = run(createMembership({ name: 'a', addr: 'a:7946', timing: T, seed: 1 }), { kind: 'start', now: 0 },
    pkt(1, 'b', alive('b'), alive('c'), alive('d'), alive('e'), alive('f'))).state;
  const accuse = (s: MembershipState, now: number, from: string): { state: MembershipState; actions: MembershipAction[] } =>
    run(s, pkt(now, from, { type: 'suspect', name: 'b', incarnation: 1, from }));
  let r = accuse(five, 10, 'c');
  const first = r.state.timers.get('suspect:b')!;
  r = accuse(r.state, 11, 'd');
  const confirmed = r.state.timers.get('suspect:b')!;
  assert.ok(confirmed < first, 'the first confirmation shortens the timeout');
  const queued = (s: MembershipState): string[] => s.broadcasts.filter((b) => b.message.type === 'suspect').map((b) => (b.message as { from: string }).from).sort();
  assert.deepEqual(queued(r.state), ['c', 'd']);
  assert.equal(T.suspicionConfirmations, 1);
  r = accuse(r.state, 12, 'e');
  assert.equal(r.state.timers.get('suspect:b'), confirmed, 'a confirmation past k does not re-arm');
  assert.deepEqual(queued(r.state), ['c', 'd'], 'nor is it gossiped');
  assert.ok(!r.actions.some((a) => a.kind === 'set-timer' || a.kind === 'clear-timer'));
});
