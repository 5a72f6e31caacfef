/**
 * FrameEndpoint: one member's sealing and opening of frame v2, shared by the socket transport and the simulation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameEndpoint } from '../../../src/core/membership/endpoint.js';
import { memberId } from '../../../src/core/membership/member-id.js';

const salts = (...values: number[]) => () => values.shift() ?? 0;

test('frame endpoint: sealed by one member, opened by another with the sender named; a replay is dropped', () => {
  const a = new FrameEndpoint({ name: 'node-a', epoch: 1_000, salt: salts(7), now: () => 1_000 });
  const b = new FrameEndpoint({ name: 'node-b', epoch: 2_000, salt: salts(8), now: () => 2_000 });
  const frame = a.seal([{ type: 'alive', name: 'node-a', incarnation: 1, addr: 'a:7946', meta: new Uint8Array() }], 'udp');
  const opened = b.open(frame, 'udp');
  assert.ok(opened.ok);
  assert.equal(opened.packet.sender, 'node-a', 'named by the alive it carries, before b knows it');
  assert.equal(frame.readUInt32BE(2), memberId('node-a'));
  const again = b.open(frame, 'udp');
  assert.ok(!again.ok && again.reason === 'replayed');
});

test('frame endpoint: after 2^32 − 1 frames a new epoch and salt, not a wrapped seq (no nonce reuse, no false replay)', () => {
  const a = new FrameEndpoint({ name: 'node-a', epoch: 5_000, salt: salts(11, 22), now: () => 4_000, sent: 0xfffffffe });
  const b = new FrameEndpoint({ name: 'node-b', epoch: 1, salt: salts(1), now: () => 1 });
  const ack = [{ type: 'ack' as const, seq: 1 }];
  const last = a.seal(ack, 'udp');
  const next = a.seal(ack, 'udp');
  assert.equal(last.readUInt32BE(16), 0xffffffff);
  assert.equal(next.readUInt32BE(16), 1, 'seq starts again');
  assert.equal(next.readUInt32BE(12), 22, 'with a new salt');
  assert.equal(next.readUIntBE(6, 6), 5_001, 'and an epoch above the old one even when the clock is behind');
  for (const f of [last, next]) assert.ok(b.open(f, 'udp').ok);
});
