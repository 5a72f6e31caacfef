/**
 * The minority rule (issue 11): a layer-2 speaker that sees fewer than a majority of the speakers it knows stops
 * claiming IPs it did not already own, so an isolated node (its link cut, its 7946 blocked) does not take every
 * IP and fight the majority for them when it comes back.
 *
 * Known speakers: the ones Kubernetes lists as live (Node Ready, speaker Pod Running and Ready; a Node with the
 * out-of-service taint is not), minus the ones that left the gossip gracefully, plus this node. Kubernetes is the
 * memory of "the members it last knew": a partition does not change it, and it forgets a node that is really gone
 * (Node NotReady after the node-monitor grace, Pod deleted, out-of-service taint).
 *
 * Quorum: more than half of the known speakers alive (gossip ∩ Kubernetes, this node included); at exactly half,
 * the half that holds the smallest known name (a deterministic tie-break: at most one half of an even split claims).
 *
 * Two nodes: the node with the smaller name keeps quorum alone; the other, alone, does not. So when the smaller one
 * dies without leaving (SIGKILL, power, cable), the other takes its IPs only once Kubernetes stops listing it (the
 * speaker Pod not Ready, the Node NotReady, or the out-of-service taint); a graceful stop (it leaves the gossip)
 * still hands over at once. That is the price of never answering from both sides of a 2-node partition.
 * Pure.
 */

export interface QuorumInput {
  readonly me: string;
  /** Speakers alive for the election (gossip ∩ Kubernetes). */
  readonly alive: ReadonlySet<string>;
  /** Speakers Kubernetes lists as live. */
  readonly kubernetes: ReadonlySet<string>;
  /** Speakers that left the gossip gracefully (shown `left`). */
  readonly left: ReadonlySet<string>;
}

export interface Quorum {
  readonly quorum: boolean;
  readonly alive: number;
  readonly known: number;
}

export function quorumOf(i: QuorumInput): Quorum {
  const known = new Set([...i.kubernetes].filter((n) => !i.left.has(n)));
  known.add(i.me);
  let alive = 0;
  for (const n of known) if (n === i.me || i.alive.has(n)) alive++;
  const smallest = [...known].sort()[0]!;
  const holdsSmallest = smallest === i.me || i.alive.has(smallest);
  const quorum = 2 * alive > known.size || (2 * alive === known.size && holdsSmallest);
  return { quorum, alive, known: known.size };
}
