/**
 * The Kubernetes-backed Membership (spec §5.1 "usable speakers", issue 9): holds the Nodes and
 * speaker Pods an informer delivers and answers `alive()` with `aliveFromKubernetes`. Pure state:
 * the adapter feeds it events; listeners run synchronously, and only when the alive set changed
 * (a Pod's status churn that does not flip readiness notifies nobody, so it triggers no resync).
 */
import { aliveFromKubernetes, type Membership } from './membership.js';

function keyOf(obj: unknown): string | undefined {
  if (typeof obj !== 'object' || obj === null) return undefined;
  const meta = (obj as { metadata?: { namespace?: unknown; name?: unknown } | null }).metadata;
  if (typeof meta !== 'object' || meta === null || typeof meta.name !== 'string' || meta.name === '') return undefined;
  return `${typeof meta.namespace === 'string' ? meta.namespace : ''}/${meta.name}`;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** Membership from Node and speaker Pod objects (raw JSON or typed client objects). */
export class KubernetesMembership implements Membership {
  private readonly nodes = new Map<string, unknown>();
  private readonly pods = new Map<string, unknown>();
  private readonly listeners = new Set<() => void>();
  private current: ReadonlySet<string> = new Set();
  private readonly labelSelector: string | undefined;

  /** `labelSelector`: `--ml-labels`, applied to the Pods again (the list already uses it). */
  constructor(labelSelector?: string) {
    this.labelSelector = labelSelector;
  }

  alive(): ReadonlySet<string> {
    return this.current;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Node added or updated; objects without a name are ignored. */
  setNode(node: unknown): void {
    const key = keyOf(node);
    if (key === undefined) return;
    this.nodes.set(key, node);
    this.recompute();
  }

  /** Node deleted (the object as last seen, or anything with its metadata.name). */
  deleteNode(node: unknown): void {
    const key = keyOf(node);
    if (key !== undefined && this.nodes.delete(key)) this.recompute();
  }

  /** Speaker Pod added or updated. */
  setPod(pod: unknown): void {
    const key = keyOf(pod);
    if (key === undefined) return;
    this.pods.set(key, pod);
    this.recompute();
  }

  /** Speaker Pod deleted. */
  deletePod(pod: unknown): void {
    const key = keyOf(pod);
    if (key !== undefined && this.pods.delete(key)) this.recompute();
  }

  /** Replaces everything (after a relist). */
  replace(nodes: readonly unknown[], pods: readonly unknown[]): void {
    this.nodes.clear();
    this.pods.clear();
    for (const n of nodes) {
      const key = keyOf(n);
      if (key !== undefined) this.nodes.set(key, n);
    }
    for (const p of pods) {
      const key = keyOf(p);
      if (key !== undefined) this.pods.set(key, p);
    }
    this.recompute();
  }

  private recompute(): void {
    const next = aliveFromKubernetes([...this.nodes.values()], [...this.pods.values()], this.labelSelector);
    if (sameSet(next, this.current)) return;
    this.current = next;
    for (const listener of [...this.listeners]) listener();
  }
}
