/**
 * The speaker's per-Service decision (MetalLB v0.11 `SetBalancer`, spec §4), as a pure function:
 * given the Service, its endpoints, the config, this node and the alive speakers, announce it (and
 * how) or withdraw it (and why). The checks run in v0.11's order and yield its reason names:
 *
 * 1. `serviceDeleted`   the Service is gone, or it has no Endpoints object / no slice (v0.11 treats
 *                        a missing Endpoints as a deletion).
 * 2. `notLoadBalancer`  `spec.type` is not LoadBalancer.
 *    (no config yet → `keep`: v0.11 ignores the Service until a config arrives.)
 * 3. `noIPAllocated`    no `status.loadBalancer.ingress` entry (v0.12 rule: 0 entries; several of
 *                        different families are one dual-stack Service).
 * 4. `invalidIP`        an entry's `ip` does not parse, or the IPs are not one family / one pair.
 * 5. `ipNotAllowed`     no pool contains every IP (the speaker ignores avoid-buggy-ips here).
 * 6. `internalError`    the pool's protocol has no handler in this speaker.
 * 7. `protocolChanged` / `loadBalancerIPChanged` against what is announced now: withdraw first
 *                        (`withdrawFirst`), then continue.
 * 8. the protocol's ShouldAnnounce: first `nodeExcluded` when this node is in `excluded` (the Node label
 *    `node.kubernetes.io/exclude-from-external-load-balancers`, honoured with `--exclude-lb` as MetalLB ≥ 0.14
 *    does; src/core/speaker/exclude-lb.ts); then layer 2 → `notOwner` unless this node is the elected owner
 *    (§5.1, hashring, over the eligible nodes minus `excluded`); BGP → `noLocalEndpoints` (Local policy, no
 *    healthy endpoint on this node) then `noEndpoints` (no healthy endpoint anywhere; §6.1, not-ready wins).
 *
 * A `withdraw` decision only acts when the Service is currently announced (v0.11's
 * `deleteBalancer` returns early otherwise); the caller owns that state.
 */
import type { Config, Pool, Protocol } from '../config/types.js';
import { type IpAddr, cidrContains, parseIp, formatIp } from '../ip/index.js';
import { familyOfIps } from '../allocator/types.js';
import type { ServiceLike } from '../service/service-like.js';
import { normaliseIngress } from '../service/view.js';
import type { EndpointsView } from '../service/endpoints.js';
import { eligibleNodes, trafficPolicyOf } from '../election/eligible.js';
import { electOwner } from '../election/owner.js';

/** What this speaker announces for one Service. `ips` are canonical text, in status order. */
export interface Announcement {
  readonly protocol: Protocol;
  readonly ips: readonly string[];
  readonly pool: string;
}

/** MetalLB v0.11's withdraw reasons (log field `reason`), spec §4. */
export type WithdrawReason =
  | 'serviceDeleted'
  | 'notLoadBalancer'
  | 'noIPAllocated'
  | 'invalidIP'
  | 'ipNotAllowed'
  | 'internalError'
  | 'protocolChanged'
  | 'loadBalancerIPChanged'
  | 'notOwner'
  | 'noEndpoints'
  | 'noLocalEndpoints'
  /** Not in v0.11: the node carries the exclude-from-external-load-balancers label and `--exclude-lb` is on. */
  | 'nodeExcluded';

/** The outcome for one Service. */
export type Decision =
  | { readonly kind: 'announce'; readonly announcement: Announcement }
  | { readonly kind: 'withdraw'; readonly reason: WithdrawReason }
  /** No config yet: leave whatever is announced as it is (v0.11 ignores the Service). */
  | { readonly kind: 'keep'; readonly reason: 'noConfig' };

/** Everything one decision reads. */
export interface DecideInput {
  /** `namespace/name`, for messages. */
  readonly name: string;
  /** undefined = deleted. */
  readonly service: ServiceLike | undefined;
  readonly endpoints: EndpointsView;
  /** undefined = no config loaded yet. */
  readonly config: Config | undefined;
  readonly myNode: string;
  /** Alive speakers (membership). */
  readonly alive: ReadonlySet<string>;
  /** What this speaker announces for the Service now, if anything. */
  readonly current: Announcement | undefined;
  /** Protocols this speaker has a handler for (default both); others give `internalError`. */
  readonly handlers?: ReadonlySet<Protocol>;
  /**
   * Nodes that must not announce (the exclude-from-external-load-balancers label with `--exclude-lb`; default
   * none, as v0.11): no layer-2 ownership, no BGP routes.
   */
  readonly excluded?: ReadonlySet<string>;
}

/** The decision, plus a withdrawal to carry out before it (protocol or IP changed). */
export interface DecideResult {
  readonly decision: Decision;
  readonly withdrawFirst?: 'protocolChanged' | 'loadBalancerIPChanged';
}

const BOTH: ReadonlySet<Protocol> = new Set<Protocol>(['layer2', 'bgp']);

function withdraw(reason: WithdrawReason, withdrawFirst?: DecideResult['withdrawFirst']): DecideResult {
  return withdrawFirst === undefined ? { decision: { kind: 'withdraw', reason } } : { decision: { kind: 'withdraw', reason }, withdrawFirst };
}

/**
 * The pool holding every one of `ips` (first in config order; pools do not overlap). Unlike the
 * allocator, avoid-buggy-ips is ignored, as MetalLB's speaker `poolFor` does.
 */
export function speakerPoolFor(pools: readonly Pool[], ips: readonly IpAddr[]): Pool | undefined {
  if (ips.length === 0) return undefined;
  return pools.find((p) => ips.every((ip) => p.cidrs.some((c) => cidrContains(c, ip))));
}

/** Decides one Service (spec §4 order, see the file comment). Pure; never throws. */
export function decideService(input: DecideInput): DecideResult {
  const { service, endpoints, config, current } = input;
  if (service === undefined || service === null || !endpoints.present) return withdraw('serviceDeleted');
  if (service.spec?.type !== 'LoadBalancer') return withdraw('notLoadBalancer');
  if (config === undefined) return { decision: { kind: 'keep', reason: 'noConfig' } };

  const ingress = normaliseIngress(Array.isArray(service.status?.loadBalancer?.ingress) ? service.status!.loadBalancer!.ingress! : []);
  if (ingress.length === 0) return withdraw('noIPAllocated');
  const ips: IpAddr[] = [];
  for (const entry of ingress) {
    const ip = entry.ip === undefined ? undefined : parseIp(entry.ip);
    if (ip === undefined) return withdraw('invalidIP');
    ips.push(ip);
  }
  if (familyOfIps(ips) === undefined) return withdraw('invalidIP');
  const pool = speakerPoolFor(config.pools, ips);
  if (pool === undefined) return withdraw('ipNotAllowed');
  if (!(input.handlers ?? BOTH).has(pool.protocol)) return withdraw('internalError');

  const texts = ips.map(formatIp);
  let withdrawFirst: DecideResult['withdrawFirst'];
  if (current !== undefined) {
    if (current.protocol !== pool.protocol) withdrawFirst = 'protocolChanged';
    else if (current.ips.length !== texts.length || current.ips.some((t, i) => t !== texts[i])) withdrawFirst = 'loadBalancerIPChanged';
  }

  const policy = trafficPolicyOf(service.spec?.externalTrafficPolicy);
  const excluded = input.excluded;
  if (excluded?.has(input.myNode)) return withdraw('nodeExcluded', withdrawFirst);
  if (pool.protocol === 'layer2') {
    // The first ingress IP keys the election: Services sharing it elect the same node.
    const eligible = eligibleNodes(policy, endpoints, input.alive);
    const owner = electOwner(texts[0]!, excluded && excluded.size > 0 ? eligible.filter((n) => !excluded.has(n)) : eligible, input.alive);
    if (owner !== input.myNode) return withdraw('notOwner', withdrawFirst);
  } else {
    if (policy === 'Local' && !endpoints.healthyNodes.has(input.myNode)) return withdraw('noLocalEndpoints', withdrawFirst);
    if (!endpoints.anyHealthy) return withdraw('noEndpoints', withdrawFirst);
  }
  const announcement: Announcement = { protocol: pool.protocol, ips: texts, pool: pool.name };
  const decision: Decision = { kind: 'announce', announcement };
  return withdrawFirst === undefined ? { decision } : { decision, withdrawFirst };
}

/**
 * The speaker's fail-static rule for a new config (spec §4 SetConfig): the names of announced
 * Services whose addresses no pool of `config` holds (sorted). Non-empty = refuse the config
 * (`service has no configuration under new config`), keep the last good one, mark it stale.
 */
export function announcedWithoutPool(config: Config, announced: ReadonlyMap<string, Announcement>): string[] {
  const out: string[] = [];
  for (const [name, a] of announced) {
    const ips = a.ips.map((t) => parseIp(t));
    if (ips.some((ip) => ip === undefined) || speakerPoolFor(config.pools, ips as IpAddr[]) === undefined) out.push(name);
  }
  return out.sort();
}
