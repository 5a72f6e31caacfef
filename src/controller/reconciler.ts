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
import { EMPTY_CONFIG, type Config, type ConfigResult } from '../core/config/types.js';
import type { EventTarget, Logger, ServiceEvent, SyncState } from '../core/ports.js';
import type { Ingress, ServiceLike } from '../core/service/view.js';
import { configMapTarget, nsNameOf, serviceTarget, type ConfigMapObject, type ServiceObject } from '../core/k8s/objects.js';
import type { BalancerResult, ConfigDecision, PoolStat } from './controller.js';

/** Queue keys: the ConfigMap, the one-shot synced marker, and one per Service (`service:<ns>/<name>`). */
export type WorkKey = 'config' | 'synced' | `service:${string}`;
export const CONFIG_KEY = 'config' as const;
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
  private configSeen = false;
  private syncedDone = false;
  /** The last parsed config the core refused (orphaning), re-submitted when addresses are released. */
  private pendingRefused: { readonly config: Config; readonly cm: ConfigMapObject } | undefined;
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
    this.configSeen = true;
    const { core, metrics, logger } = this.ports;
    const cm = this.ports.configMap();
    if (!cm) {
      core.setConfig(undefined); // the core logs "configuration is missing"
      this.pendingRefused = undefined;
      metrics.setConfigStale(true);
      return 'success';
    }
    const text = cm.data?.config;
    const parsed: ConfigResult = text === undefined ? { ok: true, config: EMPTY_CONFIG } : this.ports.parseConfig(text);
    if (!parsed.ok) {
      this.pendingRefused = undefined;
      const reason = parsed.errors.map((e) => e.message).join('; ');
      metrics.setConfigStale(true);
      logger.error({ op: 'setConfig', error: reason, msg: 'config (re)load failed, config marked stale' });
      this.refuse(cm, reason, []);
      return 'success';
    }
    return this.applyConfig(parsed.config, cm, false);
  }

  private applyConfig(config: Config, cm: ConfigMapObject, retry: boolean): SyncState {
    const { core, metrics } = this.ports;
    const decision = core.setConfig(config); // the core logs configLoaded / the refusal
    if (decision.kind === 'applied') {
      this.pendingRefused = undefined;
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
    this.pendingRefused = { config, cm };
    this.refuse(cm, decision.reason, decision.blockers);
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
    const pending = this.pendingRefused;
    if (!pending) return;
    const current = this.ports.configMap();
    // A newer ConfigMap version is already queued as the config key; it decides, not this stale retry.
    if (current?.metadata?.resourceVersion !== pending.cm.metadata?.resourceVersion) return;
    if (this.applyConfig(pending.config, current ?? pending.cm, true) === 'reprocessAll') this.reprocessAll(CONFIG_KEY);
  }

  private async handleSynced(): Promise<SyncState> {
    const { core, logger } = this.ports;
    if (!this.configSeen) this.handleConfig();
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
    this.syncedDone = true;
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
    if (released && result.state === 'success') return 'reprocessAll';
    return result.state;
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
