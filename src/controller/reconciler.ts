/**
 * The controller's reconciler: turns work-queue keys into calls on the pure Controller and carries out what it
 * returns (status writes, Events, metrics, requeues). It owns the Kubernetes-facing policies the core cannot see:
 * - the `synced` gate: before allocation is allowed, every cached Service that already has a status IP is passed
 *   to the core in one synchronous sweep, so a restart never moves or duplicates an address;
 * - ConfigMap handling: absent = missing (stale 1), `data.config` absent = valid empty config, parse errors and
 *   orphaning refusals keep the last good config, set stale 1, log, and raise a Warning Event on the ConfigMap;
 *   a refused config is re-submitted after every Service deletion or address release and applied (Normal Event)
 *   as soon as nothing blocks it;
 * - released addresses: a deletion or release re-queues the Services still waiting for an address.
 * It imports no adapter: main.ts passes the informer caches, writers and metrics in as ReconcilerPorts.
 */
import type { Config, ConfigResult } from '../core/config/types.js';
import {
  chooseConfig, configMapInput, heldAddresses, parseStored, sourceOf,
  type AppliedConfig, type HeldAddresses, type StoredConfig,
} from '../core/config/fail-static.js';
import type { EventTarget, Logger, ServiceEvent, SyncState } from '../core/ports.js';
import type { Ingress, ServiceLike } from '../core/service/view.js';
import { configMapTarget, nsNameOf, serviceTarget, type ConfigMapObject, type ServiceObject } from '../core/k8s/objects.js';
import type { BalancerResult, ConfigDecision, PoolStat } from './controller.js';

/** Queue keys: the ConfigMap, the one-shot synced marker, and one per Service (`service:<ns>/<name>`). */
export type WorkKey = 'config' | 'synced' | 'last-applied' | `service:${string}`;
export const CONFIG_KEY = 'config' as const;
/** Persist the applied config in the last-applied store. */
export const LAST_APPLIED_KEY = 'last-applied' as const;
export const SYNCED_KEY = 'synced' as const;

/** How many keys are reconciled concurrently (their status writes overlap; the core itself is synchronous). */
export const CONTROLLER_WORKERS = 16;

export function serviceKey(namespace: string, name: string): WorkKey {
  return `service:${namespace}/${name}`;
}

/** The pure controller's surface (src/controller/controller.ts). */
export interface ControllerCore {
  setConfig(cfg: Config | undefined): ConfigDecision;
  setBalancer(key: string, svc: ServiceLike | undefined): BalancerResult;
  markSynced(): SyncState;
  poolStats(): ReadonlyMap<string, PoolStat>;
}

export type WriteResult = { readonly ok: true; readonly service: unknown } | { readonly ok: false; readonly status: number | undefined; readonly error: string };

export interface ReconcilerPorts {
  readonly core: ControllerCore;
  readonly parseConfig: (text: string) => ConfigResult;
  readonly configMap: () => ConfigMapObject | undefined;
  /** The last-applied store's content (undefined = absent or never written). */
  readonly stored: () => StoredConfig | undefined;
  /** Writes the last-applied store. */
  readonly saveApplied: (content: StoredConfig) => Promise<{ readonly ok: true } | { readonly ok: false; readonly error: string }>;
  /** `--lb-class` (undefined = Services without a class): whose status addresses fail-static protects. */
  readonly lbClass: string | undefined;
  /** Cached Service by `ns/name`. */
  readonly service: (nsName: string) => ServiceObject | undefined;
  readonly services: () => Iterable<ServiceObject>;
  readonly writeStatus: (service: ServiceObject, ingress: readonly Ingress[]) => Promise<WriteResult>;
  readonly recordEvent: (target: EventTarget, event: ServiceEvent) => void;
  readonly metrics: {
    setConfigLoaded(loaded: boolean): void;
    setConfigStale(stale: boolean): void;
    setPoolStats(stats: ReadonlyMap<string, PoolStat>): void;
  };
  readonly enqueue: (key: WorkKey) => void;
  readonly logger: Logger;
}

export class ControllerReconciler {
  private readonly ports: ReconcilerPorts;
  private syncedDone = false;
  /** The ConfigMap's config was refused for orphaning addresses: decide again when addresses are released. */
  private pendingRefused = false;
  /** The config the core runs (applied by this process, or installed from the store at start-up). */
  private running: AppliedConfig | undefined;
  /** The applied config still to persist in the last-applied store. */
  private toStore: StoredConfig | undefined;
  /** True between a refusal and the next applied config (decides the Normal "applied" Event). */
  private refused = false;
  private lastRefusalMessage: string | undefined;
  /** Objects returned by our own status writes, used until the informer catches up (no duplicate writes). */
  private readonly written = new Map<string, { readonly baseVersion: string; readonly service: ServiceObject }>();

  constructor(ports: ReconcilerPorts) {
    this.ports = ports;
  }

  /** True once the synced marker has been processed (allocation is live): readiness. */
  get synced(): boolean {
    return this.syncedDone;
  }

  /** The reconcile loop's handler. */
  async handle(key: WorkKey): Promise<SyncState> {
    if (key === CONFIG_KEY) return this.handleConfig();
    if (key === SYNCED_KEY) return this.handleSynced();
    if (key === LAST_APPLIED_KEY) return this.handleLastApplied();
    return this.handleService(key.slice('service:'.length));
  }

  /**
   * After `reprocessAll`: a Service key (deletion or release) re-queues only Services still waiting for an address;
   * anything else (config applied, synced) re-queues every Service, those holding addresses first.
   */
  reprocessAll(fromKey: WorkKey): void {
    const all = [...this.ports.services()];
    const hasIngress = (s: ServiceObject) => (s.status?.loadBalancer?.ingress?.length ?? 0) > 0;
    if (fromKey.startsWith('service:')) {
      for (const s of all) if (s.spec?.type === 'LoadBalancer' && !hasIngress(s)) this.ports.enqueue(keyOf(s));
      return;
    }
    for (const s of all) if (hasIngress(s)) this.ports.enqueue(keyOf(s));
    for (const s of all) if (!hasIngress(s)) this.ports.enqueue(keyOf(s));
  }

  private handleConfig(): SyncState {
    // Before the synced sweep the Service statuses are not known yet: the sweep decides (fail-static, fault 5).
    if (!this.syncedDone) return 'success';
    return this.decideConfig(false, false);
  }

  /**
   * The fail-static decision (src/core/config/fail-static.ts): the ConfigMap's config is checked against the
   * addresses in Service status before the core sees it; a refused one leaves the last applied config running
   * (at start-up: the last-applied store's). `startup` installs that running config into the empty core.
   */
  private decideConfig(startup: boolean, retry: boolean): SyncState {
    const { core, metrics, logger } = this.ports;
    const cm = this.ports.configMap();
    const running = this.running ?? parseStored(this.ports.stored(), this.ports.parseConfig);
    const choice = chooseConfig({ configMap: configMapInput(cm), parse: this.ports.parseConfig, running, held: this.held() });
    if (choice.kind === 'apply') return this.applyConfig(choice.applied, cm ?? {}, retry);
    if (startup && choice.running) this.install(choice.running);
    metrics.setConfigStale(true);
    if (choice.kind === 'missing' || cm === undefined) {
      core.setConfig(undefined); // the core logs "configuration is missing"
      this.pendingRefused = false;
      return 'success';
    }
    // A parse error stays refused until the ConfigMap changes; an orphaning config is retried on releases.
    this.pendingRefused = choice.blockers.length > 0;
    if (choice.blockers.length === 0) logger.error({ op: 'setConfig', error: choice.reason, msg: 'config (re)load failed, config marked stale' });
    else logger.error({ op: 'setConfig', error: choice.reason, blockers: choice.blockers, msg: 'applying new configuration failed' });
    this.refuse(cm, choice.reason, choice.blockers);
    return 'success';
  }

  /** Start-up under a refused or missing config: run the last applied one (nothing is held yet, so it applies). */
  private install(applied: AppliedConfig): void {
    const decision = this.ports.core.setConfig(applied.config);
    if (decision.kind !== 'applied') return;
    this.running = applied;
    this.ports.metrics.setConfigLoaded(true);
    this.ports.logger.info({ event: 'configLoaded', source: 'last-applied', msg: 'running the last applied config while the ConfigMap\'s is refused' });
  }

  /** Addresses the Services this controller handles hold, as last seen or as our own last writes left them. */
  private held(): HeldAddresses[] {
    const services: ServiceObject[] = [];
    for (const cached of this.ports.services()) services.push(this.effective(nsNameOf(cached)) ?? cached);
    return heldAddresses(services, this.ports.lbClass);
  }

  private applyConfig(applied: AppliedConfig, cm: ConfigMapObject, retry: boolean): SyncState {
    const { core, metrics } = this.ports;
    const decision = core.setConfig(applied.config); // the core logs configLoaded / the refusal
    if (decision.kind === 'applied') {
      this.pendingRefused = false;
      this.running = applied;
      this.toStore = { text: applied.text, source: sourceOf(cm) };
      this.ports.enqueue(LAST_APPLIED_KEY);
      metrics.setConfigStale(false);
      metrics.setConfigLoaded(true);
      metrics.setPoolStats(core.poolStats());
      if (this.refused) {
        this.refused = false;
        this.lastRefusalMessage = undefined;
        this.ports.recordEvent(configMapTarget(cm), {
          type: 'Normal', reason: 'ConfigApplied',
          message: retry ? 'previously refused config applied: nothing blocks it any more' : 'config applied',
        });
      }
      return 'reprocessAll';
    }
    metrics.setConfigStale(true);
    if (decision.kind === 'missing') return 'success';
    this.pendingRefused = true;
    this.refuse(cm, decision.reason, decision.blockers);
    return 'success';
  }

  /** Persists the applied config where the next process finds it; retried with backoff on failure. */
  private async handleLastApplied(): Promise<SyncState> {
    const content = this.toStore;
    if (!content) return 'success';
    const stored = this.ports.stored();
    if (stored && stored.text === content.text) return 'success';
    const result = await this.ports.saveApplied(content);
    if (!result.ok) {
      this.ports.logger.error({ op: 'saveLastApplied', error: result.error, msg: 'failed to persist the applied config; retrying' });
      return 'error';
    }
    this.ports.logger.debug({ event: 'lastAppliedSaved', source: content.source, msg: 'applied config persisted' });
    return 'success';
  }

  /** Records the refusal Warning on the ConfigMap unless the same message was the last one; true if recorded. */
  private refuse(cm: ConfigMapObject, reason: string, blockers: readonly string[]): boolean {
    this.refused = true;
    const message = `config refused, the last good config keeps running: ${reason}`
      + (blockers.length > 0 ? `; blocked by services: ${blockers.join(', ')}` : '');
    if (message === this.lastRefusalMessage) return false;
    this.lastRefusalMessage = message;
    this.ports.recordEvent(configMapTarget(cm), { type: 'Warning', reason: 'ConfigRefused', message });
    return true;
  }

  /** Re-submits a refused config (after a deletion or release); on success every Service is re-queued. */
  private retryRefusedConfig(): void {
    if (!this.pendingRefused) return;
    if (this.decideConfig(false, true) === 'reprocessAll') this.reprocessAll(CONFIG_KEY);
  }

  private async handleSynced(): Promise<SyncState> {
    const { core, logger } = this.ports;
    this.syncedDone = true;
    this.decideConfig(true, false);
    // Register every address already in a status before allocation opens: all synchronous, so no new
    // allocation can interleave and take an address an existing Service still holds.
    const outcomes: Array<{ nsName: string; svc: ServiceObject; result: BalancerResult }> = [];
    for (const cached of this.ports.services()) {
      if ((cached.status?.loadBalancer?.ingress?.length ?? 0) === 0) continue;
      const nsName = nsNameOf(cached);
      const svc = this.effective(nsName) ?? cached;
      outcomes.push({ nsName, svc, result: core.setBalancer(nsName, svc) });
    }
    const state = core.markSynced();
    logger.info({ event: 'synced', services: outcomes.length, msg: 'existing assignments registered; allocation enabled' });
    await Promise.all(outcomes.map((o) => this.apply(o.nsName, o.svc, o.result)));
    this.ports.metrics.setPoolStats(core.poolStats());
    return state;
  }

  private async handleService(nsName: string): Promise<SyncState> {
    const svc = this.effective(nsName);
    const result = this.ports.core.setBalancer(nsName, svc);
    const state = await this.apply(nsName, svc, result);
    this.ports.metrics.setPoolStats(this.ports.core.poolStats());
    // MetalLB's end-of-update line, with the version decided on: evidence (for tests and operators) that this
    // version of the Service went through the controller, whatever the outcome.
    this.ports.logger.debug({ event: 'endUpdate', service: nsName, resourceVersion: svc?.metadata?.resourceVersion ?? '', msg: 'end of service update' });
    return state;
  }

  /** Records the events, writes the status, and turns releases into re-evaluations. */
  private async apply(nsName: string, svc: ServiceObject | undefined, result: BalancerResult): Promise<SyncState> {
    const { logger } = this.ports;
    if (svc) for (const event of result.events) this.ports.recordEvent(serviceTarget(svc), event);
    let released = svc === undefined;
    if (svc && result.status) {
      const write = await this.ports.writeStatus(svc, result.status);
      if (!write.ok) {
        logger.error({ op: 'updateServiceStatus', service: nsName, error: write.error, msg: 'failed to update service status' });
        return 'error';
      }
      this.rememberWrite(nsName, svc, write.service as ServiceObject);
      logger.debug({ event: 'serviceUpdated', service: nsName, ingress: result.status, msg: 'updated service object' });
      released = releasesAddress(svc, result.status);
    }
    if (released && this.pendingRefused) this.retryRefusedConfig();
    // Only the waiting Services this change may have unblocked are retried (issue 8, fault 1), never all of them.
    for (const waiter of result.retry ?? []) this.ports.enqueue(`service:${waiter}`);
    return result.state === 'reprocessAll' ? 'success' : result.state;
  }

  /** The cached Service, or the one our last write returned while the cache still holds the version it replaced. */
  private effective(nsName: string): ServiceObject | undefined {
    const cached = this.ports.service(nsName);
    const written = this.written.get(nsName);
    if (!written) return cached;
    if (cached && (cached.metadata?.resourceVersion ?? '') === written.baseVersion) return written.service;
    this.written.delete(nsName);
    return cached;
  }

  private rememberWrite(nsName: string, before: ServiceObject, after: ServiceObject | undefined): void {
    const baseVersion = before.metadata?.resourceVersion;
    if (after && baseVersion) this.written.set(nsName, { baseVersion, service: after });
  }
}

/** True when the new ingress drops an address the Service held. */
function releasesAddress(svc: ServiceObject, next: readonly Ingress[]): boolean {
  const kept = new Set(next.map((e) => e.ip));
  return (svc.status?.loadBalancer?.ingress ?? []).some((e) => typeof e.ip === 'string' && !kept.has(e.ip));
}

function keyOf(svc: ServiceObject): WorkKey {
  return serviceKey(svc.metadata?.namespace ?? '', svc.metadata?.name ?? '');
}
