import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Layer2Handoff, QUIET_MARGIN_MS } from '../../src/speaker/handoff.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** An announcer that records calls and owns the union of its names' IPs, as the real one does. */
function fakeAnnouncer() {
  const names = new Map<string, readonly string[]>();
  const calls: string[] = [];
  return {
    calls,
    setBalancer(name: string, ips: readonly string[]) { calls.push(`set ${name}`); names.set(name, ips); },
    deleteBalancer(name: string) { calls.push(`delete ${name}`); names.delete(name); },
    silence(ips: readonly string[]) { calls.push(`silence ${ips.join(',')}`); },
    stats: () => ({ owned: [...new Set([...names.values()].flat())].sort() }),
  };
}

/** A confirmer whose handoffs the test ends: confirm() as when the successor announced, cancels recorded. */
function fakeConfirmer() {
  const waiting: Array<{ ips: readonly string[]; resolve: () => void }> = [];
  const cancelled: string[] = [];
  return {
    cancelled,
    handedOff: () => waiting.map((w) => w.ips.join(',')),
    handOff(ips: readonly string[]) { return new Promise<void>((resolve) => { waiting.push({ ips, resolve }); }); },
    cancel(ips: readonly string[]) { cancelled.push(...ips); },
    confirmAll() { for (const w of waiting.splice(0)) w.resolve(); },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('a handoff goes through the confirmed handoff: answered until the successor is seen, then the name is released and done runs once', async () => {
  const clock = new FakeClock();
  const a = fakeAnnouncer();
  const c = fakeConfirmer();
  const h = new Layer2Handoff({ announcer: a, confirmer: c, clock, graceMs: 1000 });
  h.setBalancer('ns/x', ['192.0.2.1', '2001:db8::1']);
  let done = 0;
  h.handOff('ns/x', () => { done++; });
  assert.deepEqual(c.handedOff(), ['192.0.2.1,2001:db8::1']);
  assert.deepEqual(h.handingOff(), ['ns/x']);
  await tick();
  assert.deepEqual(a.calls, ['set ns/x', 'silence 192.0.2.1,2001:db8::1'], 'its bursts end at once; still answering while the successor is awaited');
  assert.equal(done, 0);
  c.confirmAll();
  await tick();
  assert.deepEqual(a.calls, ['set ns/x', 'silence 192.0.2.1,2001:db8::1', 'delete ns/x']);
  assert.equal(done, 1);
  assert.deepEqual(h.handingOff(), []);
});

test('announced or deleted again before the confirmation: the handoff is cancelled, done runs at once, nothing is released later', async () => {
  const clock = new FakeClock();
  const a = fakeAnnouncer();
  const c = fakeConfirmer();
  const h = new Layer2Handoff({ announcer: a, confirmer: c, clock, graceMs: 1000 });
  h.setBalancer('ns/x', ['192.0.2.1']);
  let done = 0;
  h.handOff('ns/x', () => { done++; });
  h.setBalancer('ns/x', ['192.0.2.1']);
  assert.equal(done, 1);
  assert.deepEqual(c.cancelled, ['192.0.2.1']);
  c.confirmAll();
  await tick();
  assert.deepEqual(a.calls, ['set ns/x', 'silence 192.0.2.1', 'set ns/x']);
  assert.deepEqual(a.stats().owned, ['192.0.2.1']);
  h.handOff('ns/x', () => { done++; });
  h.deleteBalancer('ns/x');
  assert.equal(done, 2);
  assert.deepEqual(a.calls.at(-1), 'delete ns/x');
});

test('an IP another name still announces is not handed off; close() forgets the pending ones', async () => {
  const clock = new FakeClock();
  const a = fakeAnnouncer();
  const c = fakeConfirmer();
  const h = new Layer2Handoff({ announcer: a, confirmer: c, clock, graceMs: 1000 });
  h.setBalancer('ns/a', ['192.0.2.3']);
  h.setBalancer('ns/b', ['192.0.2.3']);
  let done = 0;
  h.handOff('ns/a', () => { done++; });
  assert.deepEqual(c.handedOff(), [], 'the shared IP stays with ns/b');
  assert.ok(!a.calls.some((x) => x.startsWith('silence')), 'and keeps its bursts');
  assert.deepEqual(a.calls.at(-1), 'delete ns/a');
  assert.equal(done, 1);
  h.handOff('ns/b', () => { done++; });
  h.close();
  c.confirmAll();
  await tick();
  assert.equal(done, 1);
  assert.deepEqual(a.calls.slice(-2), ['delete ns/a', 'silence 192.0.2.3'], 'no delete after close');
});

test('split brain watches neither the IPs being handed off nor the ones taken within grace + margin', () => {
  const clock = new FakeClock();
  const a = fakeAnnouncer();
  const c = fakeConfirmer();
  const h = new Layer2Handoff({ announcer: a, confirmer: c, clock, graceMs: 1000 });
  h.setBalancer('ns/old', ['192.0.2.1']);
  clock.advance(1000 + QUIET_MARGIN_MS);
  assert.deepEqual(h.splitBrainOwned(), ['192.0.2.1']);
  h.setBalancer('ns/new', ['192.0.2.2']);
  h.handOff('ns/old', () => {});
  assert.deepEqual(a.stats().owned, ['192.0.2.1', '192.0.2.2']);
  assert.deepEqual(h.splitBrainOwned(), [], 'the handed-off IP and the fresh one are left alone');
  clock.advance(1000 + QUIET_MARGIN_MS);
  assert.deepEqual(h.splitBrainOwned(), ['192.0.2.2']);
  // Re-announced during the handoff: it was never released, so it is not fresh.
  h.handOff('ns/new', () => {});
  clock.advance(10);
  h.setBalancer('ns/new', ['192.0.2.2']);
  assert.deepEqual(h.splitBrainOwned(), ['192.0.2.2']);
});
