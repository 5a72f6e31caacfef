/**
 * The speakers alive as each speaker's membership sees them, published through the API (issue 13 §2: `metallb-ts
 * status` reads only the Kubernetes API, and the speakers' metrics ports are not reachable from where users run
 * it). Each speaker writes one annotation on its own Pod, `memberlist.metallb.universe.tf/alive`, whose value is
 * the sorted, comma-separated node names its election uses now (gossip ∩ Kubernetes). Written only when it
 * changes; no timestamp, so nothing is written at rest. Pure.
 */

/** The annotation on each speaker Pod. */
export const MEMBERS_ANNOTATION = 'memberlist.metallb.universe.tf/alive';

/** The value for an alive set: node names sorted and comma-separated (empty string for none). */
export function formatMembers(alive: Iterable<string>): string {
  return [...new Set(alive)].sort().join(',');
}

/** Node names from a value written by formatMembers; undefined when absent. */
export function parseMembers(text: string | undefined | null): string[] | undefined {
  if (typeof text !== 'string') return undefined;
  return text === '' ? [] : text.split(',').filter((n) => n !== '');
}

/** The merge patch of the Pod's annotations that publishes `alive`, or undefined when the Pod already says it. */
export function membersPatch(current: Readonly<Record<string, string>> | undefined | null, alive: Iterable<string>): Record<string, string> | undefined {
  const want = formatMembers(alive);
  return current?.[MEMBERS_ANNOTATION] === want ? undefined : { [MEMBERS_ANNOTATION]: want };
}

/** One speaker as the others' published views see it. */
export interface SpeakerView {
  readonly node: string;
  /** Alive by Kubernetes (Node Ready, speaker Pod Running and Ready). */
  readonly kubernetes: boolean;
  /** Alive speakers (by Kubernetes) other than this one that published a view, and how many of them see it alive. */
  readonly reporters: number;
  readonly seenBy: number;
  /** What this speaker's own published view holds (undefined: it published none, e.g. gossip off). */
  readonly sees: readonly string[] | undefined;
  /** Alive as membership sees it: alive by Kubernetes and, when other speakers publish views, in most of them. */
  readonly alive: boolean;
}

/**
 * Combines the Kubernetes liveness with each speaker's published view. A speaker Kubernetes has alive but that
 * most other reporting speakers do not see (a SIGKILLed process whose Pod still looks Ready, a partitioned node)
 * is not alive; with no other view published, Kubernetes decides. `views`: node → its published alive set.
 */
export function speakerViews(nodes: readonly string[], kubernetes: ReadonlySet<string>, views: ReadonlyMap<string, readonly string[]>): SpeakerView[] {
  return [...new Set(nodes)].sort().map((node) => {
    let reporters = 0;
    let seenBy = 0;
    for (const [other, view] of views) {
      if (other === node || !kubernetes.has(other)) continue;
      reporters += 1;
      if (view.includes(node)) seenBy += 1;
    }
    const k = kubernetes.has(node);
    return { node, kubernetes: k, reporters, seenBy, sees: views.get(node), alive: k && (reporters === 0 || 2 * seenBy > reporters) };
  });
}
