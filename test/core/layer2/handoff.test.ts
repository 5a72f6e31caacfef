// The confirmed handoff's decisions (issue 11), with times passed in: per IP, a stop at the successor's
// announcement when it comes before the grace, at the grace otherwise; claims that must not confirm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HandoffConfirmations } from '../../../src/core/layer2/handoff.js';

const V4 = '192.0.2.100';
const V6 = '2001:db8::100';
const MAC2 = '02:00:00:00:00:02';

test('a successor announcing before the grace stops that IP at once; the other IP waits for its own', () => {
  const h = new HandoffConfirmations('node1');
  assert.deepEqual(h.begin(1000, [V4, V6], 1000), []);
  assert.equal(h.nextDueMs(1000), 1000);
  assert.deepEqual(h.claim(1040, V4, MAC2, 'node2'), { ip: V4, result: 'confirmed', afterMs: 40, mac: MAC2, node: 'node2' });
  assert.deepEqual(h.pending(), [V6]);
  assert.deepEqual(h.due(1999), []);
  assert.deepEqual(h.claim(1300, V6, MAC2, 'node2'), { ip: V6, result: 'confirmed', afterMs: 300, mac: MAC2, node: 'node2' });
  assert.deepEqual(h.pending(), []);
  assert.equal(h.nextDueMs(1300), undefined);
  assert.deepEqual(h.due(5000), [], 'a confirmed IP never times out');
});

test('no confirmation: every IP stops at the grace, not before', () => {
  const h = new HandoffConfirmations('node1');
  h.begin(0, [V6, V4], 1000);
  assert.deepEqual(h.due(999), []);
  assert.deepEqual(h.pending(), [V6, V4].sort());
  assert.deepEqual(h.due(1000), [{ ip: V4, result: 'timeout', afterMs: 1000 }, { ip: V6, result: 'timeout', afterMs: 1000 }]);
  assert.deepEqual(h.pending(), []);
  assert.equal(h.claim(1100, V4, MAC2, 'node2'), undefined, 'a late announcement changes nothing');
});

test('per IP deadlines: IPs handed off later keep their own grace; a repeated begin keeps the first start', () => {
  const h = new HandoffConfirmations('node1');
  h.begin(0, [V4], 1000);
  h.begin(600, [V4, V6], 1000);
  assert.equal(h.nextDueMs(600), 400);
  assert.deepEqual(h.due(1000), [{ ip: V4, result: 'timeout', afterMs: 1000 }]);
  assert.equal(h.nextDueMs(1000), 600);
  assert.deepEqual(h.claim(1200, V6, MAC2, 'node3'), { ip: V6, result: 'confirmed', afterMs: 600, mac: MAC2, node: 'node3' });
});

test('claims that do not confirm: a MAC no speaker carries, our own name, an IP not being handed off', () => {
  const h = new HandoffConfirmations('node1');
  h.begin(0, [V4], 1000);
  assert.equal(h.claim(10, V4, '02:00:00:00:00:99', undefined), undefined);
  assert.equal(h.claim(20, V4, '02:00:00:00:00:01', 'node1'), undefined);
  assert.equal(h.claim(30, V6, MAC2, 'node2'), undefined);
  assert.deepEqual(h.pending(), [V4]);
  assert.deepEqual(h.due(1000).map((s) => s.result), ['timeout']);
});

test('a grace of 0 stops at once; cancel ends a handoff without a stop', () => {
  const h = new HandoffConfirmations('node1');
  assert.deepEqual(h.begin(50, [V4], 0), [{ ip: V4, result: 'timeout', afterMs: 0 }]);
  h.begin(100, [V6], 1000);
  h.cancel([V6]);
  assert.deepEqual(h.pending(), []);
  assert.deepEqual(h.due(5000), []);
  assert.equal(h.claim(200, V6, MAC2, 'node2'), undefined);
});
