/**
 * `validate --cluster`'s prediction (issue 13 §2): what the controller would do with a candidate config, given the
 * live ConfigMap, the last-applied store and the Services as the API shows them. Pure and synchronous.
 *
 * It does not model the controller; it runs it. The same fail-static rule (chooseConfig/orphanedBy) decides
 * refuse or apply, and the controller's own core (Controller: allocator + converge) is driven the way the adapter
 * drives it: the running config is installed, every Service is processed before sync (which re-registers the
 * addresses its status shows, allocating nothing, as at start-up), the candidate goes through setConfig, the core
 * is marked synced, and Services are processed (in key order) until no status write is left, as the reprocessAll
 * that follows an applied config does. Where several Services compete for the same free addresses the real
 * controller's order is its work queue's; the prediction uses key order, so which of them wins may differ.
 */
import { chooseConfig, configMapInput, heldAddresses, parseStored, type AppliedConfig, type StoredConfig } from '../core/config/fail-static.js';
import type { ConfigResult } from '../core/config/types.js';
import type { ServiceObject, ConfigMapObject } from '../core/k8s/objects.js';
import { NOOP_LOGGER } from '../core/ports.js';
import { toServiceView } from '../core/service/view.js';
import { Controller } from './controller.js';

/** What happens to one Service's addresses. */
export type ServiceFate =
  /** Holds the same addresses afterwards. */
  | 'keep'
  /** Holds different addresses afterwards. */
  | 'change'
  /** Holds addresses now, none afterwards. */
  | 'lose'
  /** Holds none now, gets addresses. */
  | 'gain'
  /** Holds none now and none afterwards. */
  | 'none';

export interface ServicePrediction {
  /** "namespace/name". */
  readonly service: string;
  /** Addresses in `status.loadBalancer.ingress` now, as written. */
  readonly before: readonly string[];
  /** Addresses the controller would write. */
  readonly after: readonly string[];
  readonly fate: ServiceFate;
  /** The last Warning the controller would record for it (why it loses or gets no address); undefined = none. */
  readonly reason?: string;
}

export type DryRunDecision =
  | { readonly kind: 'apply' }
  /** The controller would refuse the candidate and keep running its config; `blockers` = "ns/name", sorted. */
  | { readonly kind: 'refuse'; readonly reason: string; readonly blockers: readonly string[] };

export interface DryRunResult {
  readonly decision: DryRunDecision;
  /** Every LoadBalancer Service of this MetalLB (its lbClass), sorted by "namespace/name". */
  readonly services: readonly ServicePrediction[];
}

export interface DryRunInput {
  /** The candidate: a parse result (from parseConfigDocument), valid or not. */
  readonly candidate: ConfigResult;
  /** The live config ConfigMap (undefined = absent). */
  readonly configMap: ConfigMapObject | undefined;
  /** The last-applied store's content (undefined = absent or never written). */
  readonly stored: StoredConfig | undefined;
  readonly services: readonly ServiceObject[];
  readonly parse: (text: string) => ConfigResult;
  /** `--lb-class` of the controller; undefined = Services without `spec.loadBalancerClass`. */
  readonly lbClass?: string;
}

/** Pass bound for the post-apply convergence: each pass either writes nothing (done) or settles more Services. */
const MAX_PASSES = 8;

const keyOf = (svc: ServiceObject) => `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
const ipsOf = (ingress: readonly { readonly ip?: string | null }[] | null | undefined) => (ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : []));

function fateOf(before: readonly string[], after: readonly string[]): ServiceFate {
  if (before.length === 0) return after.length === 0 ? 'none' : 'gain';
  if (after.length === 0) return 'lose';
  const same = before.length === after.length && before.every((ip) => after.includes(ip));
  return same ? 'keep' : 'change';
}

/** The config the running controller holds: the live ConfigMap's when it passes, else the last applied one. */
function runningConfig(input: DryRunInput, held: ReturnType<typeof heldAddresses>): AppliedConfig | undefined {
  const stored = parseStored(input.stored, input.parse);
  const live = chooseConfig({ configMap: configMapInput(input.configMap), parse: input.parse, running: stored, held });
  return live.kind === 'apply' ? live.applied : live.running;
}

/** Predicts the controller's decision on `input.candidate` and each Service's addresses afterwards. Never throws. */
export function dryRun(input: DryRunInput): DryRunResult {
  const services = [...input.services].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const wanted = input.lbClass === '' ? undefined : input.lbClass;
  const ours = services.filter((svc) => {
    const view = toServiceView(svc);
    return view.isLoadBalancer && view.lbClass === wanted;
  });
  const before = new Map(ours.map((svc) => [keyOf(svc), ipsOf(svc.status?.loadBalancer?.ingress)]));
  const unchanged = (decision: DryRunDecision): DryRunResult => ({
    decision,
    services: ours.map((svc) => {
      const ips = before.get(keyOf(svc)) ?? [];
      return { service: keyOf(svc), before: ips, after: ips, fate: ips.length === 0 ? 'none' : 'keep' };
    }),
  });

  const held = heldAddresses(services, input.lbClass);
  const running = runningConfig(input, held);
  const candidate = input.candidate;
  const choice = chooseConfig({ configMap: { present: true, text: '' }, parse: () => candidate, running, held });
  if (choice.kind === 'refuse') return unchanged({ kind: 'refuse', reason: choice.reason, blockers: choice.blockers });
  if (choice.kind !== 'apply') return unchanged({ kind: 'refuse', reason: 'configuration is missing', blockers: [] });

  const core = new Controller({ logger: NOOP_LOGGER, ...(input.lbClass !== undefined ? { lbClass: input.lbClass } : {}) });
  if (running) core.setConfig(running.config);
  for (const svc of services) core.setBalancer(keyOf(svc), svc);
  const decision = core.setConfig(choice.applied.config);
  if (decision.kind === 'refused') return unchanged({ kind: 'refuse', reason: decision.reason, blockers: decision.blockers });
  core.markSynced();

  const current = new Map(services.map((svc) => [keyOf(svc), svc]));
  const reasons = new Map<string, string>();
  for (let pass = 0; pass < MAX_PASSES; pass += 1) {
    let wrote = false;
    for (const [key, svc] of current) {
      const result = core.setBalancer(key, svc);
      const warning = result.events.filter((e) => e.type === 'Warning').at(-1);
      if (warning) reasons.set(key, warning.message);
      else if (result.status && result.status.length > 0) reasons.delete(key);
      if (!result.status) continue;
      wrote = true;
      current.set(key, { ...svc, status: { ...svc.status, loadBalancer: { ...svc.status?.loadBalancer, ingress: [...result.status] } } });
    }
    if (!wrote) break;
  }

  return {
    decision: { kind: 'apply' },
    services: ours.map((svc) => {
      const key = keyOf(svc);
      const was = before.get(key) ?? [];
      const now = ipsOf(current.get(key)?.status?.loadBalancer?.ingress);
      const fate = fateOf(was, now);
      const reason = reasons.get(key);
      return { service: key, before: was, after: now, fate, ...(reason !== undefined && (fate === 'lose' || fate === 'none') ? { reason } : {}) };
    }),
  };
}

/**
 * `validate --cluster`'s exit status: 0 applies with no Service changed, 3 applies and some Service changes, loses
 * or gains addresses, 4 the controller would refuse the candidate.
 */
export function dryRunExitCode(result: DryRunResult): 0 | 3 | 4 {
  if (result.decision.kind === 'refuse') return 4;
  return result.services.some((s) => s.fate !== 'keep' && s.fate !== 'none') ? 3 : 0;
}
