import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CombinedMembership } from '../../../src/core/speaker/combined-membership.js';
import type { Membership } from '../../../src/core/speaker/membership.js';

/** A hand-written Membership whose alive set the test sets. */
class FakeMembership implements Membership {
  private set: ReadonlySet<string>;
  private readonly listeners = new Set<() => void>();
  constructor(names: string[]) { this.set = new Set(names); }
  alive(): ReadonlySet<string> { return this.set; }
  onChange(l: () => void): () => void { this.listeners.add(l); return () => { this.listeners.delete(l); }; }
  become(names: string[]): void { this.set = new Set(names); for (const l of [...this.listeners]) l(); }
}

test('CombinedMembership: alive is gossip ∩ Kubernetes, and listeners hear only changes of that intersection', () => {
  const gossip = new FakeMembership(['n1']);
  const kube = new FakeMembership(['n1', 'n2', 'n3']);
  const m = new CombinedMembership(gossip, kube);
  let changes = 0;
  m.onChange(() => changes++);
  // Gossip has not joined the others yet: only ourselves.
  assert.deepEqual([...m.alive()], ['n1']);
  assert.deepEqual(m.missingFromGossip(), ['n2', 'n3']);
  gossip.become(['n1', 'n2', 'n3', 'n4']);   // n4 gossips but has no Ready speaker Pod: not alive
  assert.deepEqual([...m.alive()].sort(), ['n1', 'n2', 'n3']);
  assert.equal(changes, 1);
  assert.deepEqual(m.missingFromGossip(), []);
  // The owner's speaker dies: gossip drops it long before Kubernetes notices.
  gossip.become(['n1', 'n3', 'n4']);
  assert.deepEqual([...m.alive()].sort(), ['n1', 'n3']);
  assert.equal(changes, 2);
  // Kubernetes follows later: the intersection does not change, nobody is told again.
  kube.become(['n1', 'n3']);
  assert.equal(changes, 2);
  // A Node drained while its speaker still answers probes: Kubernetes drops it.
  kube.become(['n1']);
  assert.deepEqual([...m.alive()], ['n1']);
  assert.equal(changes, 3);
  // A change outside the intersection notifies nobody.
  gossip.become(['n1', 'n3']);
  assert.equal(changes, 3);
});

test('CombinedMembership: an unsubscribed listener is not called', () => {
  const gossip = new FakeMembership(['a', 'b']);
  const kube = new FakeMembership(['a', 'b']);
  const m = new CombinedMembership(gossip, kube);
  let calls = 0;
  const off = m.onChange(() => calls++);
  off();
  gossip.become(['a']);
  assert.equal(calls, 0);
  assert.deepEqual([...m.alive()], ['a']);
});
