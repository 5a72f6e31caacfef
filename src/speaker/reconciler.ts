/**
 * The speaker's reconciler: turns work-queue keys into calls on the pure Speaker and carries out what it returns
 * (announcer calls, the `metallb_speaker_announced` gauge, Events, log lines). The Kubernetes-facing policies:
 * - the `synced` gate: nothing is decided before every informer (Services, endpoints, ConfigMap and last-applied
 *   store, Nodes, Pods) has listed once; the synced marker then reprocesses every Service, so a restart decides on
 *   a full view;
 * - the config, fail-static (src/core/config/fail-static.ts, shared with the controller): a ConfigMap that does not
 *   parse, or whose pools leave an address some Service holds (its status) or this node announces without a pool,
 *   is refused: the last good config keeps running (this process's, else the last-applied store the controller
 *   writes, so a restart runs what ran before), stale gauge 1, a log line, and a Warning Event `ConfigRefused` on the
 *   ConfigMap. It is decided again whenever the ConfigMap or the store changes and whenever a Service goes away or
 *   is withdrawn while refused, and applied (Normal `ConfigApplied`) as soon as nothing blocks it. No ConfigMap:
 *   the running config stays (stale 1);
 * - membership changes reprocess every Service;
 * - skip reasons (why a Service is not announced here) are logged when they change, not on every resync
 *   (`serviceDeleted` also covers a Service without Endpoints / EndpointSlices, as v0.11).
 * It imports no adapter: main.ts passes informer caches, the announcer, the recorder and metrics as ports.
 */
import type { Config, ConfigResult } from '../core/config/types.js';
import { FailStaticConfig, type ConfigMapInput, type HeldAddresses, type StoredConfig } from '../core/config/fail-static.js';
import { configMapTarget, serviceTarget, type ConfigMapObject, type ServiceObject } from '../core/k8s/objects.js';
import type { EventTarget, Logger, ServiceEvent, SyncState } from '../core/ports.js';
import type { EndpointsView } from '../core/service/endpoints.js';
import type { Announcement, BalancerResult, SkipReason, Speaker, WithdrawReason } from './speaker.js';
import { announcementPatch, type AnnotationPatch } from '../core/speaker/announce-annotation.js';
import { nodeAnnouncementFor } from './announce.js';
import { WriteQueue } from './write-queue.js';

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
  /**
   * Make-before-break (src/speaker/handoff.ts): keep answering for the name's IPs for the handoff grace, then stop;
   * `done` runs once they are stopped or the name is announced again. Absent: a handoff stops at once.
   */
  handOff?(name: string, done: () => void): void;
}

/**
 * Withdrawals that hand off rather than stop at once: the IP stays and another node takes it while this one runs
 * (it left the eligible set, or a returning node is elected again).
 */
const HANDOFF_REASONS: ReadonlySet<WithdrawReason> = new Set<WithdrawReason>(['notOwner', 'nodeExcluded']);

/** The BGP announcer's surface (src/adapters/bgp/announcer.ts): sessions follow the config, routes the Services. */
export interface BgpAnnouncerPort {
  setConfig(config: Config): void;
  setBalancer(name: string, announcement: Announcement): void;
  deleteBalancer(name: string): void;
  /** Every Service has been decided once: sessions may start (their first UPDATEs end with End-of-RIB). */
  synced(): void;
}

export interface SpeakerReconcilerPorts {
  readonly core: Speaker;
  readonly myNode: string;
  readonly parseConfig: (text: string) => ConfigResult;
  /** The config ConfigMap as cached (undefined = absent). */
  readonly configMap: () => ConfigMapObject | undefined;
  /** The last-applied store's content (undefined = absent or never written). */
  readonly stored: () => StoredConfig | undefined;
  /** Addresses the Services hold according to their status (fail-static's orphan check). */
  readonly held: () => Iterable<HeldAddresses>;
  /** Cached Service by `ns/name`. */
  readonly service: (nsName: string) => ServiceObject | undefined;
  /** `ns/name` of every cached Service. */
  readonly serviceNames: () => Iterable<string>;
  /** The Service's endpoints from whichever source is in use (EndpointSlices or Endpoints). */
  readonly endpoints: (nsName: string) => EndpointsView;
  /** Alive speakers (membership). */
  readonly alive: () => ReadonlySet<string>;
  /** False while this node sees fewer than a majority of the speakers it knows: no new layer-2 claims (default true). */
  readonly claimNew?: () => boolean;
  /**
   * Nodes that must not announce: those with the exclude-from-external-load-balancers label when `--exclude-lb` is
   * on (default none, as v0.11).
   */
  readonly excluded?: () => ReadonlySet<string>;
  readonly announcer: AnnouncerPort;
  /** BGP pools' Services go here (undefined: the speaker announces layer 2 only). */
  readonly bgp?: BgpAnnouncerPort | undefined;
  readonly recordEvent: (target: EventTarget, event: ServiceEvent) => void;
  readonly metrics: {
    setConfigLoaded(loaded: boolean): void;
    setConfigStale(stale: boolean): void;
    /** `metallb_speaker_announced{service,protocol,node,ip}`: 1 while announcing, removed on withdraw. */
    setAnnounced(service: string, protocol: string, ip: string, announced: boolean): void;
  };
  readonly enqueue: (key: WorkKey) => void;
  readonly logger: Logger;
  /**
   * The Service's announce annotation (issue 13 §1, docs/design/announce-annotations.md): this node's entry,
   * written only when it differs from the cached Service. Absent = not published (unit tests of the v0.11 logic).
   */
  readonly announcements?: {
    /** Interfaces whose subnet holds one of the IPs, sorted. */
    interfacesFor(ips: readonly string[]): string[];
    /** BGP peers (`host:port`) this node keeps sessions with (the BGP entry names them). */
    peers?(): readonly string[];
    /**
     * With gossip: the Kubernetes liveness every speaker shares; a speaker whose own view is not a quorum of it
     * writes nothing (announcementPatch). Absent: the membership is already the shared view.
     */
    kubernetes?(): ReadonlySet<string>;
    /**
     * False while the membership is still converging at start (gossip has not met every speaker Kubernetes lists):
     * nothing is written then, and the owner of this port enqueues MEMBERSHIP_KEY when it turns true, so each
     * Service is written once, from the converged view. Absent: always true.
     */
    publishing?(): boolean;
    /** Merge-patches the Service's annotations. */
    write(namespace: string, name: string, patch: AnnotationPatch): Promise<{ ok: true } | { ok: false; gone: boolean; error: string }>;
  };
}

/**
 * Annotation writes in flight at once: enough to keep the apiserver busy on a failover that moves hundreds of
 * Services, few enough to leave the speaker's client room for its watches and Events.
 */
const ANNOTATION_WRITES_IN_FLIGHT = 8;

/** True when `annotations` already carry every key of the patch (null: absent). */
function patchShown(sent: { readonly patch: AnnotationPatch }, annotations: Readonly<Record<string, string>> | null | undefined): boolean {
  return Object.entries(sent.patch).every(([k, v]) => (v === null ? annotations?.[k] === undefined : annotations?.[k] === v));
}

/** Skip reasons worth a warning: the Service asks for something this speaker cannot do. */
const WARN_REASONS: ReadonlySet<SkipReason> = new Set<SkipReason>(['invalidIP', 'ipNotAllowed', 'internalError']);
/** Skip reasons worth an info line; the rest (notOwner, notLoadBalancer, …) are routine and logged at debug. */
const INFO_REASONS: ReadonlySet<SkipReason> = new Set<SkipReason>(['protocolNotImplemented', 'noConfig', 'noQuorum']);

export class SpeakerReconciler {
  private readonly ports: SpeakerReconcilerPorts;
  private syncedDone = false;
  private missingLogged = false;
  private readonly failStatic: FailStaticConfig;
  /** True between a refusal and the next applied config. */
  private refused = false;
  private lastRefusalMessage: string | undefined;
  /** The ConfigMap's `data.config` when it was refused: applying the same text later is the refused config's retry. */
  private refusedText: string | undefined;
  /** Last logged skip reason per Service, so routine resyncs do not repeat it. */
  private readonly lastSkip = new Map<string, SkipReason>();
  /** Announce-annotation writes, off the reconcile workers' path. */
  private readonly writes: WriteQueue;
  /** Per Service, the last annotation patch handed to the write queue that the cache does not show yet. */
  private readonly sentPatches = new Map<string, { readonly key: string; readonly patch: AnnotationPatch }>();

  constructor(ports: SpeakerReconcilerPorts) {
    this.ports = ports;
    this.failStatic = new FailStaticConfig(ports.parseConfig);
    this.writes = new WriteQueue({
      concurrency: ANNOTATION_WRITES_IN_FLIGHT,
      retry: (name) => ports.enqueue(serviceKey(name)),
      setTimer: (ms, fn) => { const t = setTimeout(fn, ms); t.unref(); return () => clearTimeout(t); },
    });
  }

  /** Announce-annotation writes queued or in flight (tests wait for 0). */
  get pendingWrites(): number {
    return this.writes.size;
  }

  /** True once the synced marker has been processed: readiness. */
  get synced(): boolean {
    return this.syncedDone;
  }

  async handle(key: WorkKey): Promise<SyncState> {
    // The config is decided on a full view only: before the synced marker the Service cache may hold part of the
    // Services, and the fail-static check (held addresses) would then pass or refuse by informer timing.
    if (key === CONFIG_KEY) return this.syncedDone ? this.handleConfig() : 'success';
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
    this.handleConfig();
    this.syncedDone = true;
    this.ports.logger.info({ event: 'synced', msg: 'informer caches synced; deciding every Service' });
    if (this.ports.bgp) {
      // BGP sessions start only once every Service is decided: a restarted speaker's first UPDATEs end with
      // End-of-RIB (RFC 4724), and a router drops the stale paths it kept for us at that point, so the routes
      // must all be there. The reprocess that follows repeats these decisions (no change: nothing sent).
      for (const name of this.ports.serviceNames()) void this.handleService(name, false); // synchronous up to publish, which it skips
      this.ports.bgp.synced();
    }
    return 'reprocessAll';
  }

  /** True while the ConfigMap is refused or missing (an older config, or none, runs). */
  private get configStale(): boolean {
    return this.refused || this.missingLogged;
  }

  /** The config decision; a change of staleness re-syncs every Service, whose annotation may say `staleConfig`. */
  private handleConfig(): SyncState {
    const staleBefore = this.configStale;
    const state = this.decideConfig();
    if (state === 'success' && this.syncedDone && this.ports.announcements && this.configStale !== staleBefore) return 'reprocessAll';
    return state;
  }

  private decideConfig(): SyncState {
    const { metrics, logger } = this.ports;
    const cm = this.ports.configMap();
    const input: ConfigMapInput = cm === undefined ? { present: false } : { present: true, text: cm.data?.config };
    const choice = this.failStatic.decide(input, this.ports.stored(), this.ports.held());
    if (choice.kind === 'missing') {
      metrics.setConfigStale(true);
      if (!this.missingLogged) logger.error({ op: 'setConfig', error: 'configuration is missing', msg: 'configuration is missing, MetalLB will not function' });
      this.missingLogged = true;
      return this.runFallback(choice.running?.config);
    }
    this.missingLogged = false;
    if (choice.kind === 'refuse') {
      metrics.setConfigStale(true);
      // Nothing to fall back on (this process applied nothing, no last-applied store) and the config parses: running
      // no config would withdraw every Service, not keep the blockers announced, so the refused config runs, still
      // stale, for the Services it covers (a fresh v0.11 speaker applies it too). Its blockers say `staleConfig`.
      const candidate = choice.running === undefined ? choice.candidate : undefined;
      const runsAnyway = candidate !== undefined && this.ports.core.runningConfig === undefined;
      logger.error({
        op: 'setConfig', error: choice.reason, blockers: choice.blockers,
        msg: runsAnyway ? 'config refused, config marked stale; no last good config to run, so it runs for the services it covers' : 'config (re)load failed, config marked stale; the last good config keeps running',
      });
      this.refuse(cm as ConfigMapObject, choice.reason, choice.blockers, runsAnyway);
      return runsAnyway ? this.runFallback(candidate, 'refused-configmap') : this.runFallback(choice.running?.config);
    }
    const decision = this.ports.core.setConfig(choice.applied.config);
    if (decision.kind === 'refused') {
      // Held addresses cover what this node announces, unless a status changed since: v0.11's own check.
      metrics.setConfigStale(true);
      logger.error({ op: 'setConfig', error: decision.reason, blockers: decision.blockers, msg: 'config (re)load failed, config marked stale; the last good config keeps running' });
      this.refuse(cm as ConfigMapObject, decision.reason, decision.blockers);
      return 'success';
    }
    this.ports.bgp?.setConfig(choice.applied.config);
    metrics.setConfigStale(false);
    metrics.setConfigLoaded(true);
    // The refused config itself now applies (a blocker went away), or another config replaced it: as the controller
    // says (its `retry`), only the first is "previously refused".
    const wasRefused = this.refused;
    const retry = wasRefused && this.refusedText === (choice.applied.text ?? '');
    logger.info({ event: 'configLoaded', msg: retry ? 'previously refused config (re)loaded: nothing blocks it any more' : 'config (re)loaded' });
    if (wasRefused) {
      this.refused = false;
      this.refusedText = undefined;
      this.lastRefusalMessage = undefined;
      this.ports.recordEvent(configMapTarget(cm as ConfigMapObject), {
        type: 'Normal', reason: 'ConfigApplied', message: retry ? 'previously refused config applied: nothing blocks it any more' : 'config applied',
      });
    }
    return 'reprocessAll';
  }

  /**
   * While the ConfigMap is refused or missing: a process that has applied nothing yet runs the last-applied store's
   * config (what the cluster ran before this restart); one that has keeps its own.
   */
  private runFallback(config: Config | undefined, source: 'last-applied' | 'refused-configmap' = 'last-applied'): SyncState {
    if (config === undefined || this.ports.core.runningConfig !== undefined) return 'success';
    if (this.ports.core.setConfig(config).kind !== 'applied') return 'success';
    this.ports.bgp?.setConfig(config);
    this.ports.metrics.setConfigLoaded(true);
    this.ports.logger.info({
      event: 'configLoaded', source,
      msg: source === 'last-applied' ? 'running the last applied config from the store' : 'running the refused config: there is no last applied one',
    });
    return 'reprocessAll';
  }

  /** The refusal Warning on the ConfigMap, unless the same message was the last one. */
  private refuse(cm: ConfigMapObject | undefined, reason: string, blockers: readonly string[], runsAnyway = false): void {
    this.refused = true;
    this.refusedText = cm?.data?.['config'] ?? '';
    const keeps = runsAnyway ? 'there is no last good config, so it runs for the services it covers' : 'the last good config keeps running';
    const message = `config refused by the speaker on node ${JSON.stringify(this.ports.myNode)}, ${keeps}: ${reason}`
      + (blockers.length > 0 ? `; blocked by services: ${blockers.join(', ')}` : '');
    if (message === this.lastRefusalMessage || cm === undefined) return;
    this.lastRefusalMessage = message;
    this.ports.recordEvent(configMapTarget(cm), { type: 'Warning', reason: 'ConfigRefused', message });
  }

  /**
   * One Service's decision. `events` false = the BGP start-up pass before the reprocess (handleSynced): no Events
   * and no annotation write there; the reprocess that follows does both.
   */
  private async handleService(name: string, events = true): Promise<SyncState> {
    const svc = this.ports.service(name);
    const endpoints = this.ports.endpoints(name);
    const alive = this.ports.alive();
    const excluded = this.ports.excluded?.();
    const result = this.ports.core.setBalancer(name, svc, endpoints, alive, this.ports.claimNew?.() ?? true, excluded);
    const withdrew = this.carryOut(name, svc, events ? result : { ...result, events: [] });
    // A refused config may apply once a blocking Service is gone or no longer holds its address.
    if (this.refused && (withdrew || svc === undefined || result.skipped?.reason === 'noIPAllocated' || result.skipped?.reason === 'notLoadBalancer')) {
      this.ports.enqueue(CONFIG_KEY);
    }
    return events ? this.publish(name, svc, result, endpoints, alive, excluded) : 'success';
  }

  /**
   * Brings this node's announce annotation on the Service in line; writes nothing when it already is. The write
   * goes to the write queue, so the worker moves on to the next Service's announcement without waiting for the
   * apiserver (src/speaker/write-queue.ts says why); a failed write reconciles the Service again after a backoff.
   */
  private publish(name: string, svc: ServiceObject | undefined, result: BalancerResult, endpoints: EndpointsView, alive: ReadonlySet<string>,
    excluded: ReadonlySet<string> | undefined): SyncState {
    const port = this.ports.announcements;
    if (port === undefined || svc === undefined || port.publishing?.() === false) return 'success';
    // A speaker the membership does not count (its own view) says nothing: the first alive node removes its key.
    const mine = !alive.has(this.ports.myNode) ? undefined : nodeAnnouncementFor({
      service: svc, announced: this.ports.core.announcement(name), skipped: result.skipped?.reason, endpoints, alive, ...(excluded ? { excluded } : {}),
      configStale: this.configStale, interfacesFor: (ips) => port.interfacesFor(ips), peers: () => port.peers?.() ?? [],
    });
    const kubernetes = port.kubernetes?.();
    const current = svc.metadata?.annotations;
    // A patch already sent (queued, in flight or written) that the cached Service does not show yet: the cache
    // lags the write, so sending it again would only repeat it. Once the cache shows it, a new patch is real.
    const sent = this.sentPatches.get(name);
    if (sent !== undefined && patchShown(sent, current)) this.sentPatches.delete(name);
    const patch = announcementPatch({ current, myNode: this.ports.myNode, mine, alive, ...(kubernetes ? { kubernetes } : {}) });
    if (patch === undefined) return 'success';
    const key = JSON.stringify(patch);
    if (this.sentPatches.get(name)?.key === key) return 'success';
    this.sentPatches.set(name, { key, patch });
    const i = name.indexOf('/');
    this.writes.schedule(name, async () => {
      const written = await port.write(name.slice(0, i), name.slice(i + 1), patch);
      if (!written.ok && this.sentPatches.get(name)?.key === key) this.sentPatches.delete(name);
      if (written.ok) {
        this.ports.logger.debug({ event: 'announceAnnotationWritten', service: name, patch, msg: 'service announce annotation updated' });
        return true;
      }
      if (written.gone) return true;
      this.ports.logger.warn({ op: 'writeAnnounceAnnotation', service: name, error: written.error, msg: 'failed to update the service announce annotation; retrying' });
      return false;
    });
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
        if (a.protocol === 'layer2' && announcer.handOff && HANDOFF_REASONS.has(action.reason)) {
          // Make-before-break: the successor announces now; this node answers until the grace is over.
          announcer.handOff(name, () => this.handedOff(name, a));
          logger.info({ event: 'serviceWithdrawn', service: name, ips: a.ips, protocol: a.protocol, reason: action.reason, node: myNode, handoff: true, msg: 'withdrawing service announcement after the handoff grace (make-before-break)' });
          continue;
        }
        if (a.protocol === 'bgp') this.ports.bgp?.deleteBalancer(name); else announcer.deleteBalancer(name);
        for (const ip of a.ips) metrics.setAnnounced(name, a.protocol, ip, false);
        logger.info({ event: 'serviceWithdrawn', service: name, ips: a.ips, protocol: a.protocol, reason: action.reason, node: myNode, msg: 'withdrawing service announcement' });
        continue;
      }
      if (a.protocol === 'bgp') this.ports.bgp?.setBalancer(name, a); else announcer.setBalancer(name, a.ips);
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

  /** A handoff ended: the gauge drops the IPs this node no longer announces for the Service. */
  private handedOff(name: string, a: Announcement): void {
    const now = this.ports.core.announcement(name);
    const still = now?.protocol === 'layer2' ? new Set(now.ips) : new Set<string>();
    const stopped = a.ips.filter((ip) => !still.has(ip));
    for (const ip of stopped) this.ports.metrics.setAnnounced(name, 'layer2', ip, false);
    if (stopped.length > 0) this.ports.logger.info({ event: 'handoffDone', service: name, ips: stopped, node: this.ports.myNode, msg: 'handoff grace over: no longer answering for the service IPs' });
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
