import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventRecorder, type EventApi } from '../../../src/adapters/k8s/event-recorder.js';
import { NOOP_LOGGER } from '../../../src/core/ports.js';

/** Records API calls; `failPatchWith` makes the next patch fail with that HTTP code. */
class FakeEventApi implements EventApi {
  calls: Array<{ verb: 'create' | 'patch'; namespace: string; name?: string; body: Record<string, unknown> }> = [];
  failPatchWith: number | undefined;
  async create(namespace: string, body: Record<string, unknown>): Promise<void> {
    this.calls.push({ verb: 'create', namespace, body });
  }
  async patch(namespace: string, name: string, body: Record<string, unknown>): Promise<void> {
    if (this.failPatchWith !== undefined) {
      const code = this.failPatchWith;
      this.failPatchWith = undefined;
      throw Object.assign(new Error('not found'), { code });
    }
    this.calls.push({ verb: 'patch', namespace, name, body });
  }
}

const svc = { kind: 'Service', apiVersion: 'v1', namespace: 'ns', name: 'web', uid: 'u1', resourceVersion: '7' };
const allocated = { type: 'Normal' as const, reason: 'IPAllocated', message: 'Assigned IP "192.168.1.230"' };
const now = () => new Date('2026-01-02T03:04:05.000Z');

test('an Event names its object, source component and timestamps as MetalLB/client-go do', async () => {
  const api = new FakeEventApi();
  const rec = new EventRecorder({ api, component: 'metallb-controller', logger: NOOP_LOGGER, now });
  rec.record(svc, allocated);
  await rec.flush();
  assert.equal(api.calls.length, 1);
  const body = api.calls[0]!.body as Record<string, any>;
  assert.match(body['metadata'].name, /^web\.[0-9a-f]+$/);
  assert.deepEqual({ ...body, metadata: { ...body['metadata'], name: 'X' } }, {
    apiVersion: 'v1', kind: 'Event', metadata: { name: 'X', namespace: 'ns' },
    involvedObject: { kind: 'Service', apiVersion: 'v1', namespace: 'ns', name: 'web', uid: 'u1', resourceVersion: '7' },
    type: 'Normal', reason: 'IPAllocated', message: 'Assigned IP "192.168.1.230"',
    source: { component: 'metallb-controller' }, reportingComponent: 'metallb-controller', reportingInstance: 'metallb-controller',
    firstTimestamp: '2026-01-02T03:04:05.000Z', lastTimestamp: '2026-01-02T03:04:05.000Z', count: 1,
  });
});

test('repeats are aggregated by patching count; an expired Event (404) is created afresh; other messages are new Events', async () => {
  const api = new FakeEventApi();
  const rec = new EventRecorder({ api, component: 'metallb-controller', logger: NOOP_LOGGER, now });
  rec.record(svc, allocated);
  await rec.flush();
  rec.record(svc, allocated);
  await rec.flush();
  rec.record(svc, { ...allocated, message: 'Assigned IP "192.168.1.231"' });
  await rec.flush();
  api.failPatchWith = 404;
  rec.record(svc, allocated);
  await rec.flush();
  const created = api.calls[0]!.body as Record<string, any>;
  assert.deepEqual(api.calls.map((c) => [c.verb, c.verb === 'patch' ? c.body['count'] : (c.body as any)['count']]), [
    ['create', 1], ['patch', 2], ['create', 1], ['create', 1],
  ]);
  assert.equal(api.calls[1]!.name, created['metadata'].name, 'the patch targets the first Event');
});

test('a full queue drops the oldest pending events', async () => {
  const api = new FakeEventApi();
  const rec = new EventRecorder({ api, component: 'c', logger: NOOP_LOGGER, now, concurrency: 1, maxPending: 2 });
  for (let i = 0; i < 5; i += 1) rec.record({ ...svc, name: `s${i}` }, allocated);
  await rec.flush();
  assert.deepEqual(api.calls.map((c) => (c.body as any).involvedObject.name), ['s0', 's3', 's4'], 's0 was already sending; s1, s2 dropped');
});

test('events yield to status writes for at most maxDelayMs, keeping the time they happened', async () => {
  const api = new FakeEventApi();
  let busy = true;
  let clock = new Date('2026-01-02T03:04:05.000Z').getTime();
  const rec = new EventRecorder({ api, component: 'c', logger: NOOP_LOGGER, now: () => new Date(clock), yieldTo: () => busy, maxDelayMs: 60_000 });
  rec.record(svc, allocated);
  await new Promise((r) => setImmediate(r));
  assert.equal(api.calls.length, 0, 'held while writes are in flight');
  clock += 500;
  busy = false;
  rec.resume();
  await rec.flush();
  assert.equal(api.calls.length, 1);
  assert.equal((api.calls[0]!.body as any).firstTimestamp, '2026-01-02T03:04:05.000Z', 'timestamp of record(), not of sending');
  busy = true;
  clock += 61_000;
  rec.record(svc, { ...allocated, message: 'other' });
  const t = clock;
  clock = t + 60_000; // the event is already as old as maxDelayMs when the queue is pumped
  rec.resume();
  await rec.flush();
  assert.equal(api.calls.length, 2, 'never starved beyond maxDelayMs');
});

test('a send that fails transiently (apiserver restart, 5xx, no answer) is retried with backoff; a 4xx is not; attempts are bounded', async () => {
  const attempts: number[] = [];
  let failures = 3;
  const flaky: EventApi = {
    async create() {
      attempts.push(Date.now());
      if (failures-- > 0) throw Object.assign(new Error('connect ECONNREFUSED'), {}); // no HTTP status: transient
    },
    async patch() { /* unused */ },
  };
  const rec = new EventRecorder({ api: flaky, component: 'metallb-controller', logger: NOOP_LOGGER, retryBackoff: { baseMs: 1, maxMs: 4 } });
  rec.record({ ...svc, kind: 'ConfigMap', name: 'config' }, { type: 'Warning', reason: 'ConfigRefused', message: 'm' });
  await eventuallyTrue(() => attempts.length === 4);
  assert.equal(attempts.length, 4, 'three failures, then the Event is sent');

  let forbidden = 0;
  const denied: EventApi = { async create() { forbidden += 1; throw Object.assign(new Error('forbidden'), { code: 403 }); }, async patch() { /* unused */ } };
  const rec2 = new EventRecorder({ api: denied, component: 'c', logger: NOOP_LOGGER, retryBackoff: { baseMs: 1, maxMs: 1 } });
  rec2.record(svc, allocated);
  await rec2.flush();
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(forbidden, 1, 'a 403 is not retried');

  let down = 0;
  const gone: EventApi = { async create() { down += 1; throw Object.assign(new Error('unavailable'), { code: 503 }); }, async patch() { /* unused */ } };
  const rec3 = new EventRecorder({ api: gone, component: 'c', logger: NOOP_LOGGER, retryBackoff: { baseMs: 1, maxMs: 1 }, maxAttempts: 5 });
  rec3.record(svc, allocated);
  await eventuallyTrue(() => down === 5);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(down, 5, 'bounded: five attempts, then dropped');
});

async function eventuallyTrue(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

test('Events recorded by several processes in the same millisecond all land: names do not collide, and a 409 takes a new name', async () => {
  // One apiserver: a name already taken is 409 AlreadyExists, as for the controller and the speakers recording
  // on the shared ConfigMap for the same edit (a ConfigRefused was lost this way).
  const names = new Set<string>();
  let forced409 = 0;
  const apiserver: EventApi = {
    async create(_namespace, body) {
      const name = (body['metadata'] as { name: string }).name;
      if (names.has(name) || forced409 > 0) { forced409 = Math.max(0, forced409 - 1); throw Object.assign(new Error('already exists'), { code: 409 }); }
      names.add(name);
    },
    async patch() { /* unused */ },
  };
  const cm = { kind: 'ConfigMap', apiVersion: 'v1', namespace: 'metallb-system', name: 'config' };
  const recorders = ['metallb-controller', 'metallb-speaker', 'metallb-speaker'].map((component) => new EventRecorder({ api: apiserver, component, logger: NOOP_LOGGER, now }));
  for (let i = 0; i < 20; i += 1) for (const rec of recorders) rec.record(cm, { type: 'Warning', reason: 'ConfigRefused', message: `edit ${i}` });
  await Promise.all(recorders.map((r) => r.flush()));
  assert.equal(names.size, 60, 'every Event of every process was created');

  forced409 = 2; // the next two names are taken, whatever they are
  recorders[0]!.record(cm, { type: 'Warning', reason: 'ConfigRefused', message: 'after two collisions' });
  await recorders[0]!.flush();
  assert.equal(names.size, 61, 'created under a third name');
  assert.ok([...names].every((n) => /^config\.[0-9a-f]+$/.test(n)));
});
