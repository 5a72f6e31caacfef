/**
 * Split-brain detection for layer 2 (issue 11), as a pure state machine: every `probeIntervalMs` the owner probes
 * each IP it owns (ARP Probe / Neighbor Solicitation, src/core/layer2/conflict.ts); an answer or a gratuitous
 * announcement from another MAC is a claim. A claim opens a conflict (ip, MAC): Warning Event and metric, once.
 * A conflict closes when no claim was seen for `clearAfterMs` (three probe rounds by default).
 *
 * Re-announcing (a gratuitous burst) is what wins the clients back, and what two owners must not do in turn (a
 * GARP war). Each node decides alone, deterministically, and at most once per backoff window per IP (the window
 * doubles from `backoffMinMs` to `backoffMaxMs` while the conflict lasts):
 * - without quorum (src/core/speaker/quorum.ts), never: the majority side elected the owner it should have;
 * - when the other node is alive in our gossip (no partition between us: a stale announcement, views that differ
 *   for a moment), only the hashring's owner of the IP between the two (the one a shared view would pick);
 * - otherwise (a partition, or a MAC no speaker carries): yes. Of the two sides of a partition only one has quorum.
 * The "loser" keeps answering requests (it may still be the right owner for clients it alone reaches); it only
 * does not re-announce.
 * Times are milliseconds of any monotonic clock, passed in. No I/O.
 */
import { electOwner } from '../election/owner.js';

export interface SplitBrainTiming {
  /** How often each owned IP is probed. */
  readonly probeIntervalMs: number;
  /** A conflict with no claim for this long is over. */
  readonly clearAfterMs: number;
  /** First re-announce window; doubles while the conflict lasts. */
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  /** IPs probed per round at most (rotating through the owned set): bounds the frames per round on a busy node. */
  readonly maxProbesPerRound: number;
}

export const DEFAULT_SPLIT_BRAIN_TIMING: SplitBrainTiming = {
  probeIntervalMs: 3000, clearAfterMs: 10_000, backoffMinMs: 5000, backoffMaxMs: 300_000, maxProbesPerRound: 256,
};

/** What this node knows when a claim arrives. */
export interface ClaimContext {
  readonly myNode: string;
  /** The node whose gossip metadata carries the MAC; undefined when none does. */
  readonly otherNode: string | undefined;
  /** True when `otherNode` is alive in our membership. */
  readonly otherAlive: boolean;
  /** The minority rule's verdict for this node. */
  readonly quorum: boolean;
}

export type SplitBrainAction =
  /** Send the probe frames for these IPs. */
  | { readonly kind: 'probe'; readonly ips: readonly string[] }
  /** A conflict opened: Warning Event on the IP's Services naming both nodes, metric to 1. */
  | { readonly kind: 'detected'; readonly ip: string; readonly mac: string; readonly otherNode: string | undefined; readonly reannounce: boolean }
  /** Send one gratuitous burst for the IP now. */
  | { readonly kind: 'reannounce'; readonly ip: string; readonly mac: string; readonly nextInMs: number }
  /** A conflict closed (no claim for clearAfterMs, or we no longer own the IP): metric back to 0. */
  | { readonly kind: 'cleared'; readonly ip: string; readonly mac: string; readonly otherNode: string | undefined };

interface Conflict {
  readonly ip: string;
  readonly mac: string;
  readonly otherNode: string | undefined;
  readonly since: number;
  lastSeen: number;
  /** Earliest time of the next re-announce; undefined before the first. */
  nextAllowed: number | undefined;
  backoffMs: number;
}

/** Whether this node re-announces in a conflict (see the module note). */
export function shouldReannounce(ip: string, ctx: ClaimContext): boolean {
  if (!ctx.quorum) return false;
  if (ctx.otherNode !== undefined && ctx.otherAlive && ctx.otherNode !== ctx.myNode) return electOwner(ip, [ctx.myNode, ctx.otherNode]) === ctx.myNode;
  return true;
}

export class SplitBrainDetector {
  private readonly timing: SplitBrainTiming;
  private readonly conflicts = new Map<string, Conflict>();
  private cursor = 0;

  constructor(timing: SplitBrainTiming = DEFAULT_SPLIT_BRAIN_TIMING) {
    this.timing = timing;
  }

  /**
   * Called every probeIntervalMs with the IPs this node owns now: probes them (at most maxProbesPerRound, the next
   * ones in sorted order each round), closes stale conflicts.
   */
  tick(now: number, owned: readonly string[]): SplitBrainAction[] {
    const own = new Set(owned);
    const actions: SplitBrainAction[] = [];
    for (const [key, c] of this.conflicts) {
      if (own.has(c.ip) && now - c.lastSeen < this.timing.clearAfterMs) continue;
      this.conflicts.delete(key);
      actions.push({ kind: 'cleared', ip: c.ip, mac: c.mac, otherNode: c.otherNode });
    }
    if (owned.length === 0) return actions;
    const sorted = [...owned].sort();
    const n = Math.min(sorted.length, this.timing.maxProbesPerRound);
    const start = this.cursor % sorted.length;
    const ips = Array.from({ length: n }, (_, i) => sorted[(start + i) % sorted.length]!);
    this.cursor = (start + n) % sorted.length;
    actions.push({ kind: 'probe', ips: n === sorted.length ? sorted : ips });
    return actions;
  }

  /** Another MAC claims `ip`, which this node owns (`owned` false: ignored, the claim is not ours to judge). */
  claim(now: number, ip: string, mac: string, owned: boolean, ctx: ClaimContext): SplitBrainAction[] {
    if (!owned) return [];
    const key = `${ip} ${mac}`;
    let c = this.conflicts.get(key);
    const actions: SplitBrainAction[] = [];
    const reannounce = shouldReannounce(ip, ctx);
    if (c === undefined) {
      c = { ip, mac, otherNode: ctx.otherNode, since: now, lastSeen: now, nextAllowed: undefined, backoffMs: this.timing.backoffMinMs };
      this.conflicts.set(key, c);
      actions.push({ kind: 'detected', ip, mac, otherNode: ctx.otherNode, reannounce });
    }
    c.lastSeen = now;
    if (!reannounce || (c.nextAllowed !== undefined && now < c.nextAllowed)) return actions;
    // One burst per window for the IP, whichever MAC (several conflicting MACs do not multiply the bursts).
    for (const other of this.conflicts.values()) {
      if (other !== c && other.ip === ip && other.nextAllowed !== undefined && now < other.nextAllowed) return actions;
    }
    c.nextAllowed = now + c.backoffMs;
    actions.push({ kind: 'reannounce', ip, mac, nextInMs: c.backoffMs });
    c.backoffMs = Math.min(c.backoffMs * 2, this.timing.backoffMaxMs);
    return actions;
  }

  /** Open conflicts, for metrics and logs. */
  open(): Array<{ ip: string; mac: string; otherNode: string | undefined; since: number }> {
    return [...this.conflicts.values()].map(({ ip, mac, otherNode, since }) => ({ ip, mac, otherNode, since }));
  }
}
