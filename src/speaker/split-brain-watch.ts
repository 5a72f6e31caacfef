/**
 * Split brain, carried out (issue 11): drives the pure detector (src/core/speaker/split-brain.ts) with a timer and
 * the announcer's claims, and does what it says — probe frames and re-announce bursts through the layer-2
 * announcer, a Warning Event `splitBrain` on every Service announcing the IP naming both nodes, a log line, and the
 * metrics `metallb_speaker_layer2_split_brain{ip,node}` (1 while another node answers for an IP we announce; node =
 * its name from the gossip metadata, else its MAC) and `metallb_speaker_layer2_split_brain_detected_total{ip}`.
 * Composition only: every decision is the detector's.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Claim } from '../core/layer2/conflict.js';
import type { EventTarget, Logger, ServiceEvent } from '../core/ports.js';
import { DEFAULT_SPLIT_BRAIN_TIMING, SplitBrainDetector, type SplitBrainAction, type SplitBrainTiming } from '../core/speaker/split-brain.js';

/** A claim and the interface it was seen on (the layer-2 announcer's LayerClaim). */
type LayerClaim = Claim & { readonly interface: string };

export interface SplitBrainWatchPorts {
  readonly myNode: string;
  /** Monotonic ms and a cancellable timer (the adapters' Clock). */
  readonly clock: { now(): number; setTimer(ms: number, fn: () => void): () => void };
  readonly announcer: {
    probe(ips: readonly string[]): void;
    reannounce(ip: string): void;
    onClaim(listener: (claim: LayerClaim) => void): () => void;
    stats(): { readonly owned: readonly string[] };
  };
  /** The node whose gossip metadata carries the MAC. */
  readonly nodeByMac: (mac: string) => string | undefined;
  readonly alive: () => ReadonlySet<string>;
  /** The minority rule's verdict for this node (true without gossip). */
  readonly quorum: () => boolean;
  /** Event targets of the Services this node announces `ip` for. */
  readonly servicesAnnouncing: (ip: string) => EventTarget[];
  readonly recordEvent: (target: EventTarget, event: ServiceEvent) => void;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly timing?: SplitBrainTiming;
}

export class SplitBrainWatch {
  private readonly p: SplitBrainWatchPorts;
  private readonly detector: SplitBrainDetector;
  private readonly gauge: Gauge<'ip' | 'node'>;
  private readonly detected: Counter<'ip'>;
  private cancelTimer: () => void = () => {};
  private readonly offClaim: () => void;
  private stopped = false;

  constructor(p: SplitBrainWatchPorts) {
    this.p = p;
    const timing = p.timing ?? DEFAULT_SPLIT_BRAIN_TIMING;
    this.detector = new SplitBrainDetector(timing);
    this.gauge = new Gauge({
      name: 'metallb_speaker_layer2_split_brain', help: 'Another node answers for an IP this speaker announces (1 while seen); node = its name from gossip, else its MAC.',
      labelNames: ['ip', 'node'] as const, registers: [p.registry],
    });
    this.detected = new Counter({
      name: 'metallb_speaker_layer2_split_brain_detected_total', help: 'Split brains detected on an IP this speaker announces (another MAC answering for it).',
      labelNames: ['ip'] as const, registers: [p.registry],
    });
    this.offClaim = p.announcer.onClaim((c) => this.onClaim(c));
    const round = (): void => {
      if (this.stopped) return;
      this.carryOut(this.detector.tick(p.clock.now(), p.announcer.stats().owned));
      this.cancelTimer = p.clock.setTimer(timing.probeIntervalMs, round);
    };
    this.cancelTimer = p.clock.setTimer(timing.probeIntervalMs, round);
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer();
    this.offClaim();
  }

  private onClaim(c: LayerClaim): void {
    if (this.stopped) return;
    const otherNode = this.p.nodeByMac(c.mac);
    const owned = this.p.announcer.stats().owned.includes(c.ip);
    this.carryOut(this.detector.claim(this.p.clock.now(), c.ip, c.mac, owned, {
      myNode: this.p.myNode, otherNode, otherAlive: otherNode !== undefined && this.p.alive().has(otherNode), quorum: this.p.quorum(),
    }), c.interface);
  }

  private carryOut(actions: readonly SplitBrainAction[], iface?: string): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'probe': this.p.announcer.probe(a.ips); break;
        case 'reannounce':
          this.p.announcer.reannounce(a.ip);
          this.p.logger.info({ event: 'splitBrainReannounce', ip: a.ip, mac: a.mac, nextInMs: a.nextInMs, msg: 'split brain: re-announced (gratuitous burst)' });
          break;
        case 'detected': {
          const other = a.otherNode ?? a.mac;
          this.gauge.set({ ip: a.ip, node: other }, 1);
          this.detected.inc({ ip: a.ip });
          const who = a.otherNode === undefined ? `an unknown host (MAC ${a.mac}, in no speaker's gossip metadata)` : `node ${JSON.stringify(a.otherNode)} (MAC ${a.mac})`;
          const action = a.reannounce ? `node ${JSON.stringify(this.p.myNode)} re-announces it` : `node ${JSON.stringify(this.p.myNode)} leaves re-announcing to the other side`;
          const message = `split brain: ${a.ip} is also answered by ${who} while node ${JSON.stringify(this.p.myNode)} announces it; ${action}`;
          this.p.logger.warn({ event: 'splitBrain', ip: a.ip, mac: a.mac, otherNode: a.otherNode, interface: iface, reannounce: a.reannounce, msg: message });
          for (const target of this.p.servicesAnnouncing(a.ip)) this.p.recordEvent(target, { type: 'Warning', reason: 'splitBrain', message });
          break;
        }
        case 'cleared':
          this.gauge.remove({ ip: a.ip, node: a.otherNode ?? a.mac });
          this.p.logger.info({ event: 'splitBrainCleared', ip: a.ip, mac: a.mac, otherNode: a.otherNode, msg: 'split brain over: no other answer for the IP' });
          break;
      }
    }
  }
}
