/**
 * The speaker's gossip membership (issue 11), composed: a MembershipNode (SWIM over UDP + TCP on
 * `--ml-bindaddr`:`--ml-bindport`, src/adapters/membership/transport.ts) named by the node name, peers found as
 * v0.11 finds them (spec §5.3: the speaker Pods selected by `--ml-labels`, by their status.podIP) and joined at
 * start, every minute and whenever the Kubernetes view gains a node gossip does not have; the election's view is
 * gossip ∩ Kubernetes (src/core/speaker/combined-membership.ts). Metrics show that gossip runs:
 * `metallb_speaker_memberlist_members{status}`, `metallb_speaker_memberlist_dropped_total{reason}`,
 * `metallb_speaker_memberlist_receive_buffer_drops_total` (the kernel's, before any frame is read),
 * `metallb_speaker_memberlist_sent_bytes_total{channel}`, `metallb_speaker_memberlist_local_health`, and the detector's
 * verdicts: `metallb_speaker_memberlist_suspicions_total{origin}`, `_failures_total{origin}`, `_refuted_total`,
 * `_late_timers_total`.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { realClock } from '../clock.js';
import type { KubernetesMembershipSource } from '../k8s/membership.js';
import { MembershipNode, formatAddr } from './transport.js';
import { DROP_REASONS } from '../../core/membership/frame.js';
import { DEFAULT_TIMING, type MemberStatus, type MembershipTiming } from '../../core/membership/types.js';
import type { Logger } from '../../core/ports.js';
import { CombinedMembership } from '../../core/speaker/combined-membership.js';
import { encodeNodeMeta, nodesByMac } from '../../core/speaker/node-meta.js';
import { quorumOf, type Quorum } from '../../core/speaker/quorum.js';
import { scanInterfaces } from '../layer2/interfaces.js';

/** The MACs of this node's layer-2 interfaces (the ones the announcer answers on), for the gossip metadata. */
function layer2Meta(): Uint8Array {
  return encodeNodeMeta({ macs: scanInterfaces().interfaces.map((i) => i.mac) });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The speaker's tunable detector knobs (--ml-probe-interval, --ml-probe-timeout, --ml-suspicion-mult, --ml-indirect-checks). */
export type GossipKnobs = Pick<MembershipTiming, 'probeIntervalMs' | 'probeTimeoutMs' | 'suspicionMult' | 'indirectChecks'> & {
  /** MembershipTiming.recentContactMult; absent: the default. */
  readonly passiveRounds?: number;
};

/** v0.11 re-joins listed speaker Pods every minute (spec §5.3). */
const REJOIN_INTERVAL_MS = 60_000;

export interface GossipOptions {
  /** Metadata to start with (default: this node's layer-2 MACs, src/core/speaker/node-meta.ts). */
  readonly meta?: Uint8Array;
  readonly nodeName: string;
  readonly bindAddr: string;
  readonly bindPort: number;
  readonly secret: string | undefined;
  readonly knobs: GossipKnobs;
  readonly kubernetes: KubernetesMembershipSource;
  readonly registry: Registry;
  readonly logger: Logger;
}

export class Gossip {
  /** What the election asks: gossip ∩ Kubernetes. */
  readonly membership: CombinedMembership;
  private readonly cancelRejoin: () => void;
  readonly node: MembershipNode;
  private readonly o: GossipOptions & { readonly meta: Uint8Array };

  private constructor(node: MembershipNode, o: GossipOptions & { readonly meta: Uint8Array }) {
    this.node = node;
    this.o = o;
    this.membership = new CombinedMembership(node, o.kubernetes.membership);
    o.kubernetes.membership.onChange(() => { if (this.membership.missingFromGossip().length > 0) this.joinPeers(); });
    let cancel = (): void => {};
    let meta = o.meta;
    const rejoin = (): void => {
      this.joinPeers();
      // Interfaces come and go (a NIC replaced, a bond re-created): keep the MACs the others name us by current.
      const now = layer2Meta();
      if (!sameBytes(now, meta)) { meta = now; node.setMeta(now); }
      cancel = realClock.setTimer(REJOIN_INTERVAL_MS, rejoin);
    };
    cancel = realClock.setTimer(REJOIN_INTERVAL_MS, rejoin);
    this.cancelRejoin = () => cancel();
    registerMetrics(o.registry, node);
  }

  /** Binds the sockets (rejects when the port is taken) and starts probing; nobody is joined yet. */
  static async start(o: GossipOptions): Promise<Gossip> {
    const timing = {
      ...DEFAULT_TIMING, probeIntervalMs: o.knobs.probeIntervalMs, probeTimeoutMs: o.knobs.probeTimeoutMs,
      suspicionMult: o.knobs.suspicionMult, indirectChecks: o.knobs.indirectChecks,
      recentContactMult: o.knobs.passiveRounds ?? DEFAULT_TIMING.recentContactMult,
    };
    const meta = o.meta ?? layer2Meta();
    const node = await MembershipNode.start({
      name: o.nodeName, bindAddr: o.bindAddr, bindPort: o.bindPort, secret: o.secret, timing, clock: realClock, logger: o.logger, meta,
    });
    return new Gossip(node, { ...o, meta });
  }

  /** The minority rule's view (src/core/speaker/quorum.ts): known = Kubernetes' live speakers minus those that left. */
  quorum(): Quorum {
    const left = new Set(this.node.members().filter((m) => m.status === 'left').map((m) => m.name));
    return quorumOf({ me: this.o.nodeName, alive: this.membership.alive(), kubernetes: this.o.kubernetes.membership.alive(), left });
  }

  /** The node whose gossip metadata carries `mac` (lower-case colon form), if any. */
  nodeByMac(mac: string): string | undefined {
    return nodesByMac(this.node.members()).get(mac);
  }

  /** Syncs with every listed speaker Pod whose node gossip does not have alive (v0.11 `Rejoin`). */
  joinPeers(): void {
    const alive = this.node.alive();
    const addrs: string[] = [];
    for (const pod of this.o.kubernetes.speakerPods()) {
      const nodeName = field(pod.spec, 'nodeName');
      const podIp = field(pod.status, 'podIP');
      if (typeof nodeName !== 'string' || typeof podIp !== 'string' || podIp === '') continue;
      if (nodeName === this.o.nodeName || alive.has(nodeName)) continue;
      addrs.push(formatAddr(podIp, this.o.bindPort));
    }
    if (addrs.length > 0) this.node.join(addrs);
  }

  /**
   * Joins the listed peers and waits until gossip has every node Kubernetes has alive, or `timeoutMs`: a speaker
   * that started electing alone would claim every IP for a moment (v0.11 joins before its controllers start too).
   * Resolves with the nodes still missing.
   */
  async joinAndWait(timeoutMs: number): Promise<string[]> {
    this.joinPeers();
    if (this.membership.missingFromGossip().length === 0) return [];
    await new Promise<void>((resolve) => {
      const cancel = realClock.setTimer(timeoutMs, () => { off(); resolve(); });
      const off = this.node.onChange(() => {
        if (this.membership.missingFromGossip().length === 0) { cancel(); off(); resolve(); }
      });
    });
    return this.membership.missingFromGossip();
  }

  /** Tells every member we leave (they re-elect at once), then closes the sockets. */
  async leave(): Promise<void> {
    this.cancelRejoin();
    await this.node.leave();
  }

  async close(): Promise<void> {
    this.cancelRejoin();
    await this.node.close();
  }
}

function field(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
}

const STATUSES: readonly MemberStatus[] = ['alive', 'suspect', 'dead', 'left'];

function registerMetrics(registry: Registry, node: MembershipNode): void {
  new Gauge({
    name: 'metallb_speaker_memberlist_members', help: 'Gossip members known to this speaker, by status (itself included).',
    labelNames: ['status'] as const, registers: [registry],
    collect() {
      const counts = new Map<string, number>(STATUSES.map((s) => [s, 0]));
      for (const m of node.members()) counts.set(m.status, (counts.get(m.status) ?? 0) + 1);
      for (const [status, n] of counts) this.set({ status }, n);
    },
  });
  const seenDrops = new Map<string, number>();
  new Counter({
    name: 'metallb_speaker_memberlist_dropped_total', help: 'Gossip frames dropped, by reason (wrong-key, truncated, replayed, malformed, foreign).',
    labelNames: ['reason'] as const, registers: [registry],
    collect() {
      for (const reason of DROP_REASONS) {
        const now = node.drops[reason];
        this.inc({ reason }, now - (seenDrops.get(reason) ?? 0));
        seenDrops.set(reason, now);
      }
    },
  });
  // Read from /proc at scrape time; a socket the kernel does not list leaves the counter where it was.
  let seenKernel = node.kernelDrops() ?? 0;
  new Counter({
    name: 'metallb_speaker_memberlist_receive_buffer_drops_total',
    help: 'Gossip datagrams the kernel dropped because the UDP socket\'s receive buffer was full (a flood, or a busy speaker); they never reach the frame checks of metallb_speaker_memberlist_dropped_total.',
    registers: [registry],
    collect() {
      const now = node.kernelDrops();
      if (now === undefined) return;
      this.inc(Math.max(0, now - seenKernel));
      seenKernel = now;
    },
  });
  const seenBytes = { udp: 0, tcp: 0 };
  new Counter({
    name: 'metallb_speaker_memberlist_sent_bytes_total', help: 'Gossip bytes sent (frames, without IP/UDP/TCP headers), by channel.',
    labelNames: ['channel'] as const, registers: [registry],
    collect() {
      this.inc({ channel: 'udp' }, node.sent.udpBytes - seenBytes.udp);
      this.inc({ channel: 'tcp' }, node.sent.tcpBytes - seenBytes.tcp);
      seenBytes.udp = node.sent.udpBytes;
      seenBytes.tcp = node.sent.tcpBytes;
    },
  });
  const seenVerdicts = { suspectedLocal: 0, suspectedRemote: 0, failedLocal: 0, failedRemote: 0, refuted: 0, lateTimers: 0 };
  const delta = (key: keyof typeof seenVerdicts): number => { const d = node.verdicts[key] - seenVerdicts[key]; seenVerdicts[key] = node.verdicts[key]; return d; };
  new Counter({
    name: 'metallb_speaker_memberlist_suspicions_total', help: 'Members that became suspect here, by origin (local: this speaker\'s own probe failed; remote: gossip from another).',
    labelNames: ['origin'] as const, registers: [registry],
    collect() { this.inc({ origin: 'local' }, delta('suspectedLocal')); this.inc({ origin: 'remote' }, delta('suspectedRemote')); },
  });
  new Counter({
    name: 'metallb_speaker_memberlist_failures_total', help: 'Members marked dead here, by origin (local: this speaker\'s suspicion expired; remote: another\'s death notice).',
    labelNames: ['origin'] as const, registers: [registry],
    collect() { this.inc({ origin: 'local' }, delta('failedLocal')); this.inc({ origin: 'remote' }, delta('failedRemote')); },
  });
  new Counter({
    name: 'metallb_speaker_memberlist_refuted_total', help: 'Suspicions or death notices of this speaker that it refuted.',
    registers: [registry], collect() { this.inc(delta('refuted')); },
  });
  new Counter({
    name: 'metallb_speaker_memberlist_late_timers_total', help: 'Probe verdicts and suspicion expiries deferred because their timer fired late (event-loop lag).',
    registers: [registry], collect() { this.inc(delta('lateTimers')); },
  });
  new Gauge({
    name: 'metallb_speaker_memberlist_local_health', help: 'Lifeguard local health of this speaker (0 = healthy; probes slow down by 1 + this).',
    registers: [registry],
    collect() { this.set(node.health()); },
  });
}
