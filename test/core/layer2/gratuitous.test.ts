/** The gratuitous schedule reducer (spec §5.2 spamLoop). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { announced, tick, withdrawn, GRATUITOUS_TICK_MS } from '../../../src/core/layer2/gratuitous.js';

test('first announcement bursts at once; a re-announcement extends the window without an immediate burst', () => {
  let s = announced(new Map(), '192.0.2.1', 0);
  assert.equal(s.burstNow, true);
  s = announced(s.schedule, '192.0.2.1', 1000);
  assert.equal(s.burstNow, false);
  assert.equal(s.schedule.get('192.0.2.1'), 6000);
});

test('ticks burst while the window lasts and the IP is owned, then forget it', () => {
  let sched = announced(new Map(), '192.0.2.1', 0).schedule;
  const bursts: number[] = [];
  for (let t = GRATUITOUS_TICK_MS; t < 8000; t += GRATUITOUS_TICK_MS) {
    const r = tick(sched, t, () => true);
    sched = r.schedule;
    if (r.burst.length) bursts.push(t);
  }
  assert.deepEqual(bursts, [1100, 2200, 3300, 4400]);
  assert.equal(sched.size, 0);
  const withdrawn = tick(announced(new Map(), '192.0.2.2', 0).schedule, 1100, () => false);
  assert.deepEqual(withdrawn.burst, []);
  assert.equal(withdrawn.schedule.size, 1, 'kept until the window ends, as v0.11');
});

test('a withdrawn IP leaves the schedule: taken again inside its old window, it bursts at once (v0.11 waits for the tick)', () => {
  let s = announced(new Map(), '192.0.2.1', 0).schedule;
  s = withdrawn(s, '192.0.2.1');
  assert.equal(s.size, 0);
  const again = announced(s, '192.0.2.1', 2000);
  assert.equal(again.burstNow, true);
  assert.equal(again.schedule.get('192.0.2.1'), 7000);
  const other = announced(new Map(), '192.0.2.2', 0).schedule;
  assert.equal(withdrawn(other, '192.0.2.9'), other, 'unknown IP: unchanged');
});
