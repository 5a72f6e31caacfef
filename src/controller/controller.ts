/**
 * The controller's pure orchestration (MetalLB v0.11 controller + v0.12 dual-stack): holds the
 * allocator and the last good config, turns each Service into the status it should have and the
 * Events to record. No I/O and synchronous: the Kubernetes adapter feeds it objects from its
 * informer caches and carries out what it returns (status writes, events, requeues).
 */
import type { Config } from '../core/config/types.js';
import type { Logger, ServiceEvent, SyncState } from '../core/ports.js';
import type { Ingress, ServiceLike } from '../core/service/view.js';

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
  /** Capacity; MetalLB's MaxInt64 rule, capped at Number.MAX_SAFE_INTEGER. */
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
  constructor(opts: ControllerOptions) {
    void opts;
    throw new Error('Controller: implementation lands in the next commit');
  }

  /** True while the last config seen was refused or is missing. */
  get configStale(): boolean {
    return true;
  }

  /** Config change; undefined = ConfigMap absent. A rejected config keeps the last good one. */
  setConfig(cfg: Config | undefined): ConfigDecision {
    void cfg;
    return { kind: 'missing' };
  }

  /** One Service (undefined = deleted). `status` present = write exactly these ingress entries. */
  setBalancer(key: string, svc: ServiceLike | undefined): BalancerResult {
    void key;
    void svc;
    return { state: 'error', events: [] };
  }

  /** Initial cache sync finished: allocation may start. Returns reprocessAll so waiting Services retry. */
  markSynced(): SyncState {
    return 'reprocessAll';
  }

  /** Allocator stats per pool for metrics. */
  poolStats(): ReadonlyMap<string, PoolStat> {
    return new Map();
  }
}
