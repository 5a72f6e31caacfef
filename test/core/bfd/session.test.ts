/** BFD session reducer (RFC 5880 §6.2, §6.5, §6.8): two reducers wired back to back, packets through the codec. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BfdDiag, createSession, decodeControlPacket, detectionTimeUs, encodeControlPacket, jitteredIntervalUs, step,
  transmitIntervalUs, type BfdAction, type BfdControlPacket, type BfdControlPacketFields, type BfdSession,
  type BfdSessionParams, type BfdStep,
} from '../../../src/core/bfd/index.js';

const params: BfdSessionParams = { desiredMinTxIntervalUs: 300_000, requiredMinRxIntervalUs: 300_000, detectMult: 3, passive: false };
const R = 0.5;

const sends = (actions: readonly BfdAction[]) => actions.flatMap((a) => (a.type === 'send' ? [a.packet] : []));
const timers = (actions: readonly BfdAction[], timer: string) => actions.filter((a) => (a.type === 'set-timer' || a.type === 'clear-timer') && a.timer === timer);
const changes = (actions: readonly BfdAction[]) => actions.flatMap((a) => (a.type === 'state-changed' ? [`${a.from}->${a.to}/${a.diag}`] : []));

/** Through the real codec, as the wire would carry it. */
function wire(fields: BfdControlPacketFields): BfdControlPacket {
  const r = decodeControlPacket(encodeControlPacket(fields));
  assert.ok(r.ok, `our own packet was dropped: ${JSON.stringify(r)}`);
  return r.packet;
}
const recv = (s: BfdSession, p: BfdControlPacketFields) => step(s, { type: 'packet', packet: wire(p) }, R);

/** Delivers every packet in `out` to `to`, returning the last step and all actions. */
function deliver(out: readonly BfdAction[], to: BfdSession): { session: BfdSession; actions: BfdAction[] } {
  let session = to;
  const actions: BfdAction[] = [];
  for (const p of sends(out)) {
    const r = recv(session, p);
    session = r.session;
    actions.push(...r.actions);
  }
  return { session, actions };
}

/** Ping-pongs packets until both sides are quiet (no immediate sends); returns both sessions. */
function converge(a0: BfdStep, b0: BfdSession): { a: BfdSession; b: BfdSession; log: string[] } {
  let a = a0.session;
  let b = b0;
  let pending: { to: 'a' | 'b'; actions: readonly BfdAction[] } = { to: 'b', actions: a0.actions };
  const log: string[] = [];
  for (let i = 0; i < 20 && sends(pending.actions).length > 0; i++) {
    if (pending.to === 'b') {
      const r = deliver(pending.actions, b);
      b = r.session;
      log.push(...changes(r.actions).map((c) => `b:${c}`));
      pending = { to: 'a', actions: r.actions };
    } else {
      const r = deliver(pending.actions, a);
      a = r.session;
      log.push(...changes(r.actions).map((c) => `a:${c}`));
      pending = { to: 'b', actions: r.actions };
    }
  }
  return { a, b, log };
}

function upPair(pa = params, pb = params) {
  const a = createSession(pa, 0xa, R);
  const b = createSession(pb, 0xb, R).session;
  // A's tx timer fires first: it sends its Down packet.
  const fire = step(a.session, { type: 'timer', timer: 'tx' }, R);
  return converge(fire, b);
}

test('create: Down, a 1 s floor on the advertised Desired Min TX until Up (§6.8.3), tx timer jittered', () => {
  const { session, actions } = createSession(params, 42, 0);
  assert.equal(session.state, 'Down');
  assert.equal(session.desiredMinTxIntervalUs, 1_000_000);
  assert.deepEqual(actions, [{ type: 'set-timer', timer: 'tx', afterUs: 750_000 }]);
  const fired = step(session, { type: 'timer', timer: 'tx' }, 0.999);
  const [packet] = sends(fired.actions);
  assert.deepEqual(packet, {
    diag: 0, state: 'Down', poll: false, final: false, controlPlaneIndependent: false, demand: false, detectMult: 3,
    myDiscriminator: 42, yourDiscriminator: 0, desiredMinTxIntervalUs: 1_000_000, requiredMinRxIntervalUs: 300_000, requiredMinEchoRxIntervalUs: 0,
  });
  assert.deepEqual(timers(fired.actions, 'tx'), [{ type: 'set-timer', timer: 'tx', afterUs: 999_750 }]);
});

test('three-way handshake: Down → Init → Up on both sides, then a Poll moves both to 300 ms', () => {
  const { a, b, log } = upPair();
  assert.deepEqual(log.slice(0, 3), ['b:Down->Init/0', 'a:Down->Up/0', 'b:Init->Up/0']);
  assert.equal(a.state, 'Up');
  assert.equal(b.state, 'Up');
  assert.equal(a.remoteDiscr, 0xb);
  assert.equal(b.remoteDiscr, 0xa);
  // Both polled for the drop from 1 s to 300 ms and got their Final: the polls are over.
  assert.equal(a.pollActive, false);
  assert.equal(b.pollActive, false);
  assert.equal(a.desiredMinTxIntervalUs, 300_000);
  assert.equal(transmitIntervalUs(a), 300_000);
  assert.equal(detectionTimeUs(a), 900_000);
});

test('a Poll is answered at once with F set and P clear (§6.5, §6.8.7)', () => {
  const { a } = upPair();
  const r = recv(a, { diag: 0, state: 'Up', poll: true, final: false, controlPlaneIndependent: false, demand: false, detectMult: 3, myDiscriminator: 0xb, yourDiscriminator: 0xa, desiredMinTxIntervalUs: 300_000, requiredMinRxIntervalUs: 300_000, requiredMinEchoRxIntervalUs: 0 });
  const out = sends(r.actions);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.final, true);
  assert.equal(out[0]!.poll, false);
});

test('detection time expiry takes Up to Down with diag 1 and forgets the remote discriminator (§6.8.4, §6.8.1)', () => {
  const { a } = upPair();
  const r = step(a, { type: 'timer', timer: 'detect' }, R);
  assert.deepEqual(changes(r.actions), ['Up->Down/1']);
  assert.equal(r.session.remoteDiscr, 0);
  assert.equal(r.session.localDiag, BfdDiag.ControlDetectionTimeExpired);
  const [down] = sends(r.actions);
  assert.equal(down?.state, 'Down');
  assert.equal(down?.yourDiscriminator, 0);
  assert.equal(down?.desiredMinTxIntervalUs, 1_000_000, 'back to the slow rate while not Up');
});

test('detection time = remote Detect Mult × max(our Required Min RX, their Desired Min TX)', () => {
  const { a } = upPair();
  const slowPeer = recv(a, { diag: 0, state: 'Up', poll: false, final: false, controlPlaneIndependent: false, demand: false, detectMult: 5, myDiscriminator: 0xb, yourDiscriminator: 0xa, desiredMinTxIntervalUs: 700_000, requiredMinRxIntervalUs: 50_000, requiredMinEchoRxIntervalUs: 0 });
  assert.equal(detectionTimeUs(slowPeer.session), 3_500_000);
  assert.deepEqual(timers(slowPeer.actions, 'detect'), [{ type: 'set-timer', timer: 'detect', afterUs: 3_500_000 }]);
  // Their Required Min RX (50 ms) is below ours: we still send at our own 300 ms.
  assert.equal(transmitIntervalUs(slowPeer.session), 300_000);
});

test('the peer signalling Down or AdminDown takes us Down with diag 3 (§6.8.6)', () => {
  const { a } = upPair();
  const base = { diag: 0, poll: false, final: false, controlPlaneIndependent: false, demand: false, detectMult: 3, myDiscriminator: 0xb, yourDiscriminator: 0xa, desiredMinTxIntervalUs: 1_000_000, requiredMinRxIntervalUs: 300_000, requiredMinEchoRxIntervalUs: 0 };
  assert.deepEqual(changes(recv(a, { ...base, state: 'Down', diag: 1 }).actions), ['Up->Down/3']);
  assert.deepEqual(changes(recv(a, { ...base, state: 'AdminDown', diag: 7 }).actions), ['Up->Down/3']);
  // Init from the peer while we are Up changes nothing.
  assert.deepEqual(changes(recv(a, { ...base, state: 'Init' }).actions), []);
});

test('jitter: 75–100 % of the interval, 75–90 % with Detect Mult 1 (§6.8.7)', () => {
  assert.equal(jitteredIntervalUs(1_000_000, 3, 0), 750_000);
  assert.equal(jitteredIntervalUs(1_000_000, 3, 0.5), 875_000);
  assert.ok(jitteredIntervalUs(1_000_000, 3, 0.9999999) <= 1_000_000);
  assert.ok(jitteredIntervalUs(1_000_000, 3, 0.9999999) > 999_000);
  assert.equal(jitteredIntervalUs(1_000_000, 1, 0), 750_000);
  assert.ok(jitteredIntervalUs(1_000_000, 1, 0.9999999) <= 900_000);
  assert.ok(jitteredIntervalUs(1_000_000, 1, 0.9999999) > 899_000);
});

test('passive mode: nothing is sent until the peer is heard; then the handshake proceeds', () => {
  const created = createSession({ ...params, passive: true }, 0xb, R);
  assert.deepEqual(created.actions, []);
  assert.deepEqual(step(created.session, { type: 'timer', timer: 'tx' }, R).actions, []);
  const active = createSession(params, 0xa, R);
  const fire = step(active.session, { type: 'timer', timer: 'tx' }, R);
  const { a, b } = converge(fire, created.session);
  assert.equal(a.state, 'Up');
  assert.equal(b.state, 'Up');
  // Detection expiry forgets the peer: a passive session falls silent again.
  const expired = step(b, { type: 'timer', timer: 'detect' }, R);
  assert.deepEqual(sends(expired.actions), []);
  assert.deepEqual(timers(expired.actions, 'tx'), [{ type: 'clear-timer', timer: 'tx' }]);
});

test('raising the tx interval while Up: advertised at once with P, our cadence changes only on F (§6.8.3)', () => {
  const { a, b } = upPair();
  const slower = { ...params, desiredMinTxIntervalUs: 2_000_000, requiredMinRxIntervalUs: 100_000 };
  const r = step(a, { type: 'config', params: slower }, R);
  const [poll] = sends(r.actions);
  assert.equal(poll?.poll, true);
  assert.equal(poll?.desiredMinTxIntervalUs, 2_000_000);
  assert.equal(r.session.pollActive, true);
  assert.equal(transmitIntervalUs(r.session), 300_000, 'the old cadence until the Final');
  // A smaller Required Min RX applies to our Detection Time only after the Final, too.
  assert.equal(r.session.rxForDetectUs, 300_000);
  const answered = deliver(r.actions, b);
  const [final] = sends(answered.actions);
  assert.equal(final?.final, true);
  const done = deliver(answered.actions, r.session).session;
  assert.equal(done.pollActive, false);
  assert.equal(transmitIntervalUs(done), 2_000_000);
  assert.equal(done.rxForDetectUs, 100_000);
  // The peer's Detection Time for us follows our new Desired Min TX: 3 × 2 s.
  assert.equal(detectionTimeUs(answered.session), 6_000_000);
});

test('a change during a poll queues a second poll; no P with F, and lowering tx applies at once', () => {
  const { a } = upPair();
  const r1 = step(a, { type: 'config', params: { ...params, desiredMinTxIntervalUs: 200_000 } }, R);
  assert.equal(r1.session.txBaseUs, 200_000, 'a decrease needs no wait');
  assert.equal(transmitIntervalUs(r1.session), 300_000, 'but never below the peer\'s Required Min RX');
  const r2 = step(r1.session, { type: 'config', params: { ...params, desiredMinTxIntervalUs: 100_000 } }, R);
  assert.equal(r2.session.pollPending, true);
  assert.deepEqual(sends(r2.actions), [], 'no second immediate packet while a poll runs');
  const final = { diag: 0, state: 'Up' as const, poll: false, final: true, controlPlaneIndependent: false, demand: false, detectMult: 3, myDiscriminator: 0xb, yourDiscriminator: 0xa, desiredMinTxIntervalUs: 300_000, requiredMinRxIntervalUs: 300_000, requiredMinEchoRxIntervalUs: 0 };
  const r3 = recv(r2.session, final);
  assert.equal(r3.session.pollActive, true, 'the queued poll starts');
  assert.equal(r3.session.pollPending, false);
  const r4 = recv(r3.session, final);
  assert.equal(r4.session.pollActive, false);
  // Detect Mult changes go out in the next packet without a poll.
  const r5 = step(r4.session, { type: 'config', params: { ...params, desiredMinTxIntervalUs: 100_000, detectMult: 5 } }, R);
  assert.equal(r5.session.pollActive, false);
  assert.equal(sends(step(r5.session, { type: 'timer', timer: 'tx' }, R).actions)[0]?.detectMult, 5);
});

test('admin down: AdminDown with diag 7, packets keep flowing, the peer cannot bring it up; admin up → Down', () => {
  const { a, b } = upPair();
  const down = step(a, { type: 'admin-down' }, R);
  assert.deepEqual(changes(down.actions), ['Up->AdminDown/7']);
  assert.deepEqual(timers(down.actions, 'detect'), [{ type: 'clear-timer', timer: 'detect' }]);
  assert.equal(sends(down.actions)[0]?.state, 'AdminDown');
  const peer = deliver(down.actions, b);
  assert.deepEqual(changes(peer.actions), ['Up->Down/3']);
  const ignored = deliver(peer.actions, down.session);
  assert.deepEqual(changes(ignored.actions), [], 'received packets are discarded in AdminDown');
  assert.equal(sends(step(ignored.session, { type: 'timer', timer: 'tx' }, R).actions)[0]?.state, 'AdminDown');
  const up = step(ignored.session, { type: 'admin-up' }, R);
  assert.deepEqual(changes(up.actions), ['AdminDown->Down/7']);
  const { a: again, b: peerAgain } = converge(up, peer.session);
  assert.equal(again.state, 'Up');
  assert.equal(peerAgain.state, 'Up');
});

test('the peer asking for Demand mode (D) stops our periodic packets while both are Up; Required Min RX 0 too', () => {
  const { a } = upPair();
  const base = { diag: 0, state: 'Up' as const, poll: false, final: false, controlPlaneIndependent: false, myDiscriminator: 0xb, yourDiscriminator: 0xa, detectMult: 3, desiredMinTxIntervalUs: 300_000, requiredMinRxIntervalUs: 300_000, requiredMinEchoRxIntervalUs: 0 };
  const demand = recv(a, { ...base, demand: true });
  assert.deepEqual(timers(demand.actions, 'tx'), [{ type: 'clear-timer', timer: 'tx' }]);
  assert.deepEqual(sends(step(demand.session, { type: 'timer', timer: 'tx' }, R).actions), []);
  const resumed = recv(demand.session, { ...base, demand: false });
  assert.deepEqual(timers(resumed.actions, 'tx'), [{ type: 'set-timer', timer: 'tx', afterUs: jitteredIntervalUs(300_000, 3, R) }]);
  const silent = recv(a, { ...base, demand: false, requiredMinRxIntervalUs: 0 });
  assert.equal(transmitIntervalUs(silent.session), 0);
  assert.deepEqual(timers(silent.actions, 'tx'), [{ type: 'clear-timer', timer: 'tx' }]);
});
