/**
 * Who uses which address: per address the sharing and backend keys, the services on it and the
 * ports each holds (MetalLB's sharingKeyForIP / portsInUse / servicesOnIP), plus ordered indexes
 * per family (all used addresses; used addresses per sharing key) so the allocator can find the
 * first usable address of a prefix without scanning it.
 */
import type { Family, IpAddr } from '../ip/index.js';
import { type Port, type SharingConflict, type AllocError, portKey } from './types.js';
import { RunSet, SortedValues } from './used-set.js';

/** The state of one address in use. */
interface AddressUse {
  readonly sharingKey: string;
  readonly backendKey: string;
  /** service key → its ports on this address. */
  readonly services: Map<string, readonly Port[]>;
  /** `TCP/80` → service key holding it. */
  readonly ports: Map<string, string>;
}

/** Map key of an address (cheaper than formatting it). */
export function addressKey(ip: IpAddr): string {
  return `${ip.family}:${ip.value}`;
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
  private readonly uses = new Map<string, AddressUse>();
  private readonly used: Record<Family, RunSet> = { 4: new RunSet(), 6: new RunSet() };
  /** Per family, sharing key → used addresses carrying it (the only ones a new service may join). */
  private readonly shared: Record<Family, Map<string, SortedValues>> = { 4: new Map(), 6: new Map() };

  /** Distinct addresses in use. */
  get size(): number {
    return this.uses.size;
  }

  /** Whether `svc` may take `ip` with these ports and keys; undefined = yes. */
  check(svc: string, ip: IpAddr, ports: readonly Port[], sharingKey: string, backendKey: string): AllocError | undefined {
    const use = this.uses.get(addressKey(ip));
    if (use === undefined) return undefined;
    const conflict = sharingConflict(use, sharingKey, backendKey);
    if (conflict !== undefined) {
      const others = [...use.services.keys()].filter((s) => s !== svc).sort();
      if (others.length > 0) return { kind: 'sharing', svc, others, conflict };
    }
    for (const port of ports) {
      const holder = use.ports.get(portKey(port));
      if (holder !== undefined && holder !== svc) return { kind: 'portInUse', port, ip };
    }
    return undefined;
  }

  /** Records `svc` on `ip` (the caller checked compatibility and removed svc's old use). */
  add(svc: string, ip: IpAddr, ports: readonly Port[], sharingKey: string, backendKey: string): void {
    const key = addressKey(ip);
    let use = this.uses.get(key);
    if (use === undefined) {
      use = { sharingKey, backendKey, services: new Map(), ports: new Map() };
      this.uses.set(key, use);
      this.used[ip.family].add(ip.value);
      if (sharingKey !== '') this.sharedIndex(ip.family, sharingKey).add(ip.value);
    }
    use.services.set(svc, ports);
    for (const port of ports) use.ports.set(portKey(port), svc);
  }

  /** Removes `svc` from `ip`; the address is forgotten (keys included) once no service is left. */
  remove(svc: string, ip: IpAddr): void {
    const key = addressKey(ip);
    const use = this.uses.get(key);
    if (use === undefined) return;
    for (const port of use.services.get(svc) ?? []) {
      if (use.ports.get(portKey(port)) === svc) use.ports.delete(portKey(port));
    }
    use.services.delete(svc);
    if (use.services.size > 0) return;
    this.uses.delete(key);
    this.used[ip.family].delete(ip.value);
    if (use.sharingKey !== '') {
      const index = this.shared[ip.family].get(use.sharingKey);
      index?.delete(ip.value);
      if (index?.size === 0) this.shared[ip.family].delete(use.sharingKey);
    }
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
