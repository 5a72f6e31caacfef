/**
 * Make-before-break for layer 2 while the speaker runs (issue 11): when this node stops owning a Service's IPs
 * although it is still up — it left the eligible set (the exclude-from-external-load-balancers label with
 * `--exclude-lb`, its Local endpoints moved) or a node came back and takes its IPs again — every speaker sees the
 * same change at about the same time and the successor announces at once (gratuitous ARP / unsolicited NA). This
 * node hands the IPs to the confirmed handoff a SIGTERM'd speaker uses (src/speaker/confirmed-handoff.ts): it keeps
 * answering for each IP until the successor's announcement is seen, at most for `--ml-handoff-grace`, then stops;
 * its own gratuitous bursts for those IPs end at once.
 * The change itself (the Node label, the endpoints, the membership) is what tells the successor; nothing else is
 * sent. A Service announced again meanwhile is simply kept.
 *
 * It wraps the layer-2 announcer for the reconciler (setBalancer / deleteBalancer pass through, ending a pending
 * handoff of the name) and gives split brain (src/speaker/split-brain-watch.ts) the IPs it should watch: not the
 * ones being handed off (the successor answering for them is the point), and not the ones taken within the last
 * `graceMs + QUIET_MARGIN_MS` (the previous owner still answers for them until it sees our announcement; its
 * informer may see the change a little after ours). Times: ms of the injected clock. Never throws.
 */

/** How much longer than the grace a freshly taken IP is left alone by split brain, ms. */
export const QUIET_MARGIN_MS = 1000;

/** Monotonic ms (the adapters' Clock). */
export interface HandoffClock {
  now(): number;
}

/** The announcer calls this needs (src/adapters/layer2/announcer.ts). */
export interface HandoffAnnouncer {
  setBalancer(name: string, ips: readonly string[]): void;
  deleteBalancer(name: string): void;
  /** Ends the gratuitous bursts of these IPs (still answered). */
  silence(ips: readonly string[]): void;
  stats(): { readonly owned: readonly string[] };
}

/** The confirmed handoff (src/speaker/confirmed-handoff.ts): stops each IP at its successor's announcement or the grace. */
export interface HandoffConfirmer {
  /** Resolves once every one of `ips` is stopped (or cancelled). */
  handOff(ips: readonly string[]): Promise<unknown>;
  /** Ends the handoff of `ips` without stopping them. */
  cancel(ips: readonly string[]): void;
}

interface Pending {
  readonly ips: readonly string[];
  readonly done: () => void;
}

export class Layer2Handoff {
  private readonly announcer: HandoffAnnouncer;
  private readonly confirmer: HandoffConfirmer;
  private readonly clock: HandoffClock;
  private readonly graceMs: number;
  /** Names announced and not being handed off → their IPs. */
  private readonly active = new Map<string, readonly string[]>();
  private readonly pending = new Map<string, Pending>();
  /** When this node started answering for each IP it holds, ms. */
  private readonly takenAt = new Map<string, number>();
  private closed = false;

  constructor(o: { announcer: HandoffAnnouncer; confirmer: HandoffConfirmer; clock: HandoffClock; graceMs: number }) {
    this.announcer = o.announcer;
    this.confirmer = o.confirmer;
    this.clock = o.clock;
    this.graceMs = Math.max(0, o.graceMs);
  }

  /** Announces the name's IPs; a pending handoff of the name ends here (its `done` runs). */
  setBalancer(name: string, ips: readonly string[]): void {
    const now = this.clock.now();
    for (const ip of ips) if (!this.takenAt.has(ip)) this.takenAt.set(ip, now);
    this.settle(name);
    this.active.set(name, [...ips]);
    this.announcer.setBalancer(name, ips);
    this.forget();
  }

  /** Stops answering for the name's IPs at once. */
  deleteBalancer(name: string): void {
    this.settle(name);
    this.active.delete(name);
    this.announcer.deleteBalancer(name);
    this.forget();
  }

  /**
   * Keeps answering for the name's IPs until the successor announces each (at most the grace), then stops; `done`
   * runs after the stop, or when the name is announced or deleted again before. IPs another name here still
   * announces are not handed off (they stay, and the name merely lets go of them).
   */
  handOff(name: string, done: () => void): void {
    const ips = this.active.get(name) ?? [];
    this.settle(name);
    this.active.delete(name);
    const held = this.heldByActive();
    const leaving = ips.filter((ip) => !held.has(ip));
    if (leaving.length === 0) {
      this.announcer.deleteBalancer(name);
      this.forget();
      done();
      return;
    }
    // No more gratuitous bursts from us for them: the successor's are the last word (a burst of ours meanwhile would
    // pull clients back for a moment and reset connections in flight).
    this.announcer.silence(leaving);
    const entry: Pending = { ips: leaving, done };
    this.pending.set(name, entry);
    void this.confirmer.handOff(leaving).then(() => {
      if (this.closed || this.pending.get(name) !== entry) return;
      this.pending.delete(name);
      this.announcer.deleteBalancer(name); // what the confirmed stops left of the name (no-op when nothing)
      this.forget();
      done();
    });
  }

  /** Names whose IPs this node still answers for during a handoff. */
  handingOff(): string[] {
    return [...this.pending.keys()].sort();
  }

  /** The IPs split brain should probe and judge claims on (see the module note). */
  splitBrainOwned(): string[] {
    const held = this.heldByActive();
    const quietSince = this.clock.now() - (this.graceMs + QUIET_MARGIN_MS);
    return this.announcer.stats().owned.filter((ip) => held.has(ip) && (this.takenAt.get(ip) ?? -Infinity) <= quietSince);
  }

  /** Forgets the pending handoffs (the speaker is closing the announcer anyway); no `done` runs after this. */
  close(): void {
    this.closed = true;
    this.pending.clear();
  }

  private heldByActive(): Set<string> {
    const held = new Set<string>();
    for (const ips of this.active.values()) for (const ip of ips) held.add(ip);
    return held;
  }

  /** Ends a pending handoff of `name` early (announced or deleted again): its IPs are not stopped by it. */
  private settle(name: string): void {
    const p = this.pending.get(name);
    if (p === undefined) return;
    this.pending.delete(name);
    this.confirmer.cancel(p.ips);
    p.done();
  }

  /** Drops the start times of IPs no name holds any more. */
  private forget(): void {
    const held = this.heldByActive();
    for (const p of this.pending.values()) for (const ip of p.ips) held.add(ip);
    for (const ip of [...this.takenAt.keys()]) if (!held.has(ip)) this.takenAt.delete(ip);
  }
}
