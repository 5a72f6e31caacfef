/**
 * The Node label `node.kubernetes.io/exclude-from-external-load-balancers` (issue 11): MetalLB ≥ 0.14 keeps such
 * nodes from announcing (layer 2: not eligible for the election; BGP: no routes) unless `--ignore-exclude-lb`;
 * v0.11 ignores it, and so does metallb-ts unless the speaker runs with `--exclude-lb` (METALLB_EXCLUDE_LB). kubeadm
 * puts the label on control-plane nodes, so honouring it by default would leave a control-plane-only cluster with
 * nothing announced.
 *
 * The label counts when present, whatever its value (Kubernetes' own reading: the service controller and the cloud
 * providers test the key only). Pure: it holds the excluded node names from Node objects (raw JSON or typed client
 * objects) and tells its listeners, synchronously, each node whose exclusion changed.
 */

/** The well-known label (k8s.io/api core/v1 `LabelNodeExcludeBalancers`). */
export const EXCLUDE_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

function nameOf(node: unknown): string | undefined {
  const name = (node as { metadata?: { name?: unknown } | null } | null | undefined)?.metadata?.name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/** True when the Node carries the label (any value, the empty string included). */
export function excludedFromLoadBalancers(node: unknown): boolean {
  const labels = (node as { metadata?: { labels?: unknown } | null } | null | undefined)?.metadata?.labels;
  return typeof labels === 'object' && labels !== null && Object.prototype.hasOwnProperty.call(labels, EXCLUDE_LB_LABEL);
}

/** One node's exclusion changed: `excluded` true = it got the label, false = lost it or went away. */
export type ExclusionListener = (node: string, excluded: boolean) => void;

/** The names of the Nodes that carry the label. */
export class NodeExclusions {
  private readonly names = new Set<string>();
  private readonly listeners = new Set<ExclusionListener>();

  /** Node names with the label now. */
  excluded(): ReadonlySet<string> {
    return this.names;
  }

  /** Calls `listener(node, excluded)` after every change; returns the unsubscribe function. */
  onChange(listener: ExclusionListener): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /** Node added or updated (objects without a name are ignored). */
  setNode(node: unknown): void {
    const name = nameOf(node);
    if (name !== undefined) this.set(name, excludedFromLoadBalancers(node));
  }

  /** Node deleted: no longer excluded (a Node that comes back is read afresh). */
  deleteNode(node: unknown): void {
    const name = nameOf(node);
    if (name !== undefined) this.set(name, false);
  }

  private set(name: string, excluded: boolean): void {
    if (this.names.has(name) === excluded) return;
    if (excluded) this.names.add(name); else this.names.delete(name);
    for (const listener of [...this.listeners]) listener(name, excluded);
  }
}
