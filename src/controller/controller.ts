/**
 * The controller's pure orchestration (MetalLB v0.11 controller + v0.12 dual-stack): holds the
 * allocator and the last good config, turns each Service into the status it should have and the
 * Events to record. No I/O and synchronous: the Kubernetes adapter feeds it objects from its
 * informer caches and carries out what it returns (status writes, events, requeues).
 */
import { Allocator, formatAllocError } from '../core/allocator/index.js';
import type { Config } from '../core/config/types.js';
import { converge } from '../core/controller/converge.js';
import { type IpAddr, formatIp, ipEquals } from '../core/ip/index.js';
import type { Logger, ServiceEvent, SyncState } from '../core/ports.js';
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
    if (svc === undefined) {
      if (this.allocator.unassign(key)) this.log.info({ event: 'serviceDeleted', service: key, msg: 'service deleted, IP released' });
      return { state: 'reprocessAll', events: [] };
    }
    const view = toServiceView(svc);
    if (!this.handlesClass(view.lbClass)) {
      // Another load-balancer implementation owns it: no status, no event; forget any old bookkeeping.
      this.allocator.unassign(key);
      return { state: 'success', events: [] };
    }
    if (!this.hasConfig) return { state: 'success', events: [] };
    if (this.configMissing) {
      this.holdOnly(key, view);
      return { state: 'success', events: [] };
    }
    const before = this.allocator.allocationOf(key)?.ips ?? [];
    const outcome = converge(this.allocator, key, view, this.synced, this.log.child({ service: key }));
    if (!outcome.ok) return { state: 'error', events: outcome.events };
    const desired: Ingress[] = outcome.ips.map((ip) => ({ ip: formatIp(ip) }));
    const after = this.allocator.allocationOf(key)?.ips ?? [];
    // An address freed by this Service may let a waiting Service (or a refused config) through.
    const released = before.some((ip) => !after.some((a: IpAddr) => ipEquals(a, ip)));
    const state: SyncState = released ? 'reprocessAll' : 'success';
    if (sameIngress(view.ingress, desired)) return { state, events: outcome.events };
    return { state, status: desired, events: outcome.events };
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
