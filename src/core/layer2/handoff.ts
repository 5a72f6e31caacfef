/**
 * Confirmed make-before-break handoff of layer-2 IPs (issue 11), as a pure state machine. A node handing IPs off
 * (SIGTERM: it told the others it leaves; or it left the eligible set) keeps answering ARP/NDP for each IP until
 * its successor has announced it, and then stops answering for that IP. The confirmation needs no protocol of its
 * own: the successor sends gratuitous ARP / unsolicited Neighbor Advertisements at once on taking an IP, and the
 * handing-off node still captures ARP/NDP for the IPs it answers for (src/core/layer2/conflict.ts reads such a
 * frame from another MAC as a claim). A claim confirms when its MAC is in the gossip metadata of a speaker other
 * than this one (src/core/speaker/node-meta.ts); a MAC no speaker carries (a host that is not a speaker, a speaker
 * without metadata) does not. The grace is the upper bound: an IP not confirmed `graceMs` after its handoff began
 * is stopped anyway (a dead or slow successor, or none), as the fixed grace did before.
 *
 * Times: milliseconds of any monotonic clock, passed in. No I/O; never throws.
 */

export type HandoffResult = 'confirmed' | 'timeout';

/** Stop answering for `ip` now. `afterMs`: since its handoff began; `mac`/`node`: the confirming claim. */
export interface HandoffStop {
  readonly ip: string;
  readonly result: HandoffResult;
  readonly afterMs: number;
  readonly mac?: string;
  readonly node?: string;
}

interface Pending {
  readonly since: number;
  readonly deadline: number;
}

export class HandoffConfirmations {
  private readonly myNode: string;
  private readonly pendingIps = new Map<string, Pending>();

  /** `myNode`: this node's name (a claim carrying our own name never confirms). */
  constructor(myNode: string) {
    this.myNode = myNode;
  }

  /**
   * Hands `ips` off from `now`: each is stopped at its confirmation or at `now + graceMs`. An IP already pending
   * keeps its start. A grace ≤ 0 times them out at once (returned).
   */
  begin(now: number, ips: readonly string[], graceMs: number): HandoffStop[] {
    for (const ip of ips) if (!this.pendingIps.has(ip)) this.pendingIps.set(ip, { since: now, deadline: now + Math.max(0, graceMs) });
    return this.due(now);
  }

  /** Ends the handoff of `ips` without a stop (they are announced again, or the caller stops them itself). */
  cancel(ips: readonly string[]): void {
    for (const ip of ips) this.pendingIps.delete(ip);
  }

  /**
   * Another MAC announced or answered for `ip`; `node` is the speaker whose gossip metadata carries the MAC
   * (undefined: none does). Returns the stop when it confirms a pending IP.
   */
  claim(now: number, ip: string, mac: string, node: string | undefined): HandoffStop | undefined {
    const p = this.pendingIps.get(ip);
    if (p === undefined || node === undefined || node === this.myNode) return undefined;
    this.pendingIps.delete(ip);
    return { ip, result: 'confirmed', afterMs: Math.max(0, now - p.since), mac, node };
  }

  /** The IPs whose grace is over at `now` (sorted), removed from the pending set. */
  due(now: number): HandoffStop[] {
    const out: HandoffStop[] = [];
    for (const [ip, p] of this.pendingIps) {
      if (now < p.deadline) continue;
      this.pendingIps.delete(ip);
      out.push({ ip, result: 'timeout', afterMs: now - p.since });
    }
    return out.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  }

  /** Ms from `now` to the earliest deadline (0 when one is due), undefined when nothing is pending. */
  nextDueMs(now: number): number | undefined {
    let min: number | undefined;
    for (const p of this.pendingIps.values()) min = Math.min(min ?? Infinity, p.deadline);
    return min === undefined ? undefined : Math.max(0, min - now);
  }

  /** The IPs still answered for while waiting (sorted). */
  pending(): string[] {
    return [...this.pendingIps.keys()].sort();
  }
}
