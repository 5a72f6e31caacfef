/**
 * Layer-2 election (src/core/election): how evenly the hashring spreads IPs, and what electing an
 * owner costs.
 * - Spread over the lab pools (192.0.2.100–199 and 2001:db8::100–1ff, 356 IPs) across node1..3:
 *   the largest node's share against an even third.
 * - 300 random 3-node sets (seeded): how many give some node a ring arc more than 15% off an even
 *   third, at our vnode count and at hashring's default 40 (same run, same sets). Arc share is the
 *   exact fraction of the hash space a node owns, i.e. its expected share of many IPs.
 * - electOwner for 10,000 Services: Cluster policy over 3 nodes (one ring), and Local policy with a
 *   random endpoint subset of 10 nodes per Service (one ring over the alive nodes), against MetalLB's own method
 *   (sort candidates by sha256(node#ip)) in the same run. CPU time, GC included.
 */
import { createHash } from 'node:crypto';
import HashRing from 'hashring';
import { clearRingCache, electOwner, RING_VNODES } from '../src/core/election/index.js';
import { decideService } from '../src/core/speaker/decide.js';
import { parseConfig } from '../src/core/config/parse.js';
import { endpointsFromEndpoints } from '../src/core/service/endpoints.js';
import type { BenchResult } from './types.js';

function cpuMs(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function labIps(): string[] {
  const out: string[] = [];
  for (let i = 100; i < 200; i++) out.push(`192.0.2.${i}`);
  for (let i = 0x100; i <= 0x1ff; i++) out.push(`2001:db8::${i.toString(16)}`);
  return out;
}

/** Largest |share × n − 1| over the nodes of a ring, by arc of the 32-bit hash space. */
function worstArcDeviation(ring: HashRing, n: number): number {
  const points = ring.ring;
  const share = new Map<string, number>();
  for (let i = 0; i < points.length; i++) {
    const prev = i === 0 ? points[points.length - 1]!.value - 2 ** 32 : points[i - 1]!.value;
    share.set(points[i]!.server, (share.get(points[i]!.server) ?? 0) + (points[i]!.value - prev) / 2 ** 32);
  }
  return Math.max(...[...share.values()].map((s) => Math.abs(s * n - 1)));
}

/** Of 300 seeded random 3-node sets: how many are > 15% off even, and the worst deviation. */
function randomSets(vnodes: number): { over15: number; worst: number } {
  const rand = lcg(42);
  let over15 = 0;
  let worst = 0;
  for (let t = 0; t < 300; t++) {
    const nodes = [0, 1, 2].map(() => `node-${Math.floor(rand() * 1e9).toString(36)}`).sort();
    const dev = worstArcDeviation(new HashRing(nodes, 'md5', { 'vnode count': vnodes }), 3);
    if (dev > 0.15) over15++;
    worst = Math.max(worst, dev);
  }
  return { over15, worst };
}

/** MetalLB v0.11's election: candidates sorted by sha256(node + "#" + ip), first wins. */
function sha256Owner(ip: string, nodes: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestHash = '';
  for (const n of nodes) {
    const h = createHash('sha256').update(`${n}#${ip}`).digest('hex');
    if (best === undefined || h < bestHash) {
      best = n;
      bestHash = h;
    }
  }
  return best;
}

const SERVICES = 10_000;

function serviceIps(): string[] {
  return Array.from({ length: SERVICES }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
}

/** Per-Service Local candidate sets: a random non-empty subset of 10 nodes (seeded). */
function localSets(): string[][] {
  const rand = lcg(5);
  const cluster = Array.from({ length: 10 }, (_, i) => `node${i + 1}`);
  return Array.from({ length: SERVICES }, () => {
    const set = cluster.filter(() => rand() < 0.3);
    return set.length > 0 ? set : [cluster[0]!];
  });
}

/** CPU ms of one decideService per Service (10,000 Cluster Services of one layer-2 pool) with `n` alive nodes. */
function decideAll(n: number): number {
  const parsed = parseConfig('address-pools:\n- name: big\n  protocol: layer2\n  addresses: [10.0.0.0/16]\n');
  if (!parsed.ok) throw new Error('bench config does not parse');
  const nodes = Array.from({ length: n }, (_, i) => `node${i + 1}`);
  const alive = new Set(nodes);
  const endpoints = endpointsFromEndpoints({ subsets: [{ addresses: [{ ip: '172.16.0.1', nodeName: 'node1' }] }] });
  const services = serviceIps().map((ip) => ({ spec: { type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [{ ip }] } } }));
  const once = (): void => {
    for (const service of services) {
      decideService({ name: 'ns/svc', service, endpoints, config: parsed.config, myNode: 'node1', alive, current: undefined });
    }
  };
  once(); // warm-up: JIT and the ring over the alive nodes
  return cpuMs(once);
}

export async function run(): Promise<BenchResult[]> {
  const three = ['node1', 'node2', 'node3'];
  const counts = new Map<string, number>();
  const ips = labIps();
  for (const ip of ips) {
    const o = electOwner(ip, three)!;
    counts.set(o, (counts.get(o) ?? 0) + 1);
  }
  const even = ips.length / 3;
  const labWorst = Math.max(...three.map((n) => Math.abs((counts.get(n) ?? 0) / even - 1)));
  const ours = randomSets(RING_VNODES);
  const dflt = randomSets(40);
  const oursRingArc = worstArcDeviation(new HashRing(three, 'md5', { 'vnode count': RING_VNODES }), 3);

  const svcIps = serviceIps();
  const sets = localSets();
  // Warm-up (JIT), then measure cold (rings built inside the timing) and warm.
  for (const ip of svcIps.slice(0, 2000)) electOwner(ip, three);
  clearRingCache();
  const clusterCold = cpuMs(() => {
    for (const ip of svcIps) electOwner(ip, three);
  });
  const clusterWarm = cpuMs(() => {
    for (const ip of svcIps) electOwner(ip, three);
  });
  clearRingCache();
  const cluster10 = Array.from({ length: 10 }, (_, i) => `node${i + 1}`);
  const localCold = cpuMs(() => {
    for (let i = 0; i < SERVICES; i++) electOwner(svcIps[i]!, sets[i]!, cluster10);
  });
  const distinctSets = new Set(sets.map((s) => s.join(','))).size;
  const sha = cpuMs(() => {
    for (const ip of svcIps) sha256Owner(ip, three);
  });
  const shaLocal = cpuMs(() => {
    for (let i = 0; i < SERVICES; i++) sha256Owner(svcIps[i]!, sets[i]!);
  });
  const round = (x: number): number => Math.round(x * 10) / 10;
  const decide100 = decideAll(100);
  const decide3 = decideAll(3);
  return [
    {
      name: `lab pools (${ips.length} IPs) over node1..3: largest deviation from an even third`,
      value: round(labWorst * 100),
      unit: '%',
      note: `owned: ${three.map((n) => `${n} ${counts.get(n) ?? 0}`).join(', ')}; ring arcs at most ${round(oursRingArc * 100)}% off even`,
    },
    {
      name: `300 random 3-node sets with a node > 15% off even (ring arc), ${RING_VNODES} vnodes`,
      value: ours.over15,
      unit: 'sets',
      reference: { name: 'hashring default (40 vnodes), same sets', value: dflt.over15 },
      note: `worst deviation ${round(ours.worst * 100)}% (default: ${round(dflt.worst * 100)}%)`,
    },
    {
      name: `electOwner for ${SERVICES.toLocaleString('en')} Cluster Services over 3 nodes, cold ring cache`,
      value: round(clusterCold),
      unit: 'ms CPU',
      reference: { name: "MetalLB's sha256(node#ip) sort, same Services", value: round(sha) },
      note: `warm cache: ${round(clusterWarm)} ms`,
    },
    {
      name: `electOwner for ${SERVICES.toLocaleString('en')} Local Services, random endpoint subsets of 10 nodes`,
      value: round(localCold),
      unit: 'ms CPU',
      reference: { name: "MetalLB's sha256(node#ip) sort, same Services", value: round(shaLocal) },
      note: `${distinctSets} distinct node sets, one ring over the 10 alive nodes (as decideService does)`,
    },
    {
      name: `decideService for ${SERVICES.toLocaleString('en')} layer-2 Cluster Services, 100 alive nodes (one full resync)`,
      value: round(decide100),
      unit: 'ms CPU',
      reference: { name: 'same with 3 alive nodes', value: round(decide3) },
    },
  ];
}
