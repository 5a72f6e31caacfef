/**
 * The speaker's membership when gossip runs (issue 11): a node counts as a live speaker while the SWIM detector
 * on port 7946 has it alive or suspect AND Kubernetes has it alive (Node Ready, its speaker Pod Running and Ready,
 * neither being deleted; src/core/speaker/kube-membership.ts).
 *
 * Why both: gossip sees a dead process, a cut link, a frozen speaker or a partition within half a second, long
 * before the Node or Pod status changes (40 s node-monitor grace); Kubernetes sees what gossip cannot — a Pod being
 * deleted or a Node drained or marked NotReady while its speaker still answers probes — and a speaker that never
 * ran (no Pod). v0.11 asks memberlist alone (spec §5.1, §12 #14); we keep issue 9's Kubernetes rule on top, so
 * adding gossip only ever makes a dead node leave the election sooner.
 *
 * Pure: it holds the two sources, answers the intersection, and notifies its listeners synchronously, only when
 * the intersection changed (a node that gossip drops while Kubernetes still has it notifies once).
 */
import type { Membership } from './membership.js';

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** alive() = gossip.alive() ∩ kubernetes.alive(). */
export class CombinedMembership implements Membership {
  private readonly listeners = new Set<() => void>();
  private current: ReadonlySet<string>;
  private readonly gossip: Membership;
  private readonly kubernetes: Membership;

  constructor(gossip: Membership, kubernetes: Membership) {
    this.gossip = gossip;
    this.kubernetes = kubernetes;
    this.current = this.compute();
    gossip.onChange(() => this.recompute());
    kubernetes.onChange(() => this.recompute());
  }

  alive(): ReadonlySet<string> {
    return this.current;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /** Nodes Kubernetes has alive that gossip does not (yet): the ones to join, or the ones it found dead. */
  missingFromGossip(): string[] {
    const gossip = this.gossip.alive();
    return [...this.kubernetes.alive()].filter((n) => !gossip.has(n)).sort();
  }

  private compute(): ReadonlySet<string> {
    const kube = this.kubernetes.alive();
    return new Set([...this.gossip.alive()].filter((n) => kube.has(n)));
  }

  private recompute(): void {
    const next = this.compute();
    if (sameSet(next, this.current)) return;
    this.current = next;
    for (const listener of [...this.listeners]) listener();
  }
}
