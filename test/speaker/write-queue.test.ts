/** The speaker's announce-annotation write queue (src/speaker/write-queue.ts): bounded, coalescing, retried by reconcile. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteQueue } from '../../src/speaker/write-queue.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** A write the test finishes by hand. */
function gate() {
  let finish!: (ok: boolean) => void;
  const done = new Promise<boolean>((resolve) => { finish = resolve; });
  return { done, finish };
}
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

test('write queue: at most `concurrency` writes in flight; the rest start as slots free, in order', async () => {
  const clock = new FakeClock();
  const q = new WriteQueue({ concurrency: 2, retry: () => {}, setTimer: (ms, fn) => clock.setTimer(ms, fn) });
  const started: string[] = [];
  const gates = new Map<string, ReturnType<typeof gate>>();
  for (const k of ['a', 'b', 'c', 'd']) {
    const g = gate();
    gates.set(k, g);
    q.schedule(k, () => { started.push(k); return g.done; });
  }
  assert.deepEqual(started, ['a', 'b']);
  gates.get('b')!.finish(true);
  await flush();
  assert.deepEqual(started, ['a', 'b', 'c']);
  gates.get('a')!.finish(true);
  await flush();
  assert.deepEqual(started, ['a', 'b', 'c', 'd']);
  gates.get('c')!.finish(true);
  gates.get('d')!.finish(true);
  await flush();
  assert.equal(q.size, 0);
});

test('write queue: one write per key in flight, and only the newest queued one runs after it', async () => {
  const clock = new FakeClock();
  const q = new WriteQueue({ concurrency: 4, retry: () => {}, setTimer: (ms, fn) => clock.setTimer(ms, fn) });
  const ran: string[] = [];
  const first = gate();
  q.schedule('svc', () => { ran.push('v1'); return first.done; });
  q.schedule('svc', async () => { ran.push('v2'); return true; });
  q.schedule('svc', async () => { ran.push('v3'); return true; });
  assert.deepEqual(ran, ['v1'], 'the second write of a key waits for the first');
  assert.equal(q.size, 2);
  first.finish(true);
  await flush();
  assert.deepEqual(ran, ['v1', 'v3'], 'v2 was replaced by v3 before it could start');
  await flush();
  assert.equal(q.size, 0);
});

test('write queue: a failed write asks for a reconcile after a backoff that doubles and resets on success', async () => {
  const clock = new FakeClock();
  const retried: string[] = [];
  const q = new WriteQueue({ concurrency: 1, retry: (k) => retried.push(k), setTimer: (ms, fn) => clock.setTimer(ms, fn) });
  q.schedule('svc', async () => false);
  await flush();
  assert.deepEqual(clock.pendingDelays(), [500]);
  clock.advance(499);
  assert.deepEqual(retried, []);
  clock.advance(1);
  assert.deepEqual(retried, ['svc']);
  q.schedule('svc', async () => { throw new Error('boom'); }); // a rejected write counts as failed
  await flush();
  assert.deepEqual(clock.pendingDelays(), [1000]);
  clock.advance(1000);
  assert.deepEqual(retried, ['svc', 'svc']);
  q.schedule('svc', async () => true);
  await flush();
  q.schedule('svc', async () => false);
  await flush();
  assert.deepEqual(clock.pendingDelays(), [500], 'a success resets the backoff');
  q.close();
  assert.deepEqual(clock.pendingDelays(), [], 'close cancels retry timers');
});

test('write queue: a failed write with a newer one already queued is not retried: the newer one runs', async () => {
  const clock = new FakeClock();
  const retried: string[] = [];
  const q = new WriteQueue({ concurrency: 1, retry: (k) => retried.push(k), setTimer: (ms, fn) => clock.setTimer(ms, fn) });
  const first = gate();
  let newer = 0;
  q.schedule('svc', () => first.done);
  q.schedule('svc', async () => { newer++; return true; });
  first.finish(false);
  await flush();
  await flush();
  assert.equal(newer, 1);
  assert.deepEqual(clock.pendingDelays(), []);
  assert.deepEqual(retried, []);
});
