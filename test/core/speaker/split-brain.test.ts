// Split brain (issue 11), pure parts: the detector's Events and its bounded re-announcing (GARP bursts counted
// through a long conflict), the minority rule, and the MACs in gossip metadata.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SplitBrainDetector, shouldReannounce, DEFAULT_SPLIT_BRAIN_TIMING, type ClaimContext, type SplitBrainAction } from '../../../src/core/speaker/split-brain.js';
import { quorumOf } from '../../../src/core/speaker/quorum.js';
import { decodeNodeMeta, encodeNodeMeta, nodesByMac } from '../../../src/core/speaker/node-meta.js';
import { electOwner } from '../../../src/core/election/owner.js';

const IP = '192.0.2.100';
const MAC_B = '02:00:00:00:00:0b';
const partitioned: ClaimContext = { myNode: 'node1', otherNode: 'node2', otherAlive: false, quorum: true };

/**
 * Two owners of one IP, each probing every 3 s and each hearing the other's answer (and its bursts) for `ms`:
 * returns the bursts each sent. Both sides use the same rule, with their own context.
 */
function war(ms: number, ctxA: ClaimContext, ctxB: ClaimContext): { a: number; b: number; actionsA: SplitBrainAction[] } {
  const a = new SplitBrainDetector();
  const b = new SplitBrainDetector();
  let bursts = { a: 0, b: 0 };
  const actionsA: SplitBrainAction[] = [];
  for (let now = 0; now < ms; now += 100) {
    const probeRound = now % DEFAULT_SPLIT_BRAIN_TIMING.probeIntervalMs === 0;
    if (probeRound) { a.tick(now, [IP]); b.tick(now, [IP]); }
    // Every 100 ms both hear something from the other: a probe answer or a burst (the worst case for the bound).
    const outA = a.claim(now, IP, MAC_B, true, ctxA);
    const outB = b.claim(now, IP, '02:00:00:00:00:0a', true, ctxB);
    actionsA.push(...outA);
    bursts = { a: bursts.a + outA.filter((x) => x.kind === 'reannounce').length, b: bursts.b + outB.filter((x) => x.kind === 'reannounce').length };
  }
  return { ...bursts, actionsA };
}

test('a claim opens one conflict: one detected action naming the other node, whatever the number of claims', () => {
  const { actionsA } = war(60_000, partitioned, { ...partitioned, myNode: 'node2', otherNode: 'node1', quorum: false });
  const detected = actionsA.filter((x) => x.kind === 'detected');
  assert.deepEqual(detected, [{ kind: 'detected', ip: IP, mac: MAC_B, otherNode: 'node2', reannounce: true }]);
});

test('no GARP war: over 10 minutes of conflict a node re-announces at most once per doubling window (≤ 8 bursts)', () => {
  // Both sides believe they have quorum (views that disagree): the worst case. Windows 5, 10, 20, 40, 80, 160, 300 s.
  const both = war(600_000, partitioned, { ...partitioned, myNode: 'node2', otherNode: 'node1' });
  assert.ok(both.a >= 1 && both.a <= 8, `node1 sent ${both.a} bursts`);
  assert.ok(both.b >= 1 && both.b <= 8, `node2 sent ${both.b} bursts`);
  // The usual partition: only the majority side has quorum, so only it re-announces.
  const minority = war(600_000, partitioned, { ...partitioned, myNode: 'node2', otherNode: 'node1', quorum: false });
  assert.ok(minority.a >= 1 && minority.a <= 8);
  assert.equal(minority.b, 0, 'the side without quorum never re-announces');
  // Not partitioned (each sees the other alive): exactly one side, the hashring's owner between the two.
  const seen = war(600_000, { ...partitioned, otherAlive: true }, { ...partitioned, myNode: 'node2', otherNode: 'node1', otherAlive: true });
  const winner = electOwner(IP, ['node1', 'node2']);
  assert.equal(seen.a > 0, winner === 'node1');
  assert.equal(seen.b > 0, winner === 'node2');
  assert.ok(seen.a + seen.b <= 8);
});

test('re-announce windows double from 5 s and are capped', () => {
  const d = new SplitBrainDetector({ ...DEFAULT_SPLIT_BRAIN_TIMING, backoffMaxMs: 20_000 });
  const at: number[] = [];
  for (let now = 0; now < 120_000; now += 500) {
    d.tick(now, [IP]);
    for (const x of d.claim(now, IP, MAC_B, true, partitioned)) if (x.kind === 'reannounce') at.push(now);
  }
  assert.deepEqual(at.slice(0, 4), [0, 5000, 15_000, 35_000]);
  assert.deepEqual(at.slice(4, 6), [55_000, 75_000]);
});

test('a conflict clears after clearAfterMs without a claim, or when the IP is no longer owned; then it can open again', () => {
  const d = new SplitBrainDetector();
  d.claim(0, IP, MAC_B, true, partitioned);
  assert.deepEqual(d.tick(3000, [IP]).map((x) => x.kind), ['probe']);
  assert.deepEqual(d.tick(10_000, [IP]), [{ kind: 'cleared', ip: IP, mac: MAC_B, otherNode: 'node2' }, { kind: 'probe', ips: [IP] }]);
  assert.equal(d.open().length, 0);
  assert.deepEqual(d.claim(11_000, IP, MAC_B, true, partitioned).map((x) => x.kind), ['detected', 'reannounce']);
  assert.deepEqual(d.tick(12_000, []), [{ kind: 'cleared', ip: IP, mac: MAC_B, otherNode: 'node2' }]);
  assert.deepEqual(d.claim(12_100, IP, MAC_B, false, partitioned), [], 'a claim on an IP we do not own is not ours to judge');
});

test('shouldReannounce: never without quorum; the hashring between the two when both see each other; else yes', () => {
  assert.equal(shouldReannounce(IP, { ...partitioned, quorum: false }), false);
  assert.equal(shouldReannounce(IP, partitioned), true);
  assert.equal(shouldReannounce(IP, { ...partitioned, otherNode: undefined }), true);
  const winner = electOwner(IP, ['node1', 'node2'])!;
  const loser = winner === 'node1' ? 'node2' : 'node1';
  assert.equal(shouldReannounce(IP, { myNode: winner, otherNode: loser, otherAlive: true, quorum: true }), true);
  assert.equal(shouldReannounce(IP, { myNode: loser, otherNode: winner, otherAlive: true, quorum: true }), false);
});

test('quorum: a strict majority of the known speakers; at exactly half, the half with the smallest name', () => {
  const q = (me: string, alive: string[], kubernetes: string[], left: string[] = []) =>
    quorumOf({ me, alive: new Set(alive), kubernetes: new Set(kubernetes), left: new Set(left) }).quorum;
  const three = ['node1', 'node2', 'node3'];
  assert.equal(q('node1', three, three), true);
  assert.equal(q('node1', ['node1', 'node2'], three), true, 'one of three dead: the two keep quorum');
  assert.equal(q('node3', ['node3'], three), false, 'isolated from the other two');
  assert.equal(q('node3', ['node3'], ['node3']), true, 'Kubernetes forgot the others (NotReady, out-of-service)');
  assert.equal(q('node3', ['node3'], three, ['node1', 'node2']), true, 'the others left gracefully');
  // Two nodes.
  assert.equal(q('node1', ['node1'], ['node1', 'node2']), true, 'node1 alone holds the smaller name');
  assert.equal(q('node2', ['node2'], ['node1', 'node2']), false, 'node2 alone waits for Kubernetes');
  assert.equal(q('node2', ['node2'], ['node1', 'node2'], ['node1']), true, 'node1 left: node2 takes over at once');
  // Four nodes split 2/2: exactly one half.
  const four = ['a', 'b', 'c', 'd'];
  assert.equal(q('a', ['a', 'b'], four), true);
  assert.equal(q('c', ['c', 'd'], four), false);
  // A lone starting speaker that Kubernetes does not list yet counts itself.
  assert.equal(q('node1', [], []), true);
});

test('node metadata: golden bytes, round trip, bad input is undefined, MAC → node', () => {
  const bytes = encodeNodeMeta({ macs: ['02:00:00:00:00:0B', '02:00:00:00:00:0a', 'nonsense', '00:00:00:00:00:00', '02:00:00:00:00:0a'] });
  assert.equal(Buffer.from(bytes).toString('hex'), '0102' + '02000000000a' + '02000000000b');
  assert.deepEqual(decodeNodeMeta(bytes), { macs: ['02:00:00:00:00:0a', '02:00:00:00:00:0b'] });
  assert.equal(decodeNodeMeta(new Uint8Array()), undefined);
  assert.equal(decodeNodeMeta(Uint8Array.from([2, 0])), undefined, 'a newer version');
  assert.equal(decodeNodeMeta(bytes.subarray(0, 9)), undefined, 'truncated');
  assert.equal(decodeNodeMeta(Uint8Array.from([...bytes, 0])), undefined, 'trailing bytes');
  assert.ok(encodeNodeMeta({ macs: Array.from({ length: 200 }, (_, i) => `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`) }).length <= 512);
  const byMac = nodesByMac([
    { name: 'node2', meta: encodeNodeMeta({ macs: ['02:00:00:00:00:0b'] }) },
    { name: 'node1', meta: encodeNodeMeta({ macs: ['02:00:00:00:00:0a', '02:00:00:00:00:0b'] }) },
    { name: 'node3', meta: new Uint8Array([9, 9, 9]) },
  ]);
  assert.deepEqual([...byMac], [['02:00:00:00:00:0a', 'node1'], ['02:00:00:00:00:0b', 'node1']]);
});

test('probing rotates through a large owned set, maxProbesPerRound per round, every IP in turn', () => {
  const d = new SplitBrainDetector({ ...DEFAULT_SPLIT_BRAIN_TIMING, maxProbesPerRound: 4 });
  const owned = Array.from({ length: 10 }, (_, i) => `192.0.2.${10 + i}`);
  const seen: string[] = [];
  for (let round = 0; round < 5; round++) {
    const probe = d.tick(round * 3000, owned).find((x) => x.kind === 'probe');
    assert.ok(probe && probe.kind === 'probe' && probe.ips.length === 4);
    seen.push(...(probe as { ips: readonly string[] }).ips);
  }
  assert.deepEqual(new Set(seen), new Set(owned), 'every owned IP probed within ceil(10 / 4) + 1 rounds');
  assert.deepEqual(d.tick(0, owned.slice(0, 2)).find((x) => x.kind === 'probe'), { kind: 'probe', ips: owned.slice(0, 2) });
});
