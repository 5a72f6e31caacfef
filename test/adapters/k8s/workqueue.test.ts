import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../../../src/adapters/k8s/workqueue.js';
import { FakeClock } from '../../helpers/fake-clock.js';

/** Drains what is immediately available (each key is marked done right away). */
async function drain(q: WorkQueue): Promise<string[]> {
  const out: string[] = [];
  while (q.length > 0) {
    const key = (await q.get()) as string;
    out.push(key);
    q.done(key);
  }
  return out;
}

test('a waiting key is held once however often it is added, in first-add order', async () => {
  const q = new WorkQueue(new FakeClock());
  for (const k of ['a', 'b', 'a', 'c', 'b', 'a']) q.add(k);
  assert.deepEqual(await drain(q), ['a', 'b', 'c']);
});

test('a key added while processing is handed out again only after done()', async () => {
  const q = new WorkQueue(new FakeClock());
  q.add('a');
  const first = await q.get();
  q.add('a');
  q.add('a');
  assert.equal(q.length, 0, 'not queued while a worker holds it');
  q.done(first as string);
  assert.deepEqual(await drain(q), ['a'], 'queued exactly once after done');
});

test('get() waits for the next add and resolves undefined after shutdown', async () => {
  const q = new WorkQueue(new FakeClock());
  const pending = q.get();
  q.add('x');
  assert.equal(await pending, 'x');
  const waiting = q.get();
  q.shutdown();
  assert.equal(await waiting, undefined);
  q.add('y');
  assert.equal(await q.get(), undefined, 'no adds after shutdown');
});

test('addRateLimited backs off per key; forget resets only that key', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue(clock, { baseMs: 10, maxMs: 1000 });
  q.addRateLimited('a');
  q.addRateLimited('a');
  q.addRateLimited('b');
  assert.equal(q.numRequeues('a'), 2);
  assert.deepEqual(clock.pendingDelays(), [10, 10], 'a keeps its earliest retry (10 ms; the second failure asks for 20 ms, later, so ignored); b has its own');
  clock.advance(9);
  assert.equal(q.length, 0);
  clock.advance(1);
  assert.deepEqual((await drain(q)).sort(), ['a', 'b']);
  q.forget('a');
  assert.equal(q.numRequeues('a'), 0);
  assert.equal(q.numRequeues('b'), 1);
  q.addRateLimited('b');
  assert.deepEqual(clock.pendingDelays(), [20]);
});
