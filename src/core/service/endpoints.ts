/**
 * The ONE place a Service's backends (EndpointSlices `discovery.k8s.io/v1` or v1 Endpoints) become
 * an EndpointsView: which nodes host a ready endpoint, as the speaker's decisions need it
 * (spec §4 watches, §5.1 layer-2 eligibility, §6.1 BGP health). Input is raw JSON (`unknown`):
 * malformed parts are skipped and named in `problems`, nothing throws.
 *
 * Two readings of "ready" coexist because MetalLB v0.11 has both:
 * - layer 2 (§5.1): an endpoint is ready when Endpoints lists it under `addresses`, or a slice
 *   endpoint has `conditions.ready !== false` (absent = ready); `readyNodes`/`anyReady`.
 * - BGP (§6.1): health is per endpoint IP and not-ready wins: an IP listed not-ready anywhere
 *   (another subset, another slice) is unhealthy even where it is ready; `healthyNodes`/`anyHealthy`.
 *
 * The node of an endpoint is `nodeName` (v1 Endpoints `addresses[].nodeName`, v1 slices
 * `endpoints[].nodeName`). The spec's "topology hostname, not nodeName" is v1beta1's rule; in v1
 * the hostname topology moved to `deprecatedTopology` and `nodeName` is the field to read.
 */
import { SERVICE_NAME_LABEL } from '../k8s/objects.js';

/** Ready endpoints of one Service, by node. */
export interface EndpointsView {
  /**
   * False when the Service has no Endpoints object / no slice at all. MetalLB v0.11 handles that
   * Service as deleted (spec §4), so selector-less Services without manual Endpoints are never
   * announced.
   */
  readonly present: boolean;
  /** Some endpoint is ready (layer 2: v0.11's "active endpoint exists"). */
  readonly anyReady: boolean;
  /** Distinct nodes hosting a ready endpoint (endpoints without a node are skipped). */
  readonly readyNodes: ReadonlySet<string>;
  /** Some endpoint IP is healthy (BGP: ready somewhere and not-ready nowhere). */
  readonly anyHealthy: boolean;
  /** Distinct nodes hosting a ready endpoint whose IP is healthy. */
  readonly healthyNodes: ReadonlySet<string>;
  /** What was skipped as malformed, for a log line; empty for well-formed input. */
  readonly problems: readonly string[];
}

/** A Service with no Endpoints object and no slice. */
export const NO_ENDPOINTS: EndpointsView = {
  present: false,
  anyReady: false,
  readyNodes: new Set(),
  anyHealthy: false,
  healthyNodes: new Set(),
  problems: [],
};

/** One endpoint, normalised: its IPs, node (undefined when unset) and readiness. */
interface Entry {
  readonly ips: readonly string[];
  readonly node: string | undefined;
  readonly ready: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmptyString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** `v` as a list; `null`/absent is an empty list; anything else is a problem. */
function listOf(v: unknown, what: string, problems: string[]): readonly unknown[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  problems.push(`${what} is not a list`);
  return [];
}

/** Folds normalised entries into the view (both readings of "ready", see the file comment). */
function viewOf(entries: readonly Entry[], problems: readonly string[]): EndpointsView {
  const notReadyIps = new Set<string>();
  for (const e of entries) if (!e.ready) for (const ip of e.ips) notReadyIps.add(ip);
  const readyNodes = new Set<string>();
  const healthyNodes = new Set<string>();
  let anyReady = false;
  let anyHealthy = false;
  for (const e of entries) {
    if (!e.ready) continue;
    anyReady = true;
    const healthy = e.ips.some((ip) => !notReadyIps.has(ip));
    if (healthy) anyHealthy = true;
    if (e.node === undefined) continue;
    readyNodes.add(e.node);
    if (healthy) healthyNodes.add(e.node);
  }
  return { present: true, anyReady, readyNodes, anyHealthy, healthyNodes, problems };
}

/**
 * View of one Service from all its EndpointSlices (`discovery.k8s.io/v1`, already selected by
 * label `kubernetes.io/service-name`). No slice at all = `present: false` (v0.11: as if deleted).
 * Per endpoint: node = `nodeName`, ready = `conditions.ready !== false` (absent counts as ready,
 * as Kubernetes documents for consumers that cannot tell).
 */
export function endpointsFromSlices(slices: readonly unknown[]): EndpointsView {
  const problems: string[] = [];
  const list = listOf(slices, 'slices', problems);
  if (list.length === 0) return { ...NO_ENDPOINTS, problems };
  const entries: Entry[] = [];
  list.forEach((slice, i) => {
    if (!isObject(slice)) {
      problems.push(`slice ${i} is not an object`);
      return;
    }
    listOf(slice['endpoints'], `slice ${i} endpoints`, problems).forEach((ep, j) => {
      if (!isObject(ep)) {
        problems.push(`slice ${i} endpoint ${j} is not an object`);
        return;
      }
      const ips = listOf(ep['addresses'], `slice ${i} endpoint ${j} addresses`, problems).flatMap((a) => {
        const ip = nonEmptyString(a);
        return ip === undefined ? [] : [ip];
      });
      const conditions = ep['conditions'];
      const ready = isObject(conditions) ? conditions['ready'] !== false : true;
      entries.push({ ips, node: nonEmptyString(ep['nodeName']), ready });
    });
  });
  return viewOf(entries, problems);
}

/**
 * View of one Service from its v1 Endpoints object (`--disable-epslices`). `undefined`/`null` =
 * no Endpoints object = `present: false`. `subsets[].addresses` are ready (node = `nodeName`,
 * entries without one still count for `anyReady`); `notReadyAddresses` never make a node ready
 * and, for BGP health, make their IP unhealthy everywhere.
 */
export function endpointsFromEndpoints(endpoints: unknown): EndpointsView {
  if (endpoints === undefined || endpoints === null) return NO_ENDPOINTS;
  const problems: string[] = [];
  if (!isObject(endpoints)) return { ...NO_ENDPOINTS, present: true, problems: ['endpoints is not an object'] };
  const entries: Entry[] = [];
  listOf(endpoints['subsets'], 'subsets', problems).forEach((subset, i) => {
    if (!isObject(subset)) {
      problems.push(`subset ${i} is not an object`);
      return;
    }
    for (const [field, ready] of [['addresses', true], ['notReadyAddresses', false]] as const) {
      listOf(subset[field], `subset ${i} ${field}`, problems).forEach((address, j) => {
        if (!isObject(address)) {
          problems.push(`subset ${i} ${field} ${j} is not an object`);
          return;
        }
        const ip = nonEmptyString(address['ip']);
        entries.push({ ips: ip === undefined ? [] : [ip], node: nonEmptyString(address['nodeName']), ready });
      });
    }
  });
  return viewOf(entries, problems);
}

/**
 * `namespace/name` of the Service an EndpointSlice belongs to (label `kubernetes.io/service-name`
 * in the slice's namespace); undefined when the slice carries no such label or is malformed.
 */
export function serviceKeyOfSlice(slice: unknown): string | undefined {
  if (!isObject(slice) || !isObject(slice['metadata'])) return undefined;
  const meta = slice['metadata'];
  const namespace = nonEmptyString(meta['namespace']);
  const labels = meta['labels'];
  const name = isObject(labels) ? nonEmptyString(labels[SERVICE_NAME_LABEL]) : undefined;
  return namespace === undefined || name === undefined ? undefined : `${namespace}/${name}`;
}
