/**
 * The failure detector in a deterministic simulation (src/testing/membership/sim.ts): fake clock, fake
 * network with latency, loss and partitions, and members that die, freeze or lag. Bounds are in simulated
 * time, so nothing here depends on the machine's speed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MembershipSim } from '../../../src/testing/membership/sim.js';
import { DEFAULT_TIMING, type MembershipTiming } from '../../../src/core/membership/types.js';

const all = (sim: MembershipSim): number[] => sim.members.map((_, i) => i);
const except = (sim: MembershipSim, ...gone: number[]): number[] => all(sim).filter((i) => !gone.includes(i));

function converged(size: number, seed: number, timing: MembershipTiming = DEFAULT_TIMING, loss = 0): MembershipSim {
  const sim = new MembershipSim({ size, seed, timing, loss });
  sim.startAll();
  const t = sim.runUntilTrue(() => sim.agree(all(sim)), 10_000, 10);
  assert.ok(t !== undefined, `seed ${seed}: ${size} members did not converge in 10 s`);
  sim.run(2_000);
  return sim;
}

const falseDowns = (sim: MembershipSim, dead: readonly number[] = []): string[] =>
  sim.observations.filter((o) => o.kind === 'down' && !dead.some((d) => sim.members[d]!.name === o.member.name))
    .map((o) => `${o.observer} saw ${o.member.name} ${o.member.status} at ${o.at.toFixed(0)}`);

test('a killed member is declared dead by every other member, all within 1.5 s, and nobody else is', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const sim = converged(10, seed);
    const t0 = sim.now;
    sim.kill(4);
    const took = sim.runUntilTrue(() => sim.agree(except(sim, 4)), 5_000);
    assert.ok(took !== undefined && took <= 1_500, `seed ${seed}: agreement took ${took} ms`);
    const downs = sim.seen('down', sim.members[4]!.name, t0);
    assert.equal(new Set(downs.map((o) => o.observer)).size, 9, `seed ${seed}: every survivor emits member-down once`);
    assert.ok(downs.every((o) => o.member.status === 'dead'));
    assert.deepEqual(falseDowns(sim, [4]), [], `seed ${seed}`);
  }
});

test('a quiet 3-member cluster sends at most 10 UDP packets per node per second (passive liveness), and still finds a death', () => {
  // keepalived's MASTER sends 10 adverts/s at 100 ms: SWIM as published sends 20 here (a ping and an ack of
  // another's ping per round), which the skipped rounds of mutually pinging pairs halve.
  for (const seed of [21, 22, 23]) {
    const sim = converged(3, seed);
    const sent0 = sim.members.map((m) => m.packetsSent);
    sim.run(30_000);
    const perSec = sim.members.map((m, i) => (m.packetsSent - sent0[i]!) / 30);
    assert.ok(perSec.every((x) => x <= 10), `seed ${seed}: packets/s per node ${perSec.map((x) => x.toFixed(1)).join(', ')}`);
    assert.deepEqual(falseDowns(sim), [], `seed ${seed}`);
    sim.kill(2);
    const took = sim.runUntilTrue(() => sim.agree(except(sim, 2)), 5_000);
    assert.ok(took !== undefined && took <= 1_000, `seed ${seed}: agreement took ${took} ms`);
  }
});

test('with 10 % packet loss a dead member is still found and no live one is declared dead', () => {
  const sim = converged(10, 7, DEFAULT_TIMING, 0.1);
  sim.run(20_000);
  assert.deepEqual(falseDowns(sim), [], 'no false deaths in 20 s at 10 % loss');
  const t0 = sim.now;
  sim.kill(2);
  const took = sim.runUntilTrue(() => sim.agree(except(sim, 2)), 5_000);
  assert.ok(took !== undefined && took <= 3_000, `agreement took ${took} ms`);
  assert.deepEqual(falseDowns(sim, [2]), []);
  assert.ok(sim.seen('down', sim.members[2]!.name, t0).length === 9);
});

/**
 * Member `who` lags: after half of its probes, right after sending the ping, its event loop stalls for
 * 120–200 ms (a synchronous burst of other work). The ack then waits in its socket behind the probe timer,
 * exactly the case that makes a busy node accuse healthy ones.
 */
function lag(sim: MembershipSim, who: number, ms: number): void {
  const end = sim.now + ms;
  const m = sim.members[who]!;
  let last = -1;
  while (sim.now < end) {
    sim.run(1);
    const p = m.state.probe;
    if (!m.frozen && p && p.seq !== last) {
      last = p.seq;
      if (sim.random() < 0.5) sim.stall(who, 120 + sim.random() * 80);
    }
  }
}

const by = (sim: MembershipSim, observer: number, kind: 'suspect' | 'down'): number =>
  sim.observations.filter((o) => o.observer === sim.members[observer]!.name && o.kind === kind).length;

test('a member whose event loop lags accuses nobody (late timers are not trusted), and nobody is declared dead', () => {
  for (const seed of [11, 12]) {
    const sim = converged(6, seed);
    lag(sim, 0, 30_000);
    sim.run(2_000);
    assert.equal(by(sim, 0, 'suspect'), 0, `seed ${seed}: the lagging member suspected nobody`);
    assert.deepEqual(falseDowns(sim), [], `seed ${seed}: nobody declared anybody dead, the laggard included`);
    assert.ok(sim.agree(all(sim)));
  }
});

test('the same lag without the late-timer guard makes the laggard accuse healthy members (the guard matters)', () => {
  const sim = converged(6, 11, { ...DEFAULT_TIMING, lateToleranceMs: Number.POSITIVE_INFINITY });
  lag(sim, 0, 30_000);
  assert.ok(by(sim, 0, 'suspect') >= 5, `the unguarded laggard raised ${by(sim, 0, 'suspect')} false suspicions`);
});

test('a frozen member (SIGSTOP) is declared dead, then refutes after SIGCONT and is alive again everywhere', () => {
  const sim = converged(8, 21);
  const frozen = sim.members[5]!;
  const inc = frozen.state.self.incarnation;
  sim.freeze(5);
  const took = sim.runUntilTrue(() => sim.agree(except(sim, 5), except(sim, 5)), 5_000);
  assert.ok(took !== undefined && took <= 1_500, `declared dead after ${took} ms`);
  sim.run(3_000);
  sim.thaw(5);
  const back = sim.runUntilTrue(() => sim.agree(all(sim)), 10_000, 10);
  assert.ok(back !== undefined, 'the thawed member is alive again in every view');
  assert.ok(frozen.state.self.incarnation > inc, 'it refuted with a higher incarnation');
  assert.deepEqual(falseDowns(sim, [5]), []);
});

test('refutation: a false suspicion is refuted with a higher incarnation before anyone declares a death', () => {
  const sim = converged(8, 31);
  const victim = sim.members[3]!;
  const inc = victim.state.self.incarnation;
  sim.inject(6, { kind: 'packet', now: 0, from: sim.members[1]!.addr, via: 'udp',
    packet: { sender: sim.members[1]!.name, messages: [{ type: 'suspect', name: victim.name, incarnation: inc, from: sim.members[1]!.name }] } });
  sim.run(5_000);
  assert.ok(sim.seen('suspect', victim.name).length >= 1, 'the suspicion took hold');
  assert.ok(victim.state.self.incarnation > inc, 'the victim refuted');
  assert.deepEqual(falseDowns(sim), []);
  assert.ok(sim.agree(all(sim)));
  for (const m of sim.members) if (m !== victim) assert.equal(m.state.members.get(victim.name)?.status, 'alive', `${m.name}'s view`);
});

test('a partition: each side declares the other dead; after healing, state sync merges the halves again', () => {
  const sim = converged(8, 41, { ...DEFAULT_TIMING, pushPullIntervalMs: 2_000 });
  sim.partition([0, 1, 2, 3]);
  const split = sim.runUntilTrue(() => sim.agree([0, 1, 2, 3], [0, 1, 2, 3]) && sim.agree([4, 5, 6, 7], [4, 5, 6, 7]), 5_000, 5);
  assert.ok(split !== undefined, 'both halves see only themselves');
  sim.run(5_000);
  sim.heal();
  const healed = sim.runUntilTrue(() => sim.agree(all(sim)), 30_000, 10);
  assert.ok(healed !== undefined, 'one membership again after healing');
});

test('graceful leave: every member marks the leaver left within a few ms, without suspicion', () => {
  const sim = converged(8, 51);
  const t0 = sim.now;
  sim.inject(2, { kind: 'leave', now: 0 });
  const took = sim.runUntilTrue(() => sim.agree(except(sim, 2), except(sim, 2)), 1_000, 1);
  assert.ok(took !== undefined && took <= 5, `took ${took} ms`);
  const downs = sim.seen('down', sim.members[2]!.name, t0);
  assert.ok(downs.length === 7 && downs.every((o) => o.member.status === 'left'));
  assert.deepEqual(sim.seen('suspect', sim.members[2]!.name, t0), []);
});

test('dissemination: a metadata update reaches all members in O(log N) gossip rounds', () => {
  const rounds: Array<[number, number]> = [];
  for (const size of [16, 128]) {
    const sim = converged(size, 61);
    const meta = new Uint8Array([0xaa, 0xbb]);
    sim.inject(0, { kind: 'set-meta', now: 0, meta });
    const name = sim.members[0]!.name;
    const took = sim.runUntilTrue(() => sim.members.slice(1).every((m) => m.state.members.get(name)?.meta[0] === 0xaa), 5_000, 1);
    assert.ok(took !== undefined, `${size} members: not everyone got the update`);
    const r = took / DEFAULT_TIMING.gossipIntervalMs;
    rounds.push([size, r]);
    assert.ok(r <= 2 * Math.log2(size), `${size} members: ${r} rounds > 2 log2 N`);
  }
});
