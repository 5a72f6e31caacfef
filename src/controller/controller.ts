/**
 * The controller's pure orchestration (MetalLB v0.11 controller + v0.12 dual-stack): holds the
 * allocator and the last good config, turns each Service into the status it should have and the
 * Events to record. No I/O and synchronous: the Kubernetes adapter feeds it objects from its
 * informer caches and carries out what it returns (status writes, events, requeues).
 */
import { Allocator, formatAllocError, portKey, type Allocation } from '../core/allocator/index.js';
import type { Config } from '../core/config/types.js';
import { converge } from '../core/controller/converge.js';
import { type IpAddr, formatIp, ipEquals } from '../core/ip/index.js';
import type { LogFields, Logger, ServiceEvent, SyncState } from '../core/ports.js';
import { type Ingress, type ServiceLike, type ServiceView, sameIngress, toServiceView } from '../core/service/view.js';

export type { Ingress, ServiceLike } from '../core/service/view.js';

/** Outcome of a config change, for the adapter's metrics, logs and events. */
export type ConfigDecision =
  /** Accepted: re-process every Service; config_stale 0, config_loaded 1. */
  | { readonly kind: 'applied' }
  /** ConfigMap absent: nothing is allocated or released; config_stale 1. */
  | { readonly kind: 'missing' }
  /** Would orphan assigned IPs: the last good config keeps running; config_stale 1. */
  | { readonly kind: 'refused'; readonly reason: string; readonly blockers: readonly string[] };

/** What to do after one Service was processed. */
export interface BalancerResult {
  readonly state: SyncState;
  /** Present = write exactly these ingress entries via services/status; absent = no write. */
  readonly status?: readonly Ingress[];
  readonly events: readonly ServiceEvent[];
  /**
   * Waiting Services (`ns/name`) this change may have unblocked, to re-queue (issue 8, fault 1): only those whose
   * wanted addresses or sharing key relate to the allocation that changed, never every Service.
   */
  readonly retry?: readonly string[];
}

/** What a Service that failed allocation waits for. */
interface Want {
  /** The requested addresses; undefined = any address of `pool` (or of an auto-assign pool when pool is ""). */
  readonly requested: readonly IpAddr[] | undefined;
  readonly pool: string;
  readonly sharingKey: string;
  /** The last failure logged at error level; a repeat of it is logged at debug (once per change). */
  readonly lastError: string | undefined;
}

/** Allocator figures per pool, for `metallb_allocator_addresses_total` / `_in_use_total`. */
export interface PoolStat {
  /**
   * Capacity as Prometheus carries it: the float64 nearest MetalLB's exact int64 count (MaxInt64 for huge IPv6
   * pools), exactly as Go's `float64(count)` rounds. Never clamped to Number.MAX_SAFE_INTEGER (issue 8, fault 3).
   */
  readonly capacity: number;
  /** Distinct addresses in use (a shared address counts once). */
  readonly inUse: number;
}

export interface ControllerOptions {
  readonly logger: Logger;
  /** `--lb-class`; undefined = only Services without `spec.loadBalancerClass`. */
  readonly lbClass?: string;
}

export class Controller {
  private readonly allocator = new Allocator();
  private readonly log: Logger;
  private readonly lbClass: string | undefined;
  /** A config has been applied at least once. */
  private hasConfig = false;
  /** The ConfigMap is currently absent: hold what exists, allocate and release nothing. */
  private configMissing = false;
  private stale = false;
  private synced = false;
  /** Services that failed allocation, by `ns/name`. */
  private readonly waiting = new Map<string, Want>();

  constructor(opts: ControllerOptions) {
    this.log = opts.logger;
    this.lbClass = opts.lbClass === '' ? undefined : opts.lbClass;
  }

  /** True while the last config seen was refused or is missing. */
  get configStale(): boolean {
    return this.stale;
  }

  /** Config change; undefined = ConfigMap absent. A rejected config keeps the last good one. */
  setConfig(cfg: Config | undefined): ConfigDecision {
    if (cfg === undefined) {
      this.configMissing = true;
      this.stale = true;
      this.log.error({ op: 'setConfig', error: 'configuration is missing', msg: 'configuration is missing, MetalLB will not function' });
      return { kind: 'missing' };
    }
    const result = this.allocator.setPools(cfg.pools);
    if (!result.ok) {
      this.stale = true;
      const reason = formatAllocError(result.error, 'v0.11');
      this.log.error({ op: 'setConfig', error: reason, blockers: result.blockers, msg: 'applying new configuration failed' });
      return { kind: 'refused', reason, blockers: result.blockers };
    }
    this.hasConfig = true;
    this.configMissing = false;
    this.stale = false;
    this.log.info({ event: 'configLoaded', msg: 'config (re)loaded' });
    return { kind: 'applied' };
  }

  /** One Service (undefined = deleted). `status` present = write exactly these ingress entries. */
  setBalancer(key: string, svc: ServiceLike | undefined): BalancerResult {
    const previous = this.allocator.allocationOf(key);
    if (svc === undefined) {
      this.waiting.delete(key);
      if (this.allocator.unassign(key)) this.log.info({ event: 'serviceDeleted', service: key, msg: 'service deleted, IP released' });
      return { state: 'reprocessAll', events: [], ...this.retryOf(key, previous, undefined) };
    }
    const view = toServiceView(svc);
    if (!this.handlesClass(view.lbClass)) {
      // Another load-balancer implementation owns it: no status, no event; forget any old bookkeeping.
      this.waiting.delete(key);
      this.allocator.unassign(key);
      return { state: 'success', events: [], ...this.retryOf(key, previous, undefined) };
    }
    if (!this.hasConfig) return { state: 'success', events: [] };
    if (this.configMissing) {
      this.holdOnly(key, view);
      return { state: 'success', events: [] };
    }
    const lastError = this.waiting.get(key)?.lastError;
    const failures: string[] = [];
    const outcome = converge(this.allocator, key, view, this.synced, onceLogger(this.log.child({ service: key }), lastError, failures));
    if (!outcome.ok) return { state: 'error', events: outcome.events };
    const desired: Ingress[] = outcome.ips.map((ip) => ({ ip: formatIp(ip) }));
    const current = this.allocator.allocationOf(key);
    if (outcome.ips.length === 0 && view.isLoadBalancer && view.clusterFamily.kind === 'ok' && view.requested.kind !== 'invalid') {
      const requested = view.requested.kind === 'ips' ? view.requested.ips : undefined;
      this.waiting.set(key, { requested, pool: view.pool, sharingKey: view.sharingKey, lastError: failures.at(-1) ?? lastError });
    } else {
      this.waiting.delete(key);
    }
    const before = previous?.ips ?? [];
    const after = current?.ips ?? [];
    // An address freed by this Service may let a waiting Service (or a refused config) through.
    const released = before.some((ip) => !after.some((a: IpAddr) => ipEquals(a, ip)));
    const state: SyncState = released ? 'reprocessAll' : 'success';
    const retry = this.retryOf(key, previous, current);
    if (sameIngress(view.ingress, desired)) return { state, events: outcome.events, ...retry };
    return { state, status: desired, events: outcome.events, ...retry };
  }

  private retryOf(key: string, before: Allocation | undefined, after: Allocation | undefined): { retry?: readonly string[] } {
    const retry = this.unblocked(key, before, after);
    return retry.length > 0 ? { retry } : {};
  }

  /** How many Services wait for an address (for tests and metrics). */
  get waitingCount(): number {
    return this.waiting.size;
  }

  /**
   * The waiting Services a change of `key`'s allocation (before → after) may have unblocked: anything that can make
   * a waiter compatible with the holders of the address it wants (a holder's sharing key, traffic policy/selector,
   * ports, deletion, or move to another address) shows up as a changed allocation. A waiter for specific addresses
   * is retried when the changed allocation held or holds one of them; a waiter for any address of a pool when an
   * address of that pool was released, or when it could share with the holder (same sharing key before or after).
   */
  private unblocked(key: string, before: Allocation | undefined, after: Allocation | undefined): string[] {
    if (before === undefined && after === undefined) return [];
    if (before !== undefined && after !== undefined && sameAllocation(before, after)) return [];
    const touched = [...(before?.ips ?? []), ...(after?.ips ?? [])];
    const released = (before?.ips ?? []).some((ip) => !(after?.ips ?? []).some((a) => ipEquals(a, ip)));
    const out: string[] = [];
    for (const [waiter, want] of this.waiting) {
      if (waiter === key) continue;
      if (want.requested !== undefined) {
        if (want.requested.some((ip) => touched.some((t) => ipEquals(t, ip)))) out.push(waiter);
        continue;
      }
      const samePool = want.pool === '' || want.pool === before?.pool || want.pool === after?.pool;
      const couldShare = want.sharingKey !== '' && (want.sharingKey === before?.sharingKey || want.sharingKey === after?.sharingKey);
      if (samePool && (released || couldShare)) out.push(waiter);
    }
    return out;
  }

  /** Initial cache sync finished: allocation may start. Returns reprocessAll so waiting Services retry. */
  markSynced(): SyncState {
    this.synced = true;
    this.log.info({ event: 'stateSynced', msg: 'controller synced, can allocate IPs now' });
    return 'reprocessAll';
  }

  /** Allocator stats per pool for metrics. */
  poolStats(): ReadonlyMap<string, PoolStat> {
    const out = new Map<string, PoolStat>();
    for (const [pool, usage] of this.allocator.poolUsage()) {
      // Number(bigint) rounds to nearest, ties to even: the same float64 as Go's conversion of the int64.
      out.set(pool, { capacity: Number(usage.capacity), inUse: usage.inUse });
    }
    return out;
  }

  private handlesClass(lbClass: string | undefined): boolean {
    return lbClass === this.lbClass;
  }

  /**
   * ConfigMap absent: re-register the addresses Services already show (so nothing is handed out
   * twice later) but never clear a status or allocate.
   */
  private holdOnly(key: string, view: ServiceView): void {
    const status = view.statusIps;
    if (!view.isLoadBalancer || status.kind !== 'ok') return;
    if (view.clusterFamily.kind !== 'ok' || view.clusterFamily.family !== status.family) return;
    this.allocator.assign(key, status.ips, view.ports, view.sharingKey, view.backendKey);
  }
}

function sameAllocation(a: Allocation, b: Allocation): boolean {
  return a.pool === b.pool && a.sharingKey === b.sharingKey && a.backendKey === b.backendKey
    && a.ips.length === b.ips.length && a.ips.every((ip, i) => ipEquals(ip, b.ips[i]!))
    && a.ports.length === b.ports.length && a.ports.every((p, i) => portKey(p) === portKey(b.ports[i]!));
}

/**
 * A logger for one convergence that logs a waiting Service's failure at error level once per change of its reason:
 * an `allocateIPs` error equal to `lastError` goes to debug. Every failure reason is appended to `failures`.
 */
function onceLogger(log: Logger, lastError: string | undefined, failures: string[]): Logger {
  const isRepeat = (f: LogFields) => {
    if (f['op'] !== 'allocateIPs' || typeof f['error'] !== 'string') return false;
    failures.push(f['error']);
    return f['error'] === lastError;
  };
  return {
    debug: (f) => log.debug(f),
    info: (f) => log.info(f),
    warn: (f) => log.warn(f),
    error: (f) => (isRepeat(f) ? log.debug({ ...f, repeated: 'true' }) : log.error(f)),
    child: (f) => onceLogger(log.child(f), lastError, failures),
  };
}
