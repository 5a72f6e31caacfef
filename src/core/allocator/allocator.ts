/**
 * The IP allocator (MetalLB v0.11 allocator with the v0.12 multi-address API): pools, per-service
 * allocations, sharing rules. Results are MetalLB's except that `allocate` tries pools in config
 * order (MetalLB: random map order). Within a pool the choice is MetalLB's ascending first fit —
 * the first address a service may take, free or shareable — found without scanning addresses.
 */
import { type Cidr, type IpAddr, cidrSize } from '../ip/index.js';
import { IpUsage } from './ip-usage.js';
import { isBuggyIp, poolCount } from './pool-count.js';
import { type AllocError, type AllocResult, type FamilyRequest, type Port, familyOfIps } from './types.js';

/** The fields of a config pool the allocator uses (a config `Pool` satisfies it). */
export interface AllocatorPool {
  readonly name: string;
  readonly cidrs: readonly Cidr[];
  readonly avoidBuggyIps: boolean;
  readonly autoAssign: boolean;
}

/** One service's allocation. */
export interface Allocation {
  readonly pool: string;
  /** One address, or one per family (dual-stack), in the order they were assigned. */
  readonly ips: readonly IpAddr[];
  readonly ports: readonly Port[];
  readonly sharingKey: string;
  readonly backendKey: string;
}

/** Result of `setPools`. */
export type SetPoolsResult =
  | { readonly ok: true }
  /** `error` is the first orphan (by service key); `blockers` every service holding orphaned addresses. */
  | { readonly ok: false; readonly error: AllocError; readonly blockers: readonly string[] };

/** Per-pool figures for metrics. */
export interface PoolUsage {
  /** MetalLB's capacity (exact; MaxInt64 for huge IPv6 pools). */
  readonly capacity: bigint;
  /** Distinct addresses in use. */
  readonly inUse: number;
}

/** A pool with its prefixes as value ranges [lo, hi), computed once per config. */
interface Range {
  readonly family: 4 | 6;
  readonly lo: bigint;
  readonly hi: bigint;
}

interface PoolRanges {
  readonly pool: AllocatorPool;
  readonly ranges: readonly Range[];
}

function withRanges(pool: AllocatorPool): PoolRanges {
  return {
    pool,
    ranges: pool.cidrs.map((c) => ({ family: c.base.family, lo: c.base.value, hi: c.base.value + cidrSize(c) })),
  };
}

function poolContains(p: PoolRanges, ip: IpAddr): boolean {
  if (p.pool.avoidBuggyIps && isBuggyIp(ip.family, ip.value)) return false;
  for (const r of p.ranges) {
    if (r.family === ip.family && r.lo <= ip.value && ip.value < r.hi) return true;
  }
  return false;
}

function containsAll(p: PoolRanges, ips: readonly IpAddr[]): boolean {
  for (const ip of ips) if (!poolContains(p, ip)) return false;
  return true;
}

/** Which pool (first in order) contains every address, honouring avoid-buggy-ips. */
function poolFor(pools: readonly PoolRanges[], ips: readonly IpAddr[]): AllocatorPool | undefined {
  if (ips.length === 0) return undefined;
  for (const p of pools) if (containsAll(p, ips)) return p.pool;
  return undefined;
}


export class Allocator {
  private pools: readonly PoolRanges[] = [];
  private readonly allocated = new Map<string, Allocation>();
  private readonly usage = new IpUsage();
  /** pool name → family → address value → number of services on it (a shared address counts once). */
  private readonly poolUse = new Map<string, Record<4 | 6, Map<bigint, number>>>();
  /**
   * Per prefix (and avoid-buggy mode): a value below which every address is used or unusable, so
   * searches start there. Lowered whenever an address is freed; only ever a lower bound.
   */
  private readonly hints = new Map<Range, bigint>();
  private readonly hintsAvoidingBuggy = new Map<Range, bigint>();

  /** The pools in force, in config order. */
  get poolList(): readonly AllocatorPool[] {
    return this.pools.map((p) => p.pool);
  }

  /**
   * Replaces the pools. Refused (nothing changes) when an allocated address would belong to no
   * pool; otherwise allocations whose pool changed name (rename, split, swap) are re-homed.
   */
  setPools(newPools: readonly AllocatorPool[]): SetPoolsResult {
    const pools = newPools.map(withRanges);
    const orphans = [...this.allocated].filter(([, a]) => poolFor(pools, a.ips) === undefined);
    if (orphans.length > 0) {
      orphans.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const [svc, first] = orphans[0]!;
      return { ok: false, error: { kind: 'orphan', svc, ips: first.ips }, blockers: orphans.map(([s]) => s) };
    }
    this.pools = pools;
    this.poolUse.clear();
    this.hints.clear();
    this.hintsAvoidingBuggy.clear();
    for (const [svc, a] of this.allocated) {
      const rehomed = { ...a, pool: poolFor(pools, a.ips)!.name };
      this.allocated.set(svc, rehomed);
      this.countUse(rehomed, +1);
    }
    return { ok: true };
  }

  /** Takes exactly `ips` for `svc` (any pool, auto-assign ignored); a failure changes nothing. */
  assign(svc: string, ips: readonly IpAddr[], ports: readonly Port[], sharingKey: string, backendKey: string): AllocResult {
    const pool = poolFor(this.pools, ips);
    if (pool === undefined) return { ok: false, error: { kind: 'notAllowed', ips } };
    for (const ip of ips) {
      const error = this.usage.check(svc, ip, ports, sharingKey, backendKey);
      if (error !== undefined) return { ok: false, error };
    }
    this.unassign(svc);
    const allocation: Allocation = { pool: pool.name, ips: [...ips], ports: [...ports], sharingKey, backendKey };
    this.allocated.set(svc, allocation);
    for (const ip of ips) this.usage.add(svc, ip, ports, sharingKey, backendKey);
    this.countUse(allocation, +1);
    return { ok: true, ips: allocation.ips };
  }

  /** Releases `svc`'s addresses; returns whether it had any. */
  unassign(svc: string): boolean {
    const allocation = this.allocated.get(svc);
    if (allocation === undefined) return false;
    this.allocated.delete(svc);
    for (const ip of allocation.ips) {
      if (this.usage.remove(svc, ip)) this.lowerHints(ip);
    }
    this.countUse(allocation, -1);
    return true;
  }

  /**
   * One address per requested family from pool `poolName` (auto-assign ignored), each the first
   * usable one in CIDR order. A service that already has addresses keeps them (ports and keys are
   * updated), unless they are of another family.
   */
  allocateFromPool(svc: string, family: FamilyRequest, poolName: string, ports: readonly Port[], sharingKey: string, backendKey: string): AllocResult {
    const existing = this.allocated.get(svc);
    if (existing !== undefined) {
      if (familyOfIps(existing.ips) !== family) return { ok: false, error: { kind: 'wrongFamily', held: existing.ips, requested: family } };
      return this.assign(svc, existing.ips, ports, sharingKey, backendKey);
    }
    const pool = this.pools.find((p) => p.pool.name === poolName);
    if (pool === undefined) return { ok: false, error: { kind: 'unknownPool', pool: poolName } };
    return this.takeFromPool(svc, family, pool, ports, sharingKey, backendKey);
  }

  /** Like allocateFromPool over every auto-assign pool, in config order; keeps existing addresses. */
  allocate(svc: string, family: FamilyRequest, ports: readonly Port[], sharingKey: string, backendKey: string): AllocResult {
    const existing = this.allocated.get(svc);
    if (existing !== undefined) return this.assign(svc, existing.ips, ports, sharingKey, backendKey);
    for (const pool of this.pools) {
      if (!pool.pool.autoAssign) continue;
      const result = this.takeFromPool(svc, family, pool, ports, sharingKey, backendKey);
      if (result.ok) return result;
    }
    return { ok: false, error: { kind: 'noAvailable' } };
  }

  /** The pool of `svc`'s allocation. */
  poolOf(svc: string): string | undefined {
    return this.allocated.get(svc)?.pool;
  }

  /**
   * Whether pool `name` holds every one of `ips` (honouring avoid-buggy-ips); undefined when there is no such pool.
   * The requested-IP-versus-requested-pool rule (src/core/controller/converge.ts) uses it.
   */
  poolHolds(name: string, ips: readonly IpAddr[]): boolean | undefined {
    const pool = this.pools.find((p) => p.pool.name === name);
    return pool === undefined ? undefined : containsAll(pool, ips);
  }

  /** `svc`'s allocation. */
  allocationOf(svc: string): Allocation | undefined {
    return this.allocated.get(svc);
  }

  /** Every allocation (service key → allocation), for diagnostics and tests. */
  allocations(): ReadonlyMap<string, Allocation> {
    return this.allocated;
  }

  /** Capacity and distinct addresses in use, per pool in config order. */
  poolUsage(): Map<string, PoolUsage> {
    const out = new Map<string, PoolUsage>();
    for (const { pool } of this.pools) {
      const use = this.poolUse.get(pool.name);
      out.set(pool.name, { capacity: poolCount(pool), inUse: (use?.[4].size ?? 0) + (use?.[6].size ?? 0) });
    }
    return out;
  }

  private takeFromPool(svc: string, family: FamilyRequest, pool: PoolRanges, ports: readonly Port[], sharingKey: string, backendKey: string): AllocResult {
    const wantV4 = family !== 'ipv6';
    const wantV6 = family !== 'ipv4';
    let v4: IpAddr | undefined;
    let v6: IpAddr | undefined;
    const ips: IpAddr[] = [];
    for (const range of pool.ranges) {
      if (range.family === 4 ? !wantV4 || v4 !== undefined : !wantV6 || v6 !== undefined) continue;
      const ip = this.firstUsable(range, pool.pool.avoidBuggyIps, svc, ports, sharingKey, backendKey);
      if (ip === undefined) continue;
      if (ip.family === 4) v4 = ip;
      else v6 = ip;
      ips.push(ip);
    }
    if ((wantV4 && v4 === undefined) || (wantV6 && v6 === undefined)) {
      return { ok: false, error: { kind: 'poolExhausted', pool: pool.pool.name, family } };
    }
    return this.assign(svc, ips, ports, sharingKey, backendKey);
  }

  /**
   * The first address of `range` (ascending) that `svc` may take: the lower of the first free one
   * and the first used one it may share. Free runs are jumped over via the used-run index, and
   * only addresses carrying the same sharing key are examined for sharing (below the first free
   * address only). That last walk grows with the number of addresses using the requester's key,
   * never with pool size; sharing groups are small in practice.
   */
  private firstUsable(range: Range, avoidBuggy: boolean, svc: string, ports: readonly Port[], sharingKey: string, backendKey: string): IpAddr | undefined {
    const { family, lo, hi } = range;
    const hints = avoidBuggy ? this.hintsAvoidingBuggy : this.hints;
    const hint = hints.get(range);
    let free = hint !== undefined && hint > lo ? hint : lo;
    for (;;) {
      free = this.usage.firstFreeAtOrAfter(family, free);
      if (free >= hi || !(avoidBuggy && isBuggyIp(family, free))) break;
      free += 1n;
    }
    hints.set(range, free);
    if (sharingKey !== '') {
      for (const value of this.usage.sharedIn(family, sharingKey, lo, free < hi ? free : hi)) {
        if (avoidBuggy && isBuggyIp(family, value)) continue;
        const ip = { family, value };
        if (this.usage.check(svc, ip, ports, sharingKey, backendKey) === undefined) return ip;
      }
    }
    return free < hi ? { family, value: free } : undefined;
  }

  /** An address became free: no search may start above it any more. */
  private lowerHints(ip: IpAddr): void {
    for (const hints of [this.hints, this.hintsAvoidingBuggy]) {
      for (const [range, value] of hints) {
        if (range.family === ip.family && ip.value < value) hints.set(range, ip.value);
      }
    }
  }

  private countUse(allocation: Allocation, delta: 1 | -1): void {
    let byFamily = this.poolUse.get(allocation.pool);
    if (byFamily === undefined) {
      byFamily = { 4: new Map(), 6: new Map() };
      this.poolUse.set(allocation.pool, byFamily);
    }
    for (const ip of allocation.ips) {
      const counts = byFamily[ip.family];
      const n = (counts.get(ip.value) ?? 0) + delta;
      if (n > 0) counts.set(ip.value, n);
      else counts.delete(ip.value);
    }
  }
}
