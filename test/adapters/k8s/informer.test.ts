import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResilientInformer, type ChangeKind, type ListWatchLike } from '../../../src/adapters/k8s/informer.js';
import { NOOP_LOGGER } from '../../../src/core/ports.js';
import { FakeClock } from '../../helpers/fake-clock.js';

type Obj = { metadata: { name: string } };

/** A ListWatch stand-in: each start() either "lists" the given objects or fails like client-node does. */
class FakeListWatch implements ListWatchLike<Obj> {
  starts = 0;
  /** Outcome of each successive start(): objects listed, or an error reported through the error callbacks. */
  script: Array<Obj[] | Error> = [];
  private readonly cbs = new Map<string, Array<(x?: any) => void>>();
  private objects: Obj[] = [];

  on(verb: string, cb: (x?: any) => void): void {
    this.cbs.set(verb, [...(this.cbs.get(verb) ?? []), cb]);
  }
  async start(): Promise<void> {
    const step = this.script[this.starts++] ?? [];
    if (step instanceof Error) { this.emit('error', step); return; }
    for (const o of step) this.emit(this.objects.includes(o) ? 'update' : 'add', o);
    this.objects = step;
  }
  async stop(): Promise<void> {}
  get(name: string): Obj | undefined { return this.objects.find((o) => o.metadata.name === name); }
  list(): Obj[] { return this.objects; }
  /** A watch failing after it was established (apiserver restart). */
  fail(err: Error): void { this.emit('error', err); }
  private emit(verb: string, x?: unknown): void { for (const cb of this.cbs.get(verb) ?? []) cb(x); }
}

const flush = () => new Promise((r) => setImmediate(r));

test('restarts with exponential backoff after errors, reports synced after the first good list', async () => {
  const clock = new FakeClock();
  const lw = new FakeListWatch();
  const a = { metadata: { name: 'a' } };
  lw.script = [new Error('connection refused'), new Error('connection refused'), [a]];
  const seen: Array<[ChangeKind, string]> = [];
  const inf = new ResilientInformer<Obj>({
    name: 'test', listWatch: lw, clock, logger: NOOP_LOGGER, backoff: { baseMs: 100, maxMs: 1000 },
    onChange: (kind, o) => seen.push([kind, o.metadata.name]),
  });
  let synced = false;
  void inf.whenSynced().then(() => { synced = true; });
  inf.start();
  await flush();
  assert.equal(lw.starts, 1);
  assert.deepEqual(clock.pendingDelays(), [100], 'first restart after the base delay');
  clock.advance(100);
  await flush();
  assert.equal(lw.starts, 2);
  assert.deepEqual(clock.pendingDelays(), [200], 'second restart after twice the delay');
  assert.equal(synced, false);
  clock.advance(200);
  await flush();
  assert.equal(lw.starts, 3);
  assert.equal(synced, true);
  assert.equal(inf.hasSynced, true);
  assert.deepEqual(seen, [['add', 'a']]);
  assert.deepEqual(clock.pendingDelays(), [], 'no restart pending once running');
});

test('a failure after running restarts from the base delay again, and stop() cancels a pending restart', async () => {
  const clock = new FakeClock();
  const lw = new FakeListWatch();
  lw.script = [[], new Error('boom'), []];
  const inf = new ResilientInformer<Obj>({ name: 't', listWatch: lw, clock, logger: NOOP_LOGGER, backoff: { baseMs: 100, maxMs: 1000 }, onChange: () => {} });
  inf.start();
  await flush();
  lw.fail(new Error('watch closed with error'));
  assert.deepEqual(clock.pendingDelays(), [100]);
  lw.fail(new Error('second error while a restart is pending'));
  assert.deepEqual(clock.pendingDelays(), [100], 'one restart pending at a time');
  clock.advance(100);
  await flush();
  assert.equal(lw.starts, 2);
  assert.deepEqual(clock.pendingDelays(), [200], 'the restart itself failed: backoff grows');
  await inf.stop();
  clock.advance(10_000);
  await flush();
  assert.equal(lw.starts, 2, 'stopped informers do not restart');
});
