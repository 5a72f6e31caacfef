/**
 * The speaker's reconciler: turns work-queue keys into calls on the pure Speaker and carries out what it returns
 * (announcer calls, the `metallb_speaker_announced` gauge, Events, log lines). The Kubernetes-facing policies:
 * - the `synced` gate: nothing is decided before every informer (Services, endpoints, ConfigMap, Nodes, Pods)
 *   has listed once; the synced marker then reprocesses every Service, so a restart decides on a full view;
 * - ConfigMap handling, fail-static: absent = missing (stale 1, the running config stays), `data.config` absent =
 *   valid empty config, a parse error or a config that leaves an announced IP without a pool is refused (stale 1,
 *   log, Warning Event `ConfigRefused` on the ConfigMap) and the last good config keeps running; a refused config
 *   is re-submitted after every withdrawal and applied (Normal `ConfigApplied`) as soon as nothing blocks it;
 * - membership changes reprocess every Service;
 * - skip reasons (why a Service is not announced here) are logged when they change, not on every resync
 *   (`serviceDeleted` also covers a Service without Endpoints / EndpointSlices, as v0.11).
 * It imports no adapter: main.ts passes informer caches, the announcer, the recorder and metrics as ports.
 */
import { EMPTY_CONFIG, type Config, type ConfigResult } from '../core/config/types.js';
import { configMapTarget, serviceTarget, type ConfigMapObject, type ServiceObject } from '../core/k8s/objects.js';
import type { EventTarget, Logger, ServiceEvent, SyncState } from '../core/ports.js';
import type { EndpointsView } from '../core/service/endpoints.js';
import type { BalancerResult, SkipReason, Speaker } from './speaker.js';

/** Queue keys: the ConfigMap, the synced marker, a membership change, and one per Service (`service:<ns>/<name>`). */
export type WorkKey = 'config' | 'synced' | 'membership' | `service:${string}`;
export const CONFIG_KEY = 'config' as const;
export const SYNCED_KEY = 'synced' as const;
export const MEMBERSHIP_KEY = 'membership' as const;

/** Keys reconciled concurrently (the work is synchronous apart from queued Events; a few workers suffice). */
export const SPEAKER_WORKERS = 4;

export function serviceKey(nsName: string): WorkKey {
  return `service:${nsName}`;
}

/** The announcer's surface (src/adapters/layer2/announcer.ts). */
export interface AnnouncerPort {
  setBalancer(name: string, ips: readonly string[]): void;
  deleteBalancer(name: string): void;
}

export interface SpeakerReconcilerPorts {
  readonly core: Speaker;
  readonly myNode: string;
  readonly parseConfig: (text: string) => ConfigResult;
  readonly configMap: () => ConfigMapObject | undefined;
  /** Cached Service by `ns/name`. */
  readonly service: (nsName: string) => ServiceObject | undefined;
  /** `ns/name` of every cached Service. */
  readonly serviceNames: () => Iterable<string>;
  /** The Service's endpoints from whichever source is in use (EndpointSlices or Endpoints). */
  readonly endpoints: (nsName: string) => EndpointsView;
  /** Alive speakers (membership). */
  readonly alive: () => ReadonlySet<string>;
  readonly announcer: AnnouncerPort;
  readonly recordEvent: (target: EventTarget, event: ServiceEvent) => void;
  readonly metrics: {
    setConfigLoaded(loaded: boolean): void;
    setConfigStale(stale: boolean): void;
    /** `metallb_speaker_announced{service,protocol,node,ip}`: 1 while announcing, removed on withdraw. */
    setAnnounced(service: string, protocol: string, ip: string, announced: boolean): void;
  };
  readonly enqueue: (key: WorkKey) => void;
  readonly logger: Logger;
}

/** Skip reasons worth a warning: the Service asks for something this speaker cannot do. */
const WARN_REASONS: ReadonlySet<SkipReason> = new Set<SkipReason>(['invalidIP', 'ipNotAllowed', 'internalError']);
/** Skip reasons worth an info line; the rest (notOwner, notLoadBalancer, …) are routine and logged at debug. */
const INFO_REASONS: ReadonlySet<SkipReason> = new Set<SkipReason>(['protocolNotImplemented', 'noConfig']);

export class SpeakerReconciler {
  private readonly ports: SpeakerReconcilerPorts;
  private configSeen = false;
  private syncedDone = false;
  private missingLogged = false;
  private pendingRefused: { readonly config: Config; readonly cm: ConfigMapObject } | undefined;
  private refused = false;
  private lastRefusalMessage: string | undefined;
  /** Last logged skip reason per Service, so routine resyncs do not repeat it. */
  private readonly lastSkip = new Map<string, SkipReason>();

  constructor(ports: SpeakerReconcilerPorts) {
    this.ports = ports;
  }

  /** True once the synced marker has been processed: readiness. */
  get synced(): boolean {
    return this.syncedDone;
  }

  async handle(key: WorkKey): Promise<SyncState> {
    if (key === CONFIG_KEY) return this.handleConfig();
    if (key === SYNCED_KEY) return this.handleSynced();
    if (key === MEMBERSHIP_KEY) return this.syncedDone ? 'reprocessAll' : 'success';
    if (!this.syncedDone) return 'success'; // the synced marker reprocesses every Service
    return this.handleService(key.slice('service:'.length));
  }

  /** Re-queues every cached Service and every announced one (a deleted Service may still be announced). */
  reprocessAll(_fromKey: WorkKey): void {
    const names = new Set(this.ports.serviceNames());
    for (const name of this.ports.core.announcedNames()) names.add(name);
    for (const name of names) this.ports.enqueue(serviceKey(name));
  }

  private handleSynced(): SyncState {
    if (!this.configSeen) this.handleConfig();
    this.syncedDone = true;
    this.ports.logger.info({ event: 'synced', msg: 'informer caches synced; deciding every Service' });
    return 'reprocessAll';
  }

  private handleConfig(): SyncState {
    this.configSeen = true;
    const { metrics, logger } = this.ports;
    const cm = this.ports.configMap();
    if (!cm) {
      this.pendingRefused = undefined;
      metrics.setConfigStale(true);
      if (!this.missingLogged) logger.error({ op: 'setConfig', error: 'configuration is missing', msg: 'configuration is missing, MetalLB will not function' });
      this.missingLogged = true;
      return 'success';
    }
    this.missingLogged = false;
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
    const { metrics, logger } = this.ports;
    const decision = this.ports.core.setConfig(config);
    if (decision.kind === 'applied') {
      this.pendingRefused = undefined;
      metrics.setConfigStale(false);
      metrics.setConfigLoaded(true);
      logger.info({ event: 'configLoaded', msg: retry ? 'previously refused config (re)loaded: nothing blocks it any more' : 'config (re)loaded' });
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
    this.pendingRefused = { config, cm };
    metrics.setConfigStale(true);
    logger.error({ op: 'setConfig', error: decision.reason, blockers: decision.blockers, msg: 'config refused, the last good config keeps running; config marked stale' });
    this.refuse(cm, decision.reason, decision.blockers);
    return 'success';
  }

  /** The refusal Warning on the ConfigMap, unless the same message was the last one. */
  private refuse(cm: ConfigMapObject, reason: string, blockers: readonly string[]): void {
    this.refused = true;
    const message = `config refused by the speaker on node ${JSON.stringify(this.ports.myNode)}, the last good config keeps running: ${reason}`
      + (blockers.length > 0 ? `; blocked by services: ${blockers.join(', ')}` : '');
    if (message === this.lastRefusalMessage) return;
    this.lastRefusalMessage = message;
    this.ports.recordEvent(configMapTarget(cm), { type: 'Warning', reason: 'ConfigRefused', message });
  }

  /** Re-submits a refused config after a withdrawal; if it applies now, every Service is re-queued. */
  private retryRefusedConfig(): void {
    const pending = this.pendingRefused;
    if (!pending) return;
    const current = this.ports.configMap();
    // A newer ConfigMap version is queued as the config key already; it decides, not this stale retry.
    if (current?.metadata?.resourceVersion !== pending.cm.metadata?.resourceVersion) return;
    if (this.applyConfig(pending.config, current ?? pending.cm, true) === 'reprocessAll') this.reprocessAll(CONFIG_KEY);
  }

  private handleService(name: string): SyncState {
    const svc = this.ports.service(name);
    const result = this.ports.core.setBalancer(name, svc, this.ports.endpoints(name), this.ports.alive());
    const withdrew = this.carryOut(name, svc, result);
    if (withdrew && this.pendingRefused) this.retryRefusedConfig();
    return 'success';
  }

  /** Announcer calls, gauge, logs and Events for one result; true when something was withdrawn. */
  private carryOut(name: string, svc: ServiceObject | undefined, result: BalancerResult): boolean {
    const { announcer, metrics, logger, myNode } = this.ports;
    let withdrew = false;
    for (const action of result.actions) {
      const { announcement: a } = action;
      if (action.kind === 'withdraw') {
        withdrew = true;
        announcer.deleteBalancer(name);
        for (const ip of a.ips) metrics.setAnnounced(name, a.protocol, ip, false);
        logger.info({ event: 'serviceWithdrawn', service: name, ips: a.ips, protocol: a.protocol, reason: action.reason, node: myNode, msg: 'withdrawing service announcement' });
        continue;
      }
      announcer.setBalancer(name, a.ips);
      for (const ip of a.ips) metrics.setAnnounced(name, a.protocol, ip, true);
      const fields = { event: 'serviceAnnounced', service: name, ips: a.ips, pool: a.pool, protocol: a.protocol, node: myNode, msg: 'service has IP, announcing' };
      if (action.changed) logger.info(fields); else logger.debug(fields);
      this.lastSkip.delete(name);
    }
    if (svc) for (const event of result.events) this.ports.recordEvent(serviceTarget(svc), event);
    if (result.skipped) this.logSkip(name, result.skipped.reason, result.skipped.protocol);
    if (!svc) this.lastSkip.delete(name); // gone for good: forget it
    return withdrew;
  }

  private logSkip(name: string, reason: SkipReason, protocol: string | undefined): void {
    if (this.lastSkip.get(name) === reason) return;
    this.lastSkip.set(name, reason);
    const fields = {
      event: 'serviceSkipped', service: name, reason, ...(protocol ? { protocol } : {}),
      msg: reason === 'protocolNotImplemented' ? `not announcing: this speaker does not announce ${protocol ?? 'this protocol'} yet` : 'not announcing service from this node',
    };
    if (WARN_REASONS.has(reason)) this.ports.logger.warn(fields);
    else if (INFO_REASONS.has(reason)) this.ports.logger.info(fields);
    else this.ports.logger.debug(fields);
  }
}
