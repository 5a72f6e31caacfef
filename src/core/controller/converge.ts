/**
 * The controller's convergence rules for one Service (MetalLB v0.11 `convergeBalancer`, in the
 * v0.12 multi-address form): decide which addresses the Service should end up with, keeping the
 * allocator in step, and which Events to record. Pure apart from the allocator it is handed.
 */
import { type Allocator, type AllocResult, familyOfIps, formatAllocError } from '../allocator/index.js';
import { type IpAddr, formatIp, ipEquals } from '../ip/index.js';
import type { Logger, ServiceEvent } from '../ports.js';
import { type ServiceView, quoteIpList } from '../service/view.js';

/** What convergence decided. */
export interface ConvergeOutcome {
  /** False = the Service needs an allocation but the controller is not synced yet: retry later. */
  readonly ok: boolean;
  /** The addresses the status should list ([] = cleared), in allocation order. */
  readonly ips: readonly IpAddr[];
  readonly events: readonly ServiceEvent[];
}

const warning = (reason: string, message: string): ServiceEvent => ({ type: 'Warning', reason, message });

function sameIpSet(a: readonly IpAddr[], b: readonly IpAddr[]): boolean {
  return a.length === b.length && a.every((x) => b.some((y) => ipEquals(x, y)));
}

/** `Assigned IP "1.2.3.4"` for one address (v0.11), `Assigned IP ["1.2.3.4" "1000::"]` for two (v0.12). */
function assignedMessage(ips: readonly IpAddr[]): string {
  return `Assigned IP ${ips.length === 1 ? JSON.stringify(formatIp(ips[0]!)) : quoteIpList(ips)}`;
}

/**
 * The one rule for "requested IP" against "requested pool" (issue 8, fault 2), used by both allocation and the
 * keep-current check so they can never disagree and flap: when a Service names a pool and also requests
 * addresses, every requested address must lie in that pool; otherwise it gets no address and a Warning (MetalLB
 * settled it this way after v0.11). An unknown pool is left to allocation's own `unknown pool` error.
 * Returns the failure message, undefined when there is no conflict.
 */
export function requestConflict(alloc: Allocator, view: ServiceView): string | undefined {
  const req = view.requested;
  if (view.pool === '' || req.kind !== 'ips') return undefined;
  const holds = alloc.poolHolds(view.pool, req.ips);
  if (holds === undefined) return `unknown pool ${JSON.stringify(view.pool)}`;
  if (holds) return undefined;
  const what = req.source === 'spec' ? `spec.loadBalancerIP ${JSON.stringify(req.text)}` : `loadBalancer IP(s) ${quoteIpList(req.ips)}`;
  return `requested ${what} is not in the requested pool ${JSON.stringify(view.pool)}`;
}

/**
 * The addresses the Service currently holds according to its status, re-registered in the
 * allocator, or [] when they must be dropped (rules 3–6 of spec §3).
 */
function keepCurrent(alloc: Allocator, key: string, view: ServiceView, events: ServiceEvent[], log: Logger): readonly IpAddr[] {
  const clear = (reason: string, msg: string, error?: string): readonly IpAddr[] => {
    alloc.unassign(key);
    log.info({ event: 'clearAssignment', reason, msg, ...(error === undefined ? {} : { error }) });
    return [];
  };
  const status = view.statusIps;
  if (status.kind === 'none') {
    alloc.unassign(key);
    return [];
  }
  if (status.kind === 'invalid') {
    events.push(warning('nolbIPsIPFamily', 'Failed to retrieve lbIPs family'));
    return clear('invalidIngress', `status IPs unusable: ${status.detail}`);
  }
  if (view.clusterFamily.kind !== 'ok' || status.family !== view.clusterFamily.family) {
    return clear('wrongIPFamily', 'status IP family differs from the service IP family');
  }
  if (requestConflict(alloc, view) !== undefined) {
    return clear('requestedIPNotInPool', 'user requested an IP that is not in the requested pool');
  }
  const assigned = alloc.assign(key, status.ips, view.ports, view.sharingKey, view.backendKey);
  if (!assigned.ok) return clear('notAllowedByConfig', 'current IP not allowed by config, clearing', formatAllocError(assigned.error, 'v0.11'));
  if (view.pool !== '' && alloc.poolOf(key) !== view.pool) {
    return clear('differentPoolRequested', 'user requested a different pool than the one currently assigned');
  }
  const req = view.requested;
  if (req.kind !== 'none' && !(req.kind === 'ips' && sameIpSet(req.ips, status.ips))) {
    return clear('differentIPRequested', 'user requested a different IP than the one currently assigned');
  }
  return status.ips;
}

/** MetalLB's `allocateIP(s)`: requested addresses, else the pool annotation, else any auto-assign pool. */
function allocateFor(alloc: Allocator, key: string, view: ServiceView): { ok: true; ips: readonly IpAddr[] } | { ok: false; event: ServiceEvent; error: string } {
  const fail = (message: string, reason = 'AllocationFailed') => ({
    ok: false as const,
    error: message,
    event: warning(reason, `Failed to allocate IP for ${JSON.stringify(key)}: ${message}`),
  });
  if (view.clusterFamily.kind !== 'ok') return fail('service has no cluster IP');
  const family = view.clusterFamily.family;
  const req = view.requested;
  if (req.kind === 'invalid') return fail(req.message, req.reason === 'both' ? 'LoadBalancerFailed' : 'AllocationFailed');
  const conflict = requestConflict(alloc, view);
  if (conflict !== undefined) return fail(conflict);
  let result: AllocResult;
  if (req.kind === 'ips') {
    if (req.family !== family) {
      return fail(
        req.source === 'spec'
          ? `requested spec.loadBalancerIP ${JSON.stringify(req.text)} does not match the ipFamily of the service`
          : `requested loadBalancer IP(s) ${quoteIpList(req.ips)} does not match the ipFamily of the service`,
      );
    }
    result = alloc.assign(key, req.ips, view.ports, view.sharingKey, view.backendKey);
  } else if (view.pool !== '') {
    result = alloc.allocateFromPool(key, family, view.pool, view.ports, view.sharingKey, view.backendKey);
  } else {
    result = alloc.allocate(key, family, view.ports, view.sharingKey, view.backendKey);
  }
  if (!result.ok) return fail(formatAllocError(result.error, 'v0.11'));
  // Allocate() hands back an existing allocation whatever its family; never publish a mismatch.
  if (familyOfIps(result.ips) !== family) {
    alloc.unassign(key);
    return fail(formatAllocError({ kind: 'wrongFamily', held: result.ips, requested: family }, 'v0.11'));
  }
  return { ok: true, ips: result.ips };
}

/** Converges one Service (`key` = "namespace/name"). */
export function converge(alloc: Allocator, key: string, view: ServiceView, synced: boolean, log: Logger): ConvergeOutcome {
  const events: ServiceEvent[] = [];
  if (!view.isLoadBalancer) {
    alloc.unassign(key);
    return { ok: true, ips: [], events };
  }
  if (view.clusterFamily.kind !== 'ok') {
    if (view.clusterFamily.kind === 'invalid') events.push(warning('noclusterIPsIPFamily', 'Failed to retrieve clusterIPs family'));
    alloc.unassign(key);
    log.info({ event: 'clearAssignment', reason: 'noClusterIP', msg: 'No ClusterIP' });
    return { ok: true, ips: [], events };
  }
  let ips = keepCurrent(alloc, key, view, events, log);
  if (ips.length === 0) {
    if (!synced) {
      log.error({ op: 'allocateIPs', error: 'controller not synced', msg: 'controller not synced yet, cannot allocate IP; will retry after sync' });
      return { ok: false, ips: [], events };
    }
    const allocated = allocateFor(alloc, key, view);
    if (!allocated.ok) {
      log.error({ op: 'allocateIPs', error: allocated.error, msg: 'IP allocation failed' });
      events.push(allocated.event);
      return { ok: true, ips: [], events };
    }
    ips = allocated.ips;
    log.info({ event: 'ipAllocated', ip: ips.map(formatIp), msg: 'IP address assigned by controller' });
    events.push({ type: 'Normal', reason: 'IPAllocated', message: assignedMessage(ips) });
  }
  if (alloc.poolOf(key) === undefined) {
    log.error({ op: 'allocateIPs', error: 'allocated an IP that has no pool', bug: 'true', msg: 'internal error' });
    events.push(warning('InternalError', 'allocated an IP that has no pool'));
    alloc.unassign(key);
    return { ok: true, ips: [], events };
  }
  return { ok: true, ips, events };
}
