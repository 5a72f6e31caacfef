/**
 * The IP allocator (MetalLB v0.11 allocator with the v0.12 multi-address API): pools, per-service
 * allocations, sharing rules. Results are MetalLB's except that `allocate` tries pools in config
 * order (MetalLB: random map order). Within a pool the choice is MetalLB's ascending first fit —
 * the first address a service may take, free or shareable — found without scanning addresses.
 */
import { type Cidr, type IpAddr, cidrContains, cidrSize } from '../ip/index.js';
import { IpUsage, addressKey } from './ip-usage.js';
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

/** Which pool (first in order) contains every address, honouring avoid-buggy-ips. */
function poolFor(pools: readonly AllocatorPool[], ips: readonly IpAddr[]): AllocatorPool | undefined {
  if (ips.length === 0) return undefined;
  return pools.find((pool) =>
    ips.every(
      (ip) => !(pool.avoidBuggyIps && isBuggyIp(ip.family, ip.value)) && pool.cidrs.some((c) => cidrContains(c, ip)),
    ),
  );
}

function familiesOf(request: FamilyRequest): readonly (4 | 6)[] {
  return request === 'dual' ? [4, 6] : request === 'ipv4' ? [4] : [6];
}

export class Allocator {
  private pools: readonly AllocatorPool[] = [];
  private readonly allocated = new Map<string, Allocation>();
  private readonly usage = new IpUsage();
  /** pool name → address key → number of services on it (a shared address counts once). */
  private readonly poolUse = new Map<string, Map<string, number>>();

  /** The pools in force, in config order. */
  get poolList(): readonly AllocatorPool[] {
    return this.pools;
  }

  /**
   * Replaces the pools. Refused (nothing changes) when an allocated address would belong to no
   * pool; otherwise allocations whose pool changed name (rename, split, swap) are re-homed.
   */
  setPools(pools: readonly AllocatorPool[]): SetPoolsResult {
    const orphans = [...this.allocated].filter(([, a]) => poolFor(pools, a.ips) === undefined);
    if (orphans.length > 0) {
      orphans.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const [svc, first] = orphans[0]!;
      return { ok: false, error: { kind: 'orphan', svc, ips: first.ips }, blockers: orphans.map(([s]) => s) };
    }
    this.pools = pools;
    this.poolUse.clear();
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
    for (const ip of allocation.ips) this.usage.remove(svc, ip);
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
    const pool = this.pools.find((p) => p.name === poolName);
    if (pool === undefined) return { ok: false, error: { kind: 'unknownPool', pool: poolName } };
    return this.takeFromPool(svc, family, pool, ports, sharingKey, backendKey);
  }

  /** Like allocateFromPool over every auto-assign pool, in config order; keeps existing addresses. */
  allocate(svc: string, family: FamilyRequest, ports: readonly Port[], sharingKey: string, backendKey: string): AllocResult {
    const existing = this.allocated.get(svc);
    if (existing !== undefined) return this.assign(svc, existing.ips, ports, sharingKey, backendKey);
    for (const pool of this.pools) {
      if (!pool.autoAssign) continue;
      const result = this.takeFromPool(svc, family, pool, ports, sharingKey, backendKey);
      if (result.ok) return result;
    }
    return { ok: false, error: { kind: 'noAvailable' } };
  }

  /** The pool of `svc`'s allocation. */
  poolOf(svc: string): string | undefined {
    return this.allocated.get(svc)?.pool;
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
    for (const pool of this.pools) {
      out.set(pool.name, { capacity: poolCount(pool), inUse: this.poolUse.get(pool.name)?.size ?? 0 });
    }
    return out;
  }

  private takeFromPool(svc: string, family: FamilyRequest, pool: AllocatorPool, ports: readonly Port[], sharingKey: string, backendKey: string): AllocResult {
    const found = new Map<4 | 6, IpAddr>();
    const wanted = familiesOf(family);
    const ips: IpAddr[] = [];
    for (const cidr of pool.cidrs) {
      const fam = cidr.base.family;
      if (!wanted.includes(fam) || found.has(fam)) continue;
      const ip = this.firstUsable(cidr, pool.avoidBuggyIps, svc, ports, sharingKey, backendKey);
      if (ip === undefined) continue;
      found.set(fam, ip);
      ips.push(ip);
    }
    if (found.size < wanted.length) return { ok: false, error: { kind: 'poolExhausted', pool: pool.name, family } };
    return this.assign(svc, ips, ports, sharingKey, backendKey);
  }

  /**
   * The first address of `cidr` (ascending) that `svc` may take: the lower of the first free one
   * and the first used one it may share. Free runs are jumped over via the used-run index, and
   * only addresses carrying the same sharing key are examined for sharing.
   */
  private firstUsable(cidr: Cidr, avoidBuggy: boolean, svc: string, ports: readonly Port[], sharingKey: string, backendKey: string): IpAddr | undefined {
    const family = cidr.base.family;
    const lo = cidr.base.value;
    const hi = lo + cidrSize(cidr);
    let free = lo;
    for (;;) {
      free = this.usage.firstFreeAtOrAfter(family, free);
      if (free >= hi || !(avoidBuggy && isBuggyIp(family, free))) break;
      free += 1n;
    }
    if (sharingKey !== '') {
      for (const value of this.usage.sharedIn(family, sharingKey, lo, free < hi ? free : hi)) {
        if (avoidBuggy && isBuggyIp(family, value)) continue;
        const ip = { family, value };
        if (this.usage.check(svc, ip, ports, sharingKey, backendKey) === undefined) return ip;
      }
    }
    return free < hi ? { family, value: free } : undefined;
  }

  private countUse(allocation: Allocation, delta: 1 | -1): void {
    let counts = this.poolUse.get(allocation.pool);
    if (counts === undefined) {
      counts = new Map();
      this.poolUse.set(allocation.pool, counts);
    }
    for (const ip of allocation.ips) {
      const key = addressKey(ip);
      const n = (counts.get(key) ?? 0) + delta;
      if (n > 0) counts.set(key, n);
      else counts.delete(key);
    }
  }
}
