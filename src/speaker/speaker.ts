/**
 * The speaker's pure core (MetalLB v0.11 speaker `SetConfig`/`SetBalancer`, spec §4): which Services this node
 * announces and how. It holds the running config and the current announcement per Service, asks the per-Service
 * decision (src/core/speaker/decide.ts) and returns what to carry out — withdrawals (each with v0.11's reason) and
 * announcements — plus the Events to record. It does no I/O: the reconciler drives the announcer, metrics and
 * Events from the result.
 *
 * - A withdrawal only happens for a Service this node announces (v0.11 `deleteBalancer` returns early otherwise).
 * - `protocolChanged` / `loadBalancerIPChanged` withdraw first, then the decision continues.
 * - Protocols outside `protocols` (the speaker passes both; tools and tests may pass fewer) are decided as v0.11
 *   would, and then not announced: the result says so (`protocolNotImplemented`).
 * - Normal Event `nodeAssigned` `announcing from node "<node>"` on every announcing sync (v0.11).
 */
import type { Config, Protocol } from '../core/config/types.js';
import type { ServiceEvent } from '../core/ports.js';
import type { ServiceLike } from '../core/service/view.js';
import type { EndpointsView } from '../core/service/endpoints.js';
import { announcedWithoutPool, decideService, type Announcement, type WithdrawReason } from '../core/speaker/decide.js';

export type { Announcement, WithdrawReason };

/** What the reconciler carries out, in order. */
export type SpeakerAction =
  | { readonly kind: 'withdraw'; readonly announcement: Announcement; readonly reason: WithdrawReason }
  | { readonly kind: 'announce'; readonly announcement: Announcement; readonly changed: boolean };

/** Why a Service is not announced by this node (after its withdrawal, if any). */
export type SkipReason = WithdrawReason | 'noConfig' | 'protocolNotImplemented' | 'noQuorum';

export interface BalancerResult {
  readonly actions: readonly SpeakerAction[];
  /** Set when the Service ends up not announced here. */
  readonly skipped?: { readonly reason: SkipReason; readonly protocol?: Protocol };
  /** Events to record against the Service. */
  readonly events: readonly ServiceEvent[];
}

export type SpeakerConfigDecision =
  | { readonly kind: 'applied' }
  /** v0.11: an announced IP would have no pool; the running config stays. `blockers`: the Services, sorted. */
  | { readonly kind: 'refused'; readonly reason: string; readonly blockers: readonly string[] };

export interface SpeakerOptions {
  /** This node's name (`--node-name`). */
  readonly myNode: string;
  /** Protocols this speaker announces (default: layer2 only; `metallb-ts speaker` passes layer2 and bgp). */
  readonly protocols?: ReadonlySet<Protocol>;
}

const LAYER2_ONLY: ReadonlySet<Protocol> = new Set<Protocol>(['layer2']);
const NONE: ReadonlySet<string> = new Set();

export class Speaker {
  private readonly myNode: string;
  private readonly protocols: ReadonlySet<Protocol>;
  private config: Config | undefined;
  private readonly announced = new Map<string, Announcement>();

  constructor(options: SpeakerOptions) {
    this.myNode = options.myNode;
    this.protocols = options.protocols ?? LAYER2_ONLY;
  }

  /** The running config; undefined before the first applied one. */
  get runningConfig(): Config | undefined {
    return this.config;
  }

  /** What this node announces for `name` now. */
  announcement(name: string): Announcement | undefined {
    return this.announced.get(name);
  }

  /** Names of the Services this node announces. */
  announcedNames(): string[] {
    return [...this.announced.keys()];
  }

  /**
   * v0.11 SetConfig: refused when any announced Service's IPs would fall outside every pool of `config`
   * (`service has no configuration under new config`); else it becomes the running config.
   */
  setConfig(config: Config): SpeakerConfigDecision {
    const blockers = announcedWithoutPool(config, this.announced);
    if (blockers.length > 0) return { kind: 'refused', reason: 'service has no configuration under new config', blockers };
    this.config = config;
    return { kind: 'applied' };
  }

  /**
   * v0.11 SetBalancer for one Service (`service` undefined = deleted). `claimNew` false (the minority rule,
   * src/core/speaker/quorum.ts: this node sees fewer than a majority of the speakers it knows) keeps what this node
   * already announces on layer 2 but takes no new layer-2 Service (skipped `noQuorum`); BGP is not affected.
   * `excluded`: nodes that must not announce (`--exclude-lb` and the Node label; decide.ts), default none.
   */
  setBalancer(name: string, service: ServiceLike | undefined, endpoints: EndpointsView, alive: ReadonlySet<string>, claimNew = true,
    excluded: ReadonlySet<string> = NONE): BalancerResult {
    let current = this.announced.get(name);
    const { decision, withdrawFirst } = decideService({
      name, service, endpoints, config: this.config, myNode: this.myNode, alive, current, excluded,
    });
    const actions: SpeakerAction[] = [];
    const withdraw = (reason: WithdrawReason) => {
      if (!current) return;
      actions.push({ kind: 'withdraw', announcement: current, reason });
      this.announced.delete(name);
      current = undefined;
    };
    if (withdrawFirst) withdraw(withdrawFirst);
    if (decision.kind === 'keep') return { actions, skipped: { reason: decision.reason }, events: [] };
    if (decision.kind === 'withdraw') {
      withdraw(decision.reason);
      return { actions, skipped: { reason: decision.reason }, events: [] };
    }
    const next = decision.announcement;
    if (!this.protocols.has(next.protocol)) {
      withdraw('protocolChanged');
      return { actions, skipped: { reason: 'protocolNotImplemented', protocol: next.protocol }, events: [] };
    }
    if (!claimNew && next.protocol === 'layer2' && current === undefined) return { actions, skipped: { reason: 'noQuorum' }, events: [] };
    this.announced.set(name, next);
    actions.push({ kind: 'announce', announcement: next, changed: current === undefined });
    return {
      actions,
      events: [{ type: 'Normal', reason: 'nodeAssigned', message: `announcing from node ${JSON.stringify(this.myNode)}` }],
    };
  }
}
