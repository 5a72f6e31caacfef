/**
 * Allocator alone: 100,000 allocations from an IPv4 /8 and from an IPv6 /64 (goal < 1 s each),
 * against the same 100,000 allocations from a /24-sized pool (fill 256, release all, repeat) in the
 * same run — the ratio shows whether one allocation's cost grows with pool size. A MetalLB-style
 * address-by-address scan over 2,000 allocations is measured too, for scale.
 * Figures are process CPU time (user + system, GC included), so the shared machine's load
 * does not distort them the way wall-clock time would.
 */
import { Allocator, type AllocatorPool } from '../src/core/allocator/index.js';
import { parseCidr, nthAddress, formatIp } from '../src/core/ip/index.js';
import type { BenchResult } from './types.js';

const N = 100_000;

/** CPU milliseconds spent by `fn`. */
function cpuMs(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function pool(name: string, cidr: string, avoidBuggyIps = false): AllocatorPool {
  const parsed = parseCidr(cidr);
  if (parsed === undefined) throw new Error(cidr);
  return { name, cidrs: [parsed], avoidBuggyIps, autoAssign: true };
}

/** ms for `N` allocate() calls of distinct services on a fresh allocator with `p`. */
function timeFill(p: AllocatorPool, family: 'ipv4' | 'ipv6'): number {
  const alloc = new Allocator();
  alloc.setPools([p]);
  return cpuMs(() => {
    for (let i = 0; i < N; i++) {
      const r = alloc.allocate(`ns/svc-${i}`, family, [{ proto: 'TCP', port: 80 }], '', '');
      if (!r.ok) throw new Error(`allocation ${i} failed`);
    }
  });
}

/** ms for N allocations from a /24: fill it, release everything, repeat. */
function timeSmallPool(): number {
  const alloc = new Allocator();
  alloc.setPools([pool('small', '10.0.0.0/24')]);
  let live: string[] = [];
  return cpuMs(() => {
    for (let i = 0; i < N; i++) {
      const key = `ns/svc-${i}`;
      let r = alloc.allocate(key, 'ipv4', [{ proto: 'TCP', port: 80 }], '', '');
      if (!r.ok) {
        for (const k of live) alloc.unassign(k);
        live = [];
        r = alloc.allocate(key, 'ipv4', [{ proto: 'TCP', port: 80 }], '', '');
        if (!r.ok) throw new Error('refill failed');
      }
      live.push(key);
    }
  });
}

/** ms for `n` allocations by MetalLB's method: walk the pool from its first address, test each. */
function timeNaiveScan(n: number): number {
  const cidr = parseCidr('10.0.0.0/8')!;
  const used = new Set<string>();
  return cpuMs(() => {
    for (let i = 0; i < n; i++) {
      for (let k = 0n; ; k++) {
        const key = formatIp(nthAddress(cidr, k)!);
        if (!used.has(key)) {
          used.add(key);
          break;
        }
      }
    }
  });
}

export async function run(): Promise<BenchResult[]> {
  timeFill(pool('warm', '10.0.0.0/12'), 'ipv4'); // JIT warm-up
  const small = Math.round(timeSmallPool());
  const v4 = Math.round(timeFill(pool('big4', '10.0.0.0/8'), 'ipv4'));
  const v6 = Math.round(timeFill(pool('big6', 'fd00:1:2:3::/64'), 'ipv6'));
  const buggy = Math.round(timeFill(pool('big4b', '10.0.0.0/8', true), 'ipv4'));
  const naiveN = 2_000;
  const naive = Math.round(timeNaiveScan(naiveN));
  const reference = { name: '100,000 allocations from a /24 (fill/release cycles)', value: small };
  return [
    { name: '100,000 allocations from an IPv4 /8', value: v4, unit: 'ms CPU', reference, note: 'goal < 1000 ms' },
    { name: '100,000 allocations from an IPv6 /64', value: v6, unit: 'ms CPU', reference, note: 'goal < 1000 ms' },
    { name: '100,000 allocations from an IPv4 /8 with avoid-buggy-ips', value: buggy, unit: 'ms CPU', reference },
    {
      name: `${naiveN.toLocaleString('en')} allocations by address-by-address scan (MetalLB's method) from a /8`,
      value: naive,
      unit: 'ms CPU',
      note: 'quadratic: for scale only',
    },
  ];
}
