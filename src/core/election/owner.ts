/**
 * Layer-2 owner election (spec §5.1 step 3, replaced): consistent hashing with npm `hashring`
 * (ketama, md5) over the eligible nodes, keyed by the Service's IP in canonical text form (the
 * FIRST ingress IP for dual-stack, so every Service sharing an IP elects the same node).
 *
 * MetalLB v0.11 sorts candidates by sha256(node + "#" + ip) instead; that order is not kept
 * (documented deviation). What is kept and tested: every speaker with the same view picks the
 * same owner whatever the input order (nodes are de-duplicated and sorted before the ring is
 * built: hashring breaks ties between equal points by insertion order), and removing a node
 * moves only the IPs it owned.
 *
 * `RING_VNODES` virtual nodes per node (× 4 ketama points): with hashring's default 40, 20 of
 * 300 random 3-node sets own an arc more than 15% off an even third; at 256 none does (worst
 * 7.5%, see bench/election.ts). Each node gets exactly RING_VNODES (hashring's own split,
 * floor(1/n × vnodes × n), gives 255 for some n, e.g. 49), so a node's points never depend on
 * which other nodes share the ring.
 *
 * That independence is what makes the `universe` form cheap: the owner among `nodes` is the
 * first point clockwise from the IP whose node is in `nodes`, on ANY ring whose node set
 * contains them. So one ring over the alive speakers serves every Service, Cluster (all alive)
 * and Local (its endpoint nodes) alike, instead of one ring per endpoint-node set.
 */
import HashRing from 'hashring';

/** Virtual nodes per node on the ring. */
export const RING_VNODES = 256;
/**
 * Most node sets whose rings are kept. With a `universe` one ring (the alive set) serves every
 * Service, so a few suffice; a ring of 100 nodes holds 102,400 points (about 4 MB).
 */
export const RING_CACHE_SIZE = 8;

const rings = new Map<string, HashRing>();

/** The ring for a sorted, distinct node list; built once per set, least recently used evicted. */
function ringFor(sorted: readonly string[]): HashRing {
  const key = sorted.join('\n');
  const cached = rings.get(key);
  if (cached !== undefined) {
    // Map keeps insertion order: re-inserting marks it most recently used.
    rings.delete(key);
    rings.set(key, cached);
    return cached;
  }
  const servers: Record<string, { vnodes: number }> = {};
  for (const node of sorted) servers[node] = { vnodes: RING_VNODES };
  // A per-server vnode count different from the ring default is taken as is (see file comment).
  // hashring caches key lookups per ring (default 5000): 1024 bounds memory per ring.
  const ring = new HashRing(servers, 'md5', { 'vnode count': 1, 'max cache size': 1024 });
  rings.set(key, ring);
  if (rings.size > RING_CACHE_SIZE) rings.delete(rings.keys().next().value!);
  return ring;
}

/** Sorted, distinct, non-empty node names: the canonical form of a node set. */
export function canonicalNodes(nodes: Iterable<string>): string[] {
  return [...new Set([...nodes].filter((n) => typeof n === 'string' && n !== ''))].sort();
}

/**
 * The node that announces `ip` among `nodes` (any order, duplicates allowed); undefined when
 * there is no node. `ip` should be canonical (`formatIp`) so every speaker hashes the same text.
 *
 * `universe` (optional, e.g. every alive speaker) only changes the cost, never the answer: the
 * ring is built over `universe ∪ nodes` and cached, so Services whose candidate sets differ
 * (Local policy) share one ring.
 */
export function electOwner(ip: string, nodes: readonly string[], universe?: Iterable<string>): string | undefined {
  const sorted = canonicalNodes(nodes);
  if (sorted.length === 0) return undefined;
  if (sorted.length === 1) return sorted[0];
  const all = universe === undefined ? sorted : canonicalNodes([...universe, ...sorted]);
  const ring = ringFor(all);
  if (all.length === sorted.length) return ring.get(ip);
  const wanted = new Set(sorted);
  const points = ring.ring;
  const start = ring.find(ring.hashValue(ip));
  for (let i = 0; i < points.length; i++) {
    const server = points[(start + i) % points.length]!.server;
    if (wanted.has(server)) return server;
  }
  return undefined;
}

/** Drops every cached ring (tests and benches measuring cold cost). */
export function clearRingCache(): void {
  rings.clear();
}
