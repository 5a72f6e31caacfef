/**
 * The speaker's environment checks, carried out (issue 13 §3): runs the pure checks (src/core/speaker/env-checks.ts)
 * at start, every `intervalMs` (default 10 s, the layer-2 interface rescan's period), on config changes and on
 * membership changes, and reports each finding once while it holds: a Warning Event on this speaker's Node (reason
 * = the finding's code, e.g. `StrictARPMissing`), a warn log line (`event: startupCheckFailed`, `check`, `reason`,
 * `error` = the message), and the gauge `metallb_speaker_startup_check_failed{check}` (1 while any finding of the
 * check holds, else 0; every check's series exists from the start). A resolved finding logs
 * `startupCheckResolved` (info) and its gauge goes back to 0. Composition only: every verdict is the core's.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../core/ports.js';
import {
  CHECK_NAMES, FindingTracker, checkAnnounceInterfaces, checkBgpPeers, checkMemberlistReachable, checkStrictArp,
  type BgpPeerState, type CheckName, type Finding, type StrictArpInput,
} from '../core/speaker/env-checks.js';
import type { InterfaceScan } from '../core/layer2/interfaces.js';

/** How long a BGP session may take to reach Established, and a listed speaker to become alive in gossip, ms. */
export const DEFAULT_CHECK_WINDOW_MS = 30_000;
export const DEFAULT_CHECK_INTERVAL_MS = 10_000;

/** A Warning Event for this speaker's Node. */
export interface NodeWarning { readonly type: 'Warning'; readonly reason: string; readonly message: string }

export interface StartupChecksPorts {
  readonly registry: Registry;
  readonly logger: Logger;
  readonly recordNodeEvent: (e: NodeWarning) => void;
  /** Monotonic ms and a cancellable timer (the adapters' Clock). */
  readonly clock: { now(): number; setTimer(ms: number, fn: () => void): () => void };
  /** The layer-2 interface scan (src/adapters/layer2/interfaces.ts). */
  readonly scan: () => InterfaceScan;
  /** The strict-ARP check's inputs, read now (src/adapters/checks/environment.ts). */
  readonly strictArp: (scan: InterfaceScan) => StrictArpInput;
  /** Whether the running config has a layer2 pool; undefined before a config runs. */
  readonly layer2InUse: () => boolean | undefined;
  /** BGP sessions (BgpAnnouncer.peerStates). */
  readonly bgpPeers: () => readonly BgpPeerState[];
  /** With gossip: the speakers Kubernetes has alive and gossip does not. */
  readonly gossipMissing?: (() => readonly string[]) | undefined;
  /** --ml-bindport, for the messages. */
  readonly memberlistPort: number;
  readonly intervalMs?: number;
  readonly windowMs?: number;
}

export class StartupChecks {
  private readonly p: StartupChecksPorts;
  private readonly tracker = new FindingTracker();
  private readonly gauge: Gauge<'check'>;
  /** Since when (clock ms) each speaker has been missing from gossip. */
  private readonly missingSince = new Map<string, number>();
  private cancelTimer: () => void = () => {};
  private stopped = false;

  constructor(p: StartupChecksPorts) {
    this.p = p;
    this.gauge = new Gauge({
      name: 'metallb_speaker_startup_check_failed',
      help: 'An environment check of this speaker fails (1) or passes (0): strictARP, memberlistPort, memberlistReachable, announceInterface, bgpPeer. The Warning Events on the Node say why.',
      labelNames: ['check'] as const, registers: [p.registry],
    });
    for (const check of CHECK_NAMES) this.gauge.set({ check }, 0);
  }

  /** Runs every check now and then every intervalMs. */
  start(): void {
    const round = (): void => {
      if (this.stopped) return;
      this.recheck();
      this.cancelTimer = this.p.clock.setTimer(this.p.intervalMs ?? DEFAULT_CHECK_INTERVAL_MS, round);
    };
    round();
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer();
  }

  /** The findings of `check` now (the checks run elsewhere, e.g. memberlistPort at bind time). */
  report(check: CheckName, findings: readonly Finding[]): void {
    const changes = this.tracker.update(check, findings);
    for (const f of changes.raised) {
      this.p.logger.warn({ event: 'startupCheckFailed', check: f.check, reason: f.reason, subject: f.subject, error: f.message, msg: `environment check ${f.check} failed: ${f.reason}` });
      this.p.recordNodeEvent({ type: 'Warning', reason: f.reason, message: f.message });
    }
    for (const f of changes.cleared) {
      this.p.logger.info({ event: 'startupCheckResolved', check: f.check, reason: f.reason, subject: f.subject, msg: `environment check ${f.check} passes again: ${f.reason} resolved` });
    }
    for (const [c, failing] of changes.failing) this.gauge.set({ check: c }, failing ? 1 : 0);
  }

  /** Runs the checks that read the node now (interfaces, sysctls) and the state-based ones. */
  recheck(): void {
    if (this.stopped) return;
    const scan = this.p.scan();
    this.report('strictARP', checkStrictArp(this.p.strictArp(scan)));
    this.report('announceInterface', checkAnnounceInterfaces({ layer2InUse: this.p.layer2InUse(), interfaces: scan.interfaces }));
    this.report('bgpPeer', checkBgpPeers({ peers: this.p.bgpPeers(), nowMs: this.p.clock.now(), windowMs: this.window() }));
    this.recheckMembers();
  }

  /** The gossip reachability check alone (cheap: no I/O), e.g. on every membership change. */
  recheckMembers(): void {
    if (this.stopped || this.p.gossipMissing === undefined) return;
    const now = this.p.clock.now();
    const missing = new Set(this.p.gossipMissing());
    for (const node of [...this.missingSince.keys()]) if (!missing.has(node)) this.missingSince.delete(node);
    for (const node of missing) if (!this.missingSince.has(node)) this.missingSince.set(node, now);
    this.report('memberlistReachable', checkMemberlistReachable({
      missing: [...this.missingSince].map(([node, sinceMs]) => ({ node, sinceMs })), nowMs: now, windowMs: this.window(), port: this.p.memberlistPort,
    }));
  }

  private window(): number {
    return this.p.windowMs ?? DEFAULT_CHECK_WINDOW_MS;
  }
}
