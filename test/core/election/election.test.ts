import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalNodes, clearRingCache, electOwner, eligibleNodes, RING_VNODES, trafficPolicyOf } from '../../../src/core/election/index.js';
import { NO_ENDPOINTS, type EndpointsView } from '../../../src/core/service/endpoints.js';

function readyOn(...nodes: string[]): EndpointsView {
  return { ...NO_ENDPOINTS, present: true, anyReady: true, readyNodes: new Set(nodes), anyHealthy: true, healthyNodes: new Set(nodes) };
}

/** 192.0.2.100–199 and 2001:db8::100–1ff: the lab pools. */
function labIps(): string[] {
  const out: string[] = [];
  for (let i = 100; i < 200; i++) out.push(`192.0.2.${i}`);
  for (let i = 0x100; i <= 0x1ff; i++) out.push(`2001:db8::${i.toString(16)}`);
  return out;
}

/** Deterministic pseudo-random generator (LCG), so the properties run over fixed inputs. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('eligibility: Local = alive endpoint nodes, Cluster = all alive, no ready endpoint = none', () => {
  const alive = new Set(['n1', 'n2', 'n3']);
  assert.deepEqual(eligibleNodes('Local', readyOn('n3', 'n1', 'gone'), alive), ['n1', 'n3']);
  assert.deepEqual(eligibleNodes('Cluster', readyOn('gone'), alive), ['n1', 'n2', 'n3']);
  assert.deepEqual(eligibleNodes('Cluster', { ...readyOn(), anyReady: false }, alive), []);
  assert.deepEqual(eligibleNodes('Local', { ...readyOn(), anyReady: false }, alive), []);
  // A ready endpoint without a node (Endpoints without nodeName): Cluster announces, Local cannot.
  assert.deepEqual(eligibleNodes('Cluster', readyOn(), alive), ['n1', 'n2', 'n3']);
  assert.deepEqual(eligibleNodes('Local', readyOn(), alive), []);
  assert.deepEqual(eligibleNodes('Cluster', readyOn('n1'), new Set()), []);
  assert.equal(trafficPolicyOf('Local'), 'Local');
  for (const other of ['Cluster', undefined, null, 'local', 7]) assert.equal(trafficPolicyOf(other), 'Cluster');
});

test('electOwner: pinned owners over node1..3 (a change of ring parameters must be deliberate)', () => {
  const nodes = ['node1', 'node2', 'node3'];
  for (const [ip, owner] of PINNED) assert.equal(electOwner(ip, nodes), owner, ip);
  assert.equal(RING_VNODES, 256);
  assert.equal(electOwner('192.0.2.100', []), undefined);
  assert.equal(electOwner('192.0.2.100', ['only']), 'only');
  assert.equal(electOwner('192.0.2.100', ['', 'only', 'only']), 'only');
});

test('same view, same owner: input order and duplicates do not matter, nor a cold cache', () => {
  const rand = lcg(7);
  const nodes = ['node-a', 'node-b', 'node-c', 'node-d', 'node-e'];
  const ips = labIps();
  const want = ips.map((ip) => electOwner(ip, nodes));
  // Ten speakers, each with its own input order and a cold ring cache (a fresh process).
  for (let speaker = 0; speaker < 10; speaker++) {
    const shuffled = [...nodes, nodes[0]!].sort(() => rand() - 0.5);
    clearRingCache();
    assert.deepEqual(ips.map((ip) => electOwner(ip, shuffled)), want, shuffled.join(','));
  }
  assert.deepEqual(canonicalNodes(['b', 'a', 'b', '']), ['a', 'b']);
});

test('removing one of N nodes moves only the IPs that node owned', () => {
  const ips = labIps();
  for (const n of [2, 3, 5, 8]) {
    const nodes = Array.from({ length: n }, (_, i) => `node${i + 1}`);
    const before = new Map(ips.map((ip) => [ip, electOwner(ip, nodes)!]));
    for (const removed of nodes) {
      const rest = nodes.filter((x) => x !== removed);
      let moved = 0;
      for (const ip of ips) {
        const after = electOwner(ip, rest)!;
        if (before.get(ip) === removed) {
          assert.notEqual(after, removed);
          moved++;
        } else {
          assert.equal(after, before.get(ip), `${ip} moved although ${removed} did not own it`);
        }
      }
      assert.ok(moved > 0, `${removed} of ${n} owned something`);
    }
  }
});

test('the owner of a Local Service is always one of its alive endpoint nodes', () => {
  const rand = lcg(11);
  const cluster = Array.from({ length: 8 }, (_, i) => `node${i + 1}`);
  const ips = labIps();
  for (let i = 0; i < 500; i++) {
    const endpointNodes = cluster.filter(() => rand() < 0.4);
    // Ten membership views of 50 Services each (a ring per view).
    const alive = new Set(cluster.filter((_, k) => (k * 7 + Math.floor(i / 50)) % 5 !== 0));
    const ip = ips[i % ips.length]!;
    // As decideService does: one ring over the alive nodes serves every candidate subset.
    const owner = electOwner(ip, eligibleNodes('Local', readyOn(...endpointNodes), alive), alive);
    const expected = endpointNodes.filter((n) => alive.has(n));
    if (expected.length === 0) assert.equal(owner, undefined);
    else assert.ok(expected.includes(owner!), `${ip}: ${owner} not in ${expected.join(',')}`);
  }
});

test('a universe ring gives the same owner as a ring over the candidates alone', () => {
  const rand = lcg(3);
  // 49 and 98 nodes: sizes where hashring's own vnode split would give 255 instead of 256.
  // Each subset's own ring is built once and asked for every lab IP (ring building dominates the cost).
  for (const [size, subsets] of [[4, 12], [10, 12], [49, 4], [98, 2]] as const) {
    const universe = Array.from({ length: size }, (_, i) => `node${i + 1}`);
    for (let i = 0; i < subsets; i++) {
      const subset = universe.filter(() => rand() < 0.3);
      for (const ip of labIps()) {
        assert.equal(electOwner(ip, subset, universe), electOwner(ip, subset), `${size} nodes, ${ip}, ${subset.join(',')}`);
      }
    }
  }
  // Candidates outside the universe still count (the ring covers both).
  assert.equal(electOwner('192.0.2.100', ['x', 'y'], ['a']), electOwner('192.0.2.100', ['x', 'y']));
});

test('the lab pools spread over node1..3 with every node owning a fair share', () => {
  const counts = new Map<string, number>();
  for (const ip of labIps()) {
    const o = electOwner(ip, ['node1', 'node2', 'node3'])!;
    counts.set(o, (counts.get(o) ?? 0) + 1);
  }
  // 356 IPs: an even third is 118.7; the binomial spread alone is about ±9.
  for (const n of ['node1', 'node2', 'node3']) assert.ok((counts.get(n) ?? 0) >= 90 && (counts.get(n) ?? 0) <= 150, `${n}: ${counts.get(n)}`);
});

/** Owners over node1..3 with 256 virtual nodes (md5 ketama ring of npm hashring 3.2.0). */
const PINNED: Array<[string, string]> = [
  ['192.0.2.100', 'node1'], ['192.0.2.101', 'node3'], ['192.0.2.102', 'node3'], ['192.0.2.103', 'node1'],
  ['192.0.2.150', 'node2'], ['192.0.2.199', 'node3'], ['2001:db8::100', 'node3'], ['2001:db8::101', 'node3'],
  ['2001:db8::1a0', 'node2'], ['2001:db8::1ff', 'node1'], ['10.20.30.1', 'node3'], ['10.20.30.2', 'node1'],
];
