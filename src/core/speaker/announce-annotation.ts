/**
 * The Service's "who announces it, now" carrier (issue 13 §1; design: docs/design/announce-annotations.md), pure.
 *
 * Each speaker owns exactly one annotation on a LoadBalancer Service: `announce.metallb.universe.tf/<node>`, whose
 * value says what that node does for the Service now:
 * - `announcing layer2 on eth0` (the interfaces whose subnet holds the IP; `announcing layer2` when none does:
 *   v0.11 answers on every interface anyway); `announcing bgp to 192.0.2.1:179,[2001:db8::1]:179` (the peers
 *   this node has BGP sessions with, which receive the route);
 * - `not announcing: <reason>` for a reason that holds for the Service as a whole, so `kubectl describe svc`
 *   says why nobody announces it: `noEndpoints`, `noEligibleNode`, `noPool`, `staleConfig`, `noConfig`,
 *   `invalidIP`, `protocolNotImplemented`;
 * - no annotation when the node simply is not the layer-2 owner (another node's annotation names the owner), or
 *   the Service is not a LoadBalancer with an IP (nothing to explain).
 * The value never holds a timestamp or a counter: a restarted speaker recomputes the same text and writes nothing.
 *
 * A speaker writes only its own key, and removes the keys of nodes the membership no longer sees alive (their
 * speakers cannot), but only when it is the alive set's first node by name, so one speaker does it, not all. With
 * gossip each speaker's alive set is its own view; a view that is not a quorum of the Kubernetes liveness writes
 * nothing (hasQuorum), so a split brain's sides cannot remove each other's keys back and forth.
 */
import type { Protocol } from '../config/types.js';
import { cidrContains, parseCidr, parseIp } from '../ip/index.js';

/** Prefix of the per-node keys (a DNS subdomain of MetalLB's own `metallb.universe.tf`). */
export const ANNOUNCE_ANNOTATION_PREFIX = 'announce.metallb.universe.tf/';

/** Why a Service is not announced, as far as one speaker can tell for the Service as a whole. */
export type NotAnnouncedReason =
  | 'noEndpoints' | 'noEligibleNode' | 'noPool' | 'staleConfig' | 'noConfig' | 'invalidIP' | 'protocolNotImplemented';

export const NOT_ANNOUNCED_REASONS: readonly NotAnnouncedReason[] = [
  'noEndpoints', 'noEligibleNode', 'noPool', 'staleConfig', 'noConfig', 'invalidIP', 'protocolNotImplemented',
];

/** One node's entry. `interfaces` sorted. */
export type NodeAnnouncement =
  | {
    readonly kind: 'announcing'; readonly protocol: Protocol; readonly interfaces: readonly string[];
    /** BGP: the peers (`192.0.2.1:179`, `[2001:db8::1]:179`, sorted) this node has sessions with for the route. */
    readonly peers?: readonly string[];
  }
  | { readonly kind: 'notAnnouncing'; readonly reason: NotAnnouncedReason };

/** Annotation name part: at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends. */
const NAME_PART = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

/**
 * The key for `node`. Node names are DNS subdomains (≤ 253 characters); one that is not a valid annotation name
 * part (longer than 63) is cut to 54 characters plus `-` and 8 hex digits of its FNV-1a hash, so it stays unique.
 */
export function announceAnnotationKey(node: string): string {
  if (NAME_PART.test(node)) return ANNOUNCE_ANNOTATION_PREFIX + node;
  const head = node.slice(0, 54).replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, 'n');
  return `${ANNOUNCE_ANNOTATION_PREFIX}${head}-${fnv1a32(node).toString(16).padStart(8, '0')}`;
}

/** The annotation value for an entry. */
export function formatAnnouncement(a: NodeAnnouncement): string {
  if (a.kind === 'notAnnouncing') return `not announcing: ${a.reason}`;
  const to = a.peers !== undefined && a.peers.length > 0 ? ` to ${a.peers.join(',')}` : '';
  const on = a.interfaces.length > 0 ? ` on ${a.interfaces.join(',')}` : '';
  return `announcing ${a.protocol}${to}${on}`;
}

/** Parses a value written by formatAnnouncement; undefined for anything else (a hand-edited annotation). */
export function parseAnnouncement(text: string): NodeAnnouncement | undefined {
  const announcing = /^announcing (layer2|bgp)(?: to ([^\s,]+(?:,[^\s,]+)*))?(?: on ([^\s,]+(?:,[^\s,]+)*))?$/.exec(text);
  if (announcing) {
    return {
      kind: 'announcing', protocol: announcing[1] as Protocol, interfaces: announcing[3] ? announcing[3].split(',') : [],
      ...(announcing[2] ? { peers: announcing[2].split(',') } : {}),
    };
  }
  const not = /^not announcing: (\w+)$/.exec(text);
  if (not && (NOT_ANNOUNCED_REASONS as readonly string[]).includes(not[1]!)) return { kind: 'notAnnouncing', reason: not[1] as NotAnnouncedReason };
  return undefined;
}

/** The per-node entries found on a Service: key → parsed entry (unparsable values kept as `undefined`). */
export function announcementsOn(annotations: Readonly<Record<string, string>> | undefined | null): Map<string, NodeAnnouncement | undefined> {
  const out = new Map<string, NodeAnnouncement | undefined>();
  for (const [key, value] of Object.entries(annotations ?? {})) {
    if (key.startsWith(ANNOUNCE_ANNOTATION_PREFIX)) out.set(key, parseAnnouncement(value));
  }
  return out;
}

/** A JSON merge patch of `metadata.annotations`: a value sets the key, null removes it. */
export type AnnotationPatch = Readonly<Record<string, string | null>>;

/**
 * What this speaker writes on one Service so its annotations say `mine` (undefined = no entry for this node), and,
 * when this node is the janitor (first alive node by name), that no node outside `alive` has an entry.
 * Returns undefined when the Service already says exactly that: nothing to write (a restart writes only what
 * changed), and when this speaker's view lacks quorum (below). `current` is the Service's annotations as cached.
 */
export function announcementPatch(input: {
  readonly current: Readonly<Record<string, string>> | undefined | null;
  readonly myNode: string;
  readonly mine: NodeAnnouncement | undefined;
  /** The speakers alive as this speaker's membership sees them (with gossip: gossip ∩ Kubernetes). */
  readonly alive: ReadonlySet<string>;
  /**
   * With gossip: the speakers Kubernetes has alive (Node Ready, speaker Pod Running and Ready), the same for every
   * speaker. A speaker whose `alive` is not a quorum of it (hasQuorum) writes nothing: in a split brain only the
   * majority side removes the other's keys, and the minority does not write them back, so no key flaps. Absent
   * (gossip off): `alive` is already the view every speaker shares.
   */
  readonly kubernetes?: ReadonlySet<string>;
}): AnnotationPatch | undefined {
  if (input.kubernetes !== undefined && !hasQuorum(input.alive, input.kubernetes)) return undefined;
  const current = input.current ?? {};
  const patch: Record<string, string | null> = {};
  const myKey = announceAnnotationKey(input.myNode);
  const want = input.mine === undefined ? undefined : formatAnnouncement(input.mine);
  const have = Object.hasOwn(current, myKey) ? current[myKey] : undefined;
  if (want !== have) patch[myKey] = want ?? null;
  if (isJanitor(input.myNode, input.alive)) {
    const aliveKeys = new Set([...input.alive].map(announceAnnotationKey));
    aliveKeys.add(myKey);
    for (const key of Object.keys(current)) {
      if (key.startsWith(ANNOUNCE_ANNOTATION_PREFIX) && !aliveKeys.has(key)) patch[key] = null;
    }
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/**
 * True when `view` (this speaker's alive set) holds a majority of `kubernetes` (the alive set every speaker
 * shares): more than half of its nodes, or exactly half including its first node by name (so of two halves exactly
 * one has quorum). Only the part of `view` inside `kubernetes` counts. An empty `kubernetes`: no quorum.
 */
export function hasQuorum(view: ReadonlySet<string>, kubernetes: ReadonlySet<string>): boolean {
  let inside = 0;
  let first: string | undefined;
  for (const node of kubernetes) {
    if (view.has(node)) inside += 1;
    if (first === undefined || node < first) first = node;
  }
  if (first === undefined) return false;
  return 2 * inside > kubernetes.size || (2 * inside === kubernetes.size && view.has(first));
}

/** The janitor is the alive set's first node by name (this node included even if membership misses it). */
export function isJanitor(myNode: string, alive: ReadonlySet<string>): boolean {
  for (const node of alive) if (node < myNode) return false;
  return true;
}

/** An interface's address as os.networkInterfaces() reports it. */
export interface InterfaceAddress { readonly cidr: string | null; readonly internal: boolean }

/**
 * The interfaces (sorted, distinct) with an address whose subnet holds one of `ips`: where the layer-2 answers for
 * them reach clients. Loopback (`internal`) is left out.
 */
export function interfacesHolding(ips: readonly string[], interfaces: Readonly<Record<string, readonly InterfaceAddress[] | undefined>>): string[] {
  const parsed = ips.map(parseIp).filter((ip) => ip !== undefined);
  const out: string[] = [];
  for (const [name, addrs] of Object.entries(interfaces)) {
    const holds = (addrs ?? []).some((a) => {
      if (a.internal || a.cidr === null) return false;
      const cidr = parseCidr(a.cidr);
      return cidr !== undefined && parsed.some((ip) => cidrContains(cidr, ip));
    });
    if (holds) out.push(name);
  }
  return out.sort();
}

/** FNV-1a, 32 bits, over the UTF-16 code units (enough to keep cut node names apart). */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
