/**
 * Which speakers are alive, for the layer-2 election (spec §5.1 step 2: MetalLB's
 * `UsableSpeakers()`). MetalLB v0.11 asks memberlist; metallb-ts answers from Kubernetes for now
 * (issue 9) and will add SWIM gossip on port 7946 behind the same interface (issue 11).
 *
 * Kubernetes liveness: a node is alive while its Node is Ready and a speaker Pod on it (selected
 * by `--ml-labels` in `--namespace`, placed by `spec.nodeName`) is Running and Ready, neither of
 * them being deleted. Node conditions matter here, unlike in v0.11 (memberlist liveness only):
 * without gossip the Node's Ready condition is the only sign that a host is gone.
 */

/** The set of alive speakers (node names), and change notifications. */
export interface Membership {
  /** Current alive node names (including this node when its speaker counts as alive). */
  alive(): ReadonlySet<string>;
  /** Calls `listener` after every change of `alive()`; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const key of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** True when `conditions` (a status.conditions list) has `type` with status "True". */
function conditionTrue(conditions: unknown, type: string): boolean {
  return Array.isArray(conditions) && conditions.some((c) => isObject(c) && c['type'] === type && c['status'] === 'True');
}

function beingDeleted(obj: unknown): boolean {
  const ts = field(obj, 'metadata', 'deletionTimestamp');
  return ts !== undefined && ts !== null && ts !== '';
}

/** A label selector compiled to a predicate; `ok: false` carries why the text does not parse. */
export type LabelSelectorResult =
  | { readonly ok: true; readonly matches: (labels: Readonly<Record<string, string>>) => boolean }
  | { readonly ok: false; readonly error: string };

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?)$/;

/**
 * Kubernetes label-selector text (`labels.Parse`), e.g. `app=metallb,component=speaker`:
 * `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, comma-separated and AND-ed.
 * The empty selector matches everything.
 */
export function parseLabelSelector(text: string): LabelSelectorResult {
  const terms: Array<(labels: Readonly<Record<string, string>>) => boolean> = [];
  // Split on commas outside parentheses.
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  if (parts.length === 1 && parts[0]!.trim() === '') return { ok: true, matches: () => true };
  for (const raw of parts) {
    const part = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^(\S+?)\s*(==|!=|=)\s*(\S*)$/.exec(part))) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      if (!KEY.test(key) || !VALUE.test(value)) return { ok: false, error: `invalid label selector term ${JSON.stringify(part)}` };
      terms.push(op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value);
    } else if ((m = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part))) {
      const [, key, op, list] = m as unknown as [string, string, string, string];
      const values = new Set(list.split(',').map((s) => s.trim()));
      if (!KEY.test(key) || [...values].some((v) => !VALUE.test(v))) {
        return { ok: false, error: `invalid label selector term ${JSON.stringify(part)}` };
      }
      terms.push(op === 'in' ? (l) => l[key] !== undefined && values.has(l[key]!) : (l) => l[key] === undefined || !values.has(l[key]!));
    } else if ((m = /^(!?)\s*(\S+)$/.exec(part)) && KEY.test(m[2]!)) {
      const key = m[2]!;
      terms.push(m[1] === '!' ? (l) => l[key] === undefined : (l) => l[key] !== undefined);
    } else {
      return { ok: false, error: `invalid label selector term ${JSON.stringify(part)}` };
    }
  }
  return { ok: true, matches: (labels) => terms.every((t) => t(labels)) };
}

function labelsOf(obj: unknown): Record<string, string> {
  const labels = field(obj, 'metadata', 'labels');
  if (!isObject(labels)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The taint an administrator sets on a node that is already down (Kubernetes non-graceful node shutdown). */
export const OUT_OF_SERVICE_TAINT = 'node.kubernetes.io/out-of-service';

function outOfService(node: unknown): boolean {
  const taints = field(node, 'spec', 'taints');
  return Array.isArray(taints) && taints.some((t) => isObject(t) && t['key'] === OUT_OF_SERVICE_TAINT);
}

/**
 * Alive nodes from Kubernetes objects (raw JSON; malformed entries count as not alive):
 * `nodes` are Node objects, `speakerPods` the speaker Pods (normally already listed by
 * `--ml-labels` in `--namespace`). When `labelSelector` is given, Pods it does not match are
 * ignored; a selector that does not parse matches no Pod (nothing alive: validate it with
 * `parseLabelSelector` first). A Node tainted `node.kubernetes.io/out-of-service` (any effect) is not alive even
 * while its Ready condition lags: the administrator says it is down, so its IPs move at once (issue 11).
 */
export function aliveFromKubernetes(nodes: readonly unknown[], speakerPods: readonly unknown[], labelSelector?: string): Set<string> {
  const selector = labelSelector === undefined ? undefined : parseLabelSelector(labelSelector);
  const readyNodes = new Set<string>();
  for (const node of Array.isArray(nodes) ? nodes : []) {
    const name = field(node, 'metadata', 'name');
    if (typeof name !== 'string' || name === '' || beingDeleted(node) || outOfService(node)) continue;
    if (conditionTrue(field(node, 'status', 'conditions'), 'Ready')) readyNodes.add(name);
  }
  const alive = new Set<string>();
  for (const pod of Array.isArray(speakerPods) ? speakerPods : []) {
    const nodeName = field(pod, 'spec', 'nodeName');
    if (typeof nodeName !== 'string' || !readyNodes.has(nodeName) || beingDeleted(pod)) continue;
    if (selector !== undefined && !(selector.ok && selector.matches(labelsOf(pod)))) continue;
    if (field(pod, 'status', 'phase') !== 'Running') continue;
    if (conditionTrue(field(pod, 'status', 'conditions'), 'Ready')) alive.add(nodeName);
  }
  return alive;
}
