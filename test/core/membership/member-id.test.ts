/**
 * Sender resolution of frame v2 (src/core/membership/member-id.ts): the header's member id to the node name the
 * detector takes, the rules for unknown ids, and id collisions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMembership, step } from '../../../src/core/membership/detector.js';
import { MemberIds, memberId } from '../../../src/core/membership/member-id.js';
import { DEFAULT_TIMING, type Message } from '../../../src/core/membership/types.js';

const alive = (name: string): Message => ({ type: 'alive', name, incarnation: 1, addr: `${name}:7946`, meta: new Uint8Array() });

test('known ids resolve to their names: self at once, others once the detector reported them up', () => {
  const ids = new MemberIds('a');
  assert.equal(ids.selfId, memberId('a'));
  assert.deepEqual(ids.resolve(memberId('a'), [{ type: 'ack', seq: 1 }]), { sender: 'a', messages: [{ type: 'ack', seq: 1 }] });
  let s = createMembership({ name: 'a', addr: 'a:7946', timing: DEFAULT_TIMING, seed: 1 });
  const r = step(s, { kind: 'packet', now: 1, from: 'b:7946', via: 'udp', packet: { sender: undefined, messages: [alive('b')] } });
  s = r.state;
  ids.learnFrom(r.actions);
  assert.equal(ids.nameOf(memberId('b')), 'b');
  const msgs: Message[] = [{ type: 'ack', seq: 2 }, { type: 'suspect', name: 'c', incarnation: 1, from: 'b' }];
  assert.deepEqual(ids.resolve(memberId('b'), msgs), { sender: 'b', messages: msgs });
});

test('an unknown id is named by an alive or a push-pull state in its own packet whose name hashes to it', () => {
  const ids = new MemberIds('a');
  const msgs: Message[] = [{ type: 'ping', seq: 1, target: memberId('a') }, alive('x'), alive('joiner')];
  assert.deepEqual(ids.resolve(memberId('joiner'), msgs), { sender: 'joiner', messages: msgs });
  const pushPull: Message[] = [{ type: 'push-pull', join: true, reply: false, members: [
    { name: 'joiner', addr: 'joiner:7946', incarnation: 3, status: 'alive', meta: new Uint8Array() },
    { name: 'y', addr: 'y:7946', incarnation: 1, status: 'suspect', meta: new Uint8Array() },
  ] }];
  assert.deepEqual(ids.resolve(memberId('joiner'), pushPull), { sender: 'joiner', messages: pushPull });
});

test('an unknown, unnamed id keeps only pings, alive and push-pull; the detector still acks the ping to the source', () => {
  const ids = new MemberIds('a');
  const ping: Message = { type: 'ping', seq: 7, target: memberId('a') };
  const msgs: Message[] = [ping, { type: 'ack', seq: 1 }, { type: 'nack', seq: 1 }, alive('x'),
    { type: 'suspect', name: 'a', incarnation: 99, from: 'q' }, { type: 'dead', name: 'x', incarnation: 1, from: 'q' },
    { type: 'ping-req', seq: 1, target: 'x', targetAddr: 'x:7946' }];
  const packet = ids.resolve(memberId('q'), msgs);
  assert.deepEqual(packet, { sender: undefined, messages: [ping, alive('x')] });
  const s = step(createMembership({ name: 'a', addr: 'a:7946', timing: DEFAULT_TIMING, seed: 1 }), { kind: 'start', now: 0 }).state;
  const r = step(s, { kind: 'packet', now: 1, from: 'q:7946', via: 'udp', packet });
  const sends = r.actions.flatMap((x) => (x.kind === 'send' ? [x] : []));
  assert.equal(sends.length, 1);
  assert.equal(sends[0]!.to, 'q:7946');
  assert.deepEqual(sends[0]!.packet.messages[0], { type: 'ack', seq: 7 });
  assert.ok(r.actions.some((x) => x.kind === 'member-up' && x.member.name === 'x'), 'learned x');
  assert.ok(!r.actions.some((x) => x.kind === 'refuted'), 'an unknown sender cannot make us refute');
});

test('two names with one id: the first keeps it, the collision is reported once with both names', () => {
  // FNV-1a 32 collision found by search: both hash to 0xd634d7cb.
  const [first, second] = ['node-522789', 'node-739192'];
  assert.equal(memberId(first), 0xd634d7cb);
  assert.equal(memberId(second), 0xd634d7cb);
  const reports: Array<[number, string, string]> = [];
  const ids = new MemberIds('a', (id, kept, other) => reports.push([id, kept, other]));
  ids.learn(first);
  ids.learn(second);
  ids.learn(second);
  ids.learn(first);
  assert.deepEqual(reports, [[0xd634d7cb, first, second]]);
  assert.equal(ids.nameOf(0xd634d7cb), first);
  assert.equal(ids.resolve(0xd634d7cb, [{ type: 'ack', seq: 1 }]).sender, first);
  assert.equal(ids.size, 2);
});

test('retain forgets the names the detector no longer holds, never our own', () => {
  const ids = new MemberIds('a');
  for (const n of ['b', 'c', 'd']) ids.learn(n);
  ids.retain(['c']);
  assert.equal(ids.size, 2);
  assert.equal(ids.nameOf(memberId('a')), 'a');
  assert.equal(ids.nameOf(memberId('c')), 'c');
  assert.equal(ids.nameOf(memberId('b')), undefined);
  assert.equal(ids.resolve(memberId('b'), [{ type: 'ack', seq: 1 }]).sender, undefined);
});
