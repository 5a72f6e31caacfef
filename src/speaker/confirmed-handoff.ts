/**
 * Confirmed make-before-break handoff, carried out (issue 11): drives the pure HandoffConfirmations
 * (src/core/layer2/handoff.ts) with the layer-2 announcer's claims (another MAC's gratuitous ARP / unsolicited NA
 * or answer for an IP we still answer for) and a timer for the grace, and stops answering for each IP at its
 * confirmation or at the grace (`--ml-handoff-grace`, the upper bound). Per IP: one log line
 * `{op: "handoff", ip, result: "confirmed"|"timeout", afterMs, node, mac}` and the counter
 * `metallb_speaker_layer2_handoff_total{result}`. Composition only: every decision is the core's.
 */
import { Counter, type Registry } from 'prom-client';
import type { Claim } from '../core/layer2/conflict.js';
import { HandoffConfirmations, type HandoffStop } from '../core/layer2/handoff.js';
import type { Logger } from '../core/ports.js';

export interface ConfirmedHandoffPorts {
  readonly myNode: string;
  /** Monotonic ms and a cancellable one-shot timer (the adapters' Clock). */
  readonly clock: { now(): number; setTimer(ms: number, fn: () => void): () => void };
  /** Upper bound of one IP's handoff, ms. */
  readonly graceMs: number;
  /** The layer-2 announcer's claim feed; returns the unsubscribe. */
  readonly onClaim: (listener: (claim: Claim) => void) => () => void;
  /** The speaker whose gossip metadata carries the MAC (src/core/speaker/node-meta.ts). */
  readonly nodeByMac: (mac: string) => string | undefined;
  /** Stop answering for `ip` (the announcer's withdraw). */
  readonly stop: (ip: string) => void;
  readonly registry: Registry;
  readonly logger: Logger;
}

interface Waiter {
  readonly left: Set<string>;
  readonly stops: HandoffStop[];
  readonly resolve: (stops: HandoffStop[]) => void;
}

export class ConfirmedHandoff {
  private readonly p: ConfirmedHandoffPorts;
  private readonly core: HandoffConfirmations;
  private readonly total: Counter<'result'>;
  private readonly offClaim: () => void;
  private readonly waiters = new Set<Waiter>();
  private cancelTimer: (() => void) | undefined;

  constructor(p: ConfirmedHandoffPorts) {
    this.p = p;
    this.core = new HandoffConfirmations(p.myNode);
    this.total = new Counter({
      name: 'metallb_speaker_layer2_handoff_total',
      help: 'Layer-2 IPs this speaker handed off (make-before-break) and stopped answering for, by result: confirmed (the successor announced it) or timeout (the handoff grace passed first).',
      labelNames: ['result'] as const, registers: [p.registry],
    });
    for (const result of ['confirmed', 'timeout'] as const) this.total.inc({ result }, 0);
    this.offClaim = p.onClaim((c) => this.carryOut([this.core.claim(p.clock.now(), c.ip, c.mac, p.nodeByMac(c.mac))]));
  }

  /**
   * Hands `ips` off now: keeps answering for each until its successor announces it or the grace passes, then stops.
   * Resolves with the stops of these IPs once all are stopped (an IP already being handed off counts from its start).
   */
  handOff(ips: readonly string[]): Promise<HandoffStop[]> {
    const left = new Set(ips);
    const done = new Promise<HandoffStop[]>((resolve) => {
      if (left.size === 0) resolve([]); else this.waiters.add({ left, stops: [], resolve });
    });
    this.carryOut(this.core.begin(this.p.clock.now(), ips, this.p.graceMs));
    this.arm();
    return done;
  }

  /**
   * Ends the handoff of `ips` without stopping them (a handoff while running whose Service this node is elected for
   * again, src/speaker/handoff.ts); a handOff waiting for them counts them as done.
   */
  cancel(ips: readonly string[]): void {
    this.core.cancel(ips);
    for (const w of [...this.waiters]) {
      for (const ip of ips) w.left.delete(ip);
      if (w.left.size === 0) { this.waiters.delete(w); w.resolve(w.stops); }
    }
    this.arm();
  }

  /** IPs still answered for while their successor's announcement is awaited. */
  pending(): string[] {
    return this.core.pending();
  }

  /** Stops listening; pending IPs are left as they are (the caller is closing the announcer). */
  close(): void {
    this.offClaim();
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private arm(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const ms = this.core.nextDueMs(this.p.clock.now());
    if (ms === undefined) return;
    this.cancelTimer = this.p.clock.setTimer(ms, () => {
      this.cancelTimer = undefined;
      this.carryOut(this.core.due(this.p.clock.now()));
      this.arm();
    });
  }

  private carryOut(stops: ReadonlyArray<HandoffStop | undefined>): void {
    for (const s of stops) {
      if (s === undefined) continue;
      this.p.stop(s.ip);
      this.total.inc({ result: s.result });
      const afterMs = Math.round(s.afterMs);
      if (s.result === 'confirmed') {
        this.p.logger.info({ op: 'handoff', ip: s.ip, result: s.result, afterMs, node: s.node, mac: s.mac,
          msg: `node ${JSON.stringify(s.node)} announced the IP; stopped answering for it` });
      } else {
        this.p.logger.warn({ op: 'handoff', ip: s.ip, result: s.result, afterMs,
          msg: 'no other speaker announced the IP within the handoff grace; stopped answering for it' });
      }
      for (const w of [...this.waiters]) {
        if (!w.left.delete(s.ip)) continue;
        w.stops.push(s);
        if (w.left.size === 0) { this.waiters.delete(w); w.resolve(w.stops); }
      }
    }
  }
}
