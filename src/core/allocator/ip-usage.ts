/**
 * Who uses which address: per address the sharing and backend keys, the services on it and the
 * ports each holds (MetalLB's sharingKeyForIP / portsInUse / servicesOnIP), plus ordered indexes
 * per family (all used addresses; used addresses per sharing key) so the allocator can find the
 * first usable address of a prefix without scanning it.
 */
import type { Family, IpAddr } from '../ip/index.js';
import type { Port, SharingConflict, AllocError } from './types.js';
import { RunSet, SortedValues } from './used-set.js';

/** The state of one address in use. */
interface AddressUse {
  readonly sharingKey: string;
  readonly backendKey: string;
  /**
   * (service key, its ports) on this address. A plain array, not a Map: most addresses have one
   * service and sharing groups are small, and 100,000 Maps would dominate memory and GC.
   */
  readonly services: { svc: string; ports: readonly Port[] }[];
}

function portsOverlap(a: Port, ports: readonly Port[]): boolean {
  return ports.some((p) => p.port === a.port && p.proto === a.proto);
}

/** MetalLB's `sharingOK(existing, new)`. */
function sharingConflict(use: AddressUse, sharingKey: string, backendKey: string): SharingConflict | undefined {
  if (use.sharingKey === '') return { kind: 'existingNoSharing' };
  if (sharingKey === '') return { kind: 'newNoSharing' };
  if (sharingKey !== use.sharingKey) return { kind: 'sharingKeyMismatch', wanted: sharingKey, existing: use.sharingKey };
  if (backendKey !== use.backendKey) return { kind: 'backendKeyMismatch', wanted: backendKey, existing: use.backendKey };
  return undefined;
}

export class IpUsage {
  /** Per family, address value → its use (bigint keys compare by value). */
  private readonly uses: Record<Family, Map<bigint, AddressUse>> = { 4: new Map(), 6: new Map() };
  private count = 0;
  private readonly used: Record<Family, RunSet> = { 4: new RunSet(), 6: new RunSet() };
  /** Per family, sharing key → used addresses carrying it (the only ones a new service may join). */
  private readonly shared: Record<Family, Map<string, SortedValues>> = { 4: new Map(), 6: new Map() };

  /** Distinct addresses in use. */
  get size(): number {
    return this.count;
  }

  /** Whether `svc` may take `ip` with these ports and keys; undefined = yes. */
  check(svc: string, ip: IpAddr, ports: readonly Port[], sharingKey: string, backendKey: string): AllocError | undefined {
    const use = this.uses[ip.family].get(ip.value);
    if (use === undefined) return undefined;
    const conflict = sharingConflict(use, sharingKey, backendKey);
    if (conflict !== undefined) {
      const others = use.services.map((e) => e.svc).filter((s) => s !== svc).sort();
      if (others.length > 0) return { kind: 'sharing', svc, others, conflict };
    }
    for (const port of ports) {
      for (const held of use.services) {
        if (held.svc !== svc && portsOverlap(port, held.ports)) return { kind: 'portInUse', port, ip };
      }
    }
    return undefined;
  }

  /** Records `svc` on `ip` (the caller checked compatibility and removed svc's old use). */
  add(svc: string, ip: IpAddr, ports: readonly Port[], sharingKey: string, backendKey: string): void {
    let use = this.uses[ip.family].get(ip.value);
    if (use === undefined) {
      use = { sharingKey, backendKey, services: [] };
      this.uses[ip.family].set(ip.value, use);
      this.count++;
      this.used[ip.family].add(ip.value);
      if (sharingKey !== '') this.sharedIndex(ip.family, sharingKey).add(ip.value);
    }
    const existing = use.services.find((e) => e.svc === svc);
    if (existing !== undefined) existing.ports = ports;
    else use.services.push({ svc, ports });
  }

  /**
   * Removes `svc` from `ip`; the address is forgotten (keys included) once no service is left.
   * Returns true when the address became free.
   */
  remove(svc: string, ip: IpAddr): boolean {
    const use = this.uses[ip.family].get(ip.value);
    if (use === undefined) return false;
    const at = use.services.findIndex((e) => e.svc === svc);
    if (at < 0) return false;
    use.services.splice(at, 1);
    if (use.services.length > 0) return false;
    this.uses[ip.family].delete(ip.value);
    this.count--;
    this.used[ip.family].delete(ip.value);
    if (use.sharingKey !== '') {
      const index = this.shared[ip.family].get(use.sharingKey);
      index?.delete(ip.value);
      if (index?.size === 0) this.shared[ip.family].delete(use.sharingKey);
    }
    return true;
  }

  /** The smallest unused value >= v of `family`. */
  firstFreeAtOrAfter(family: Family, v: bigint): bigint {
    return this.used[family].firstAbsentAtOrAfter(v);
  }

  /** Used values in [lo, hi) whose sharing key is `sharingKey`, ascending. */
  sharedIn(family: Family, sharingKey: string, lo: bigint, hi: bigint): Iterable<bigint> {
    return this.shared[family].get(sharingKey)?.range(lo, hi) ?? [];
  }

  private sharedIndex(family: Family, sharingKey: string): SortedValues {
    let index = this.shared[family].get(sharingKey);
    if (index === undefined) {
      index = new SortedValues();
      this.shared[family].set(sharingKey, index);
    }
    return index;
  }
}
