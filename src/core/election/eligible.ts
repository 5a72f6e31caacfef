/**
 * Which nodes may own a layer-2 Service (spec §5.1, steps 1–2), from its endpoints and the
 * membership's alive set:
 * - no ready endpoint anywhere → none (v0.11: `notOwner` for every node);
 * - `externalTrafficPolicy: Local` → nodes hosting a ready endpoint that are alive;
 * - `Cluster` (anything but Local) → every alive node, endpoint or not.
 *
 * Deliberate difference (docs/compatibility.md, upstream #2005): v0.11 with memberlist disabled
 * has no speaker list and announces no Cluster Service; here "alive" always comes from the
 * membership (Kubernetes-backed until gossip lands), so Cluster Services are announced.
 */
import type { EndpointsView } from '../service/endpoints.js';

/** A Service's `spec.externalTrafficPolicy` as the speaker reads it. */
export type TrafficPolicy = 'Local' | 'Cluster';

/** `Local` only for exactly "Local"; unset, "Cluster" or anything else reads as Cluster (v0.11). */
export function trafficPolicyOf(value: unknown): TrafficPolicy {
  return value === 'Local' ? 'Local' : 'Cluster';
}

/** Eligible owner nodes, sorted and distinct (so the result never depends on input order). */
export function eligibleNodes(policy: TrafficPolicy, eps: EndpointsView, alive: ReadonlySet<string>): string[] {
  if (!eps.anyReady) return [];
  const candidates = policy === 'Local' ? [...eps.readyNodes].filter((n) => alive.has(n)) : [...alive];
  return [...new Set(candidates)].sort();
}
