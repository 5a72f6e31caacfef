import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ListWatchLike } from '../../../src/adapters/k8s/informer.js';
import { KubernetesMembershipSource } from '../../../src/adapters/k8s/membership.js';
import type { KubeObject, NodeObject, PodObject } from '../../../src/core/k8s/objects.js';
import { NOOP_LOGGER } from '../../../src/core/ports.js';
import { FakeClock } from '../../helpers/fake-clock.js';

/** A ListWatch stand-in holding objects by name; set()/remove() play watch events after start(). */
class FakeListWatch<T extends KubeObject> implements ListWatchLike<T> {
  private readonly cbs = new Map<string, Array<(x?: any) => void>>();
  private readonly objects = new Map<string, T>();
  constructor(initial: T[]) { for (const o of initial) this.objects.set(o.metadata?.name ?? '', o); }
  on(verb: string, cb: (x?: any) => void): void { this.cbs.set(verb, [...(this.cbs.get(verb) ?? []), cb]); }
  async start(): Promise<void> { for (const o of this.objects.values()) this.emit('add', o); }
  async stop(): Promise<void> {}
  get(name: string): T | undefined { return this.objects.get(name); }
  list(): T[] { return [...this.objects.values()]; }
  set(o: T): void { const had = this.objects.has(o.metadata?.name ?? ''); this.objects.set(o.metadata?.name ?? '', o); this.emit(had ? 'update' : 'add', o); }
  remove(name: string): void { const o = this.objects.get(name); this.objects.delete(name); if (o) this.emit('delete', o); }
  private emit(verb: string, x?: unknown): void { for (const cb of this.cbs.get(verb) ?? []) cb(x); }
}

const node = (name: string, ready = true): NodeObject =>
  ({ metadata: { name }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
const pod = (name: string, nodeName: string, ready = true): PodObject => ({
  metadata: { name, namespace: 'metallb-system', labels: { app: 'metallb', component: 'speaker' } },
  spec: { nodeName },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

test('alive = Ready Node with a Running and Ready speaker Pod; listeners hear about set changes only', async () => {
  const nodes = new FakeListWatch([node('a'), node('b'), node('c', false)]);
  const pods = new FakeListWatch([pod('s-a', 'a'), pod('s-b', 'b', false), pod('s-c', 'c')]);
  const source = new KubernetesMembershipSource({ nodes, pods, labelSelector: 'app=metallb,component=speaker', clock: new FakeClock(), logger: NOOP_LOGGER });
  const m = source.membership;
  source.start();
  await source.whenSynced();
  let changes = 0;
  m.onChange(() => { changes += 1; });
  assert.deepEqual([...m.alive()].sort(), ['a']);
  pods.set(pod('s-b', 'b', true));
  assert.deepEqual([...m.alive()].sort(), ['a', 'b']);
  assert.equal(changes, 1);
  nodes.set(node('a', true)); // an update that changes nothing
  assert.equal(changes, 1);
  nodes.set(node('a', false));
  assert.deepEqual([...m.alive()].sort(), ['b']);
  pods.remove('s-b');
  assert.deepEqual([...m.alive()], []);
  assert.equal(changes, 3);
});

test('without --ml-labels every Ready Node is alive', async () => {
  const nodes = new FakeListWatch([node('a'), node('b', false)]);
  const source = new KubernetesMembershipSource({ nodes, pods: undefined, labelSelector: '', clock: new FakeClock(), logger: NOOP_LOGGER });
  source.start();
  await source.whenSynced();
  assert.deepEqual([...source.membership.alive()], ['a']);
  nodes.set(node('b', true));
  assert.deepEqual([...source.membership.alive()].sort(), ['a', 'b']);
  nodes.remove('a');
  assert.deepEqual([...source.membership.alive()], ['b']);
});
