/**
 * The layer-2 announcer (MetalLB v0.11 internal/layer2/announcer.go semantics, spec §5.2): answers ARP and
 * NDP for the IPs this node owns on every qualifying interface, sends the gratuitous bursts on taking an IP,
 * and holds the solicited-node multicast memberships of owned IPv6 addresses.
 *
 * - Owned set: per balancer name the list of its IPs (dual-stack: several); a refcount per IP, so Services
 *   sharing an IP keep it owned until the last one is deleted. No "goodbye" on withdraw (as v0.11).
 * - Interfaces: scanned at start, every `rescanIntervalMs` (v0.11: 10 s) and, when `ip monitor` is available,
 *   ~100 ms after a link or address change. One capture per qualifying interface, its ring sized
 *   `min(captureBufferMaxBytes, captureBufferTotalBytes / interfaces)`, so hundreds of Pod veths stay under
 *   the total.
 * - The captures live in a child process (responder-host-main.ts), which answers by itself: `cap` aborts its
 *   process when a captured interface goes down, so that process is respawned (state replayed) instead of
 *   the speaker dying. Tests pass `open` (fake captures) to run the responders inline.
 * - This process sends the host a heartbeat every 100 ms; silent past `responderMuteAfterMs` (frozen: gossip has
 *   declared the node dead, a successor answers), the host stops answering and says `muted`; read once this process
 *   runs again, that replays the owned set and a burst per owned IP, as after a restart (issue 11).
 */
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LogFields, Logger } from '../../core/ports.js';
import type { Clock } from '../clock.js';
import { realClock } from '../clock.js';
import { formatIp, parseIp } from '../../core/ip/index.js';
import { solicitedNodeGroup, DROP_REASONS, type Claim, type DropReason } from '../../core/layer2/index.js';
import { announced, tick, withdrawn, GRATUITOUS_TICK_MS, type GratuitousSchedule } from '../../core/layer2/gratuitous.js';
import { RESPONDER_HEARTBEAT_MS, RESPONDER_MUTE_AFTER_MS } from '../../core/layer2/responder-watchdog.js';
import { scanInterfaces, type InterfaceScan } from './interfaces.js';
import type { openCapture } from './pcap.js';
import { openMulticastMemberships, type MulticastMemberships } from './multicast.js';
import type { Layer2Metrics } from './metrics.js';
import { ResponderSet, type ResponderSetStats, type ResponderSpec } from './responder-set.js';

/** The seam the speaker codes against (SPEAKER-CONTRACTS.md). */
export interface Layer2Announcer {
  /** Idempotent per name; answers ARP/NDP for `ips` on every qualifying interface, sends the gratuitous
   *  bursts (re-extends the 5 s window on every call), joins solicited-node groups for IPv6. Replaces the
   *  name's previous IPs. IPs that are not valid addresses are logged and ignored. Never throws. */
  setBalancer(name: string, ips: readonly string[]): void;
  /** Releases the name's IPs; an IP stays owned while another name still holds it. No-op for unknown names. */
  deleteBalancer(name: string): void;
  /**
   * Stops answering for `ips` now, whichever names hold them (a handoff its successor confirmed,
   * src/speaker/confirmed-handoff.ts): the names keep their other IPs; a later setBalancer listing an IP takes it
   * again (with its bursts). IPs not owned or invalid are ignored.
   */
  withdraw(ips: readonly string[]): void;
  /** Rescans interfaces now (also done periodically and on link changes). */
  rescan(): void;
  /** Sends the split-brain probe (ARP Probe / Neighbor Solicitation) of each owned IP among `ips` on every interface. */
  probe(ips: readonly string[]): void;
  /** One gratuitous burst for `ip` now, if owned (split brain's re-announce; the 5 s window is not extended). */
  reannounce(ip: string): void;
  /**
   * Ends the gratuitous bursts of `ips` now; they are still answered (make-before-break: a node handing its IPs off
   * keeps answering requests during the grace, but the successor's bursts must be the last word clients hear). The
   * next setBalancer of an IP starts its bursts again.
   */
  silence(ips: readonly string[]): void;
  /** Another MAC answered for or announced an owned IP; returns the unsubscribe. */
  onClaim(listener: (claim: LayerClaim) => void): () => void;
  /** Counters and state for metrics, tests and the bench (responder figures lag by up to ~50 ms). */
  stats(): Layer2Stats;
  close(): Promise<void>;
}

/** A claim on an owned IP by another MAC, and the interface it was seen on. */
export type LayerClaim = Claim & { readonly interface: string };

export interface Layer2Stats {
  /** Interfaces with an open responder. */
  readonly interfaces: ResponderSetStats['interfaces'];
  /** Sum of the capture rings (kernel memory mapped into the responder host; not V8 heap), bytes. */
  readonly ringBytes: number;
  readonly owned: readonly string[];
  readonly drops: Readonly<Record<DropReason, number>>;
  readonly replies: number;
  /** How many times the responder host process was (re)started (1 = never restarted; 0 inline). */
  readonly hostStarts: number;
  /** Split-brain probe packets sent. */
  readonly probes: number;
}

export interface Layer2AnnouncerOptions {
  readonly logger: Logger;
  readonly metrics: Layer2Metrics;
  readonly clock?: Clock;
  /** Upper bound of all capture rings together, bytes (the speaker's flag). Default 32 MiB. */
  readonly captureBufferTotalBytes?: number;
  /** Upper bound of one interface's capture ring, bytes. Default 2 MiB. */
  readonly captureBufferMaxBytes?: number;
  /** Periodic interface rescan, ms. Default 10 000 (v0.11). */
  readonly rescanIntervalMs?: number;
  /** Rescan on `ip monitor link address` output. Default true; periodic only without `ip`. */
  readonly watchLinks?: boolean;
  /** Restricts responders to interfaces whose name passes (tests, bench). Default: all. */
  readonly interfaceFilter?: (name: string) => boolean;
  /**
   * The responder host stops answering when this process's main loop has sent it nothing (heartbeat every 100 ms)
   * for this long, ms (src/core/layer2/responder-watchdog.ts `responderMuteAfterMs`). Default 1000.
   */
  readonly responderMuteAfterMs?: number;
  /** Test seams: a fake scan; fake captures (the responders then run inline, in this process). */
  readonly scan?: () => InterfaceScan;
  readonly open?: typeof openCapture;
}

export const DEFAULT_CAPTURE_BUFFER_TOTAL_BYTES = 32 * 1024 * 1024;
export const DEFAULT_CAPTURE_BUFFER_MAX_BYTES = 2 * 1024 * 1024;

/** Where the responders run: inline (tests) or in the responder host process. */
interface Backend {
  sync(specs: readonly ResponderSpec[]): void;
  /** The owned set changed: `add` became owned, `remove` no longer is (deltas: with 10,000 IPs, sending the
   *  whole set on every change cost O(n²) IPC while a speaker took its Services). */
  updateOwned(add: readonly string[], remove: readonly string[]): void;
  burst(ip: string): void;
  probe(ips: readonly string[]): void;
  stats(): ResponderSetStats & { hostStarts: number; probes: number };
  close(): Promise<void>;
}

const EMPTY_STATS: ResponderSetStats = { interfaces: [], drops: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>, replies: 0 };

function logAt(log: Logger, level: 'debug' | 'info' | 'error', fields: LogFields): void {
  log[level](fields);
}

function inlineBackend(open: typeof openCapture, log: Logger, metrics: Layer2Metrics, claimed: (c: LayerClaim) => void): Backend {
  let probes = 0;
  const set = new ResponderSet(open, {
    log: (level, fields) => logAt(log, level, fields),
    answered: (ip) => { metrics.requestReceived(ip); metrics.responseSent(ip); },
    unanswered: (ip) => metrics.requestReceived(ip),
    claimed,
  });
  return {
    sync: (specs) => set.sync(specs),
    updateOwned: (add, remove) => set.updateOwned(add, remove),
    burst: (ip) => { const n = set.burst(ip); if (n > 0) metrics.gratuitousSent(ip, n); },
    probe: (ips) => { probes += set.probe(ips); },
    stats: () => ({ ...set.stats(), hostStarts: 0, probes }),
    close: async () => set.close(),
  };
}

const hostMain = join(dirname(fileURLToPath(import.meta.url)), 'responder-host-main.js');

function hostBackend(log: Logger, metrics: Layer2Metrics, clock: Clock, claimed: (c: LayerClaim) => void, muteAfterMs: number): Backend {
  let probes = 0;
  let child: ChildProcess | undefined;
  let specs: readonly ResponderSpec[] = [];
  const owned = new Set<string>();
  let last: ResponderSetStats = EMPTY_STATS;
  let carried = { drops: { ...EMPTY_STATS.drops }, replies: 0 }; // counts of earlier host processes
  let starts = 0;
  let startedAt = 0;
  let restartDelay = 200;
  let cancelRestart: (() => void) | undefined;
  let closed = false;
  let cancelBeat: (() => void) | undefined;
  const post = (m: object) => { if (child?.connected) child.send(m); };
  // The heartbeat comes from this main loop's timers: frozen or stuck, it stops (the host's watchdog).
  const beat = () => { cancelBeat = clock.setTimer(RESPONDER_HEARTBEAT_MS, () => { if (closed) return; post({ t: 'alive' }); beat(); }); };

  function start(): void {
    starts++;
    startedAt = clock.now();
    const c = fork(hostMain, [String(muteAfterMs)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child = c;
    c.on('message', (m: { t: string; level?: 'debug' | 'info' | 'error'; fields?: LogFields; answered?: Record<string, number>;
      unanswered?: Record<string, number>; gratuitous?: Record<string, number>; stats?: ResponderSetStats; probes?: number; claims?: LayerClaim[] }) => {
      if (m.t === 'log') logAt(log, m.level!, m.fields!);
      // The host muted itself while this loop was silent; it answers again on the owned set we send now.
      if (m.t === 'muted' && child === c) { metrics.responderMuted?.(); replay(); }
      if (m.t === 'report') {
        for (const [ip, n] of Object.entries(m.answered ?? {})) { metrics.requestReceived(ip, n); metrics.responseSent(ip, n); }
        for (const [ip, n] of Object.entries(m.unanswered ?? {})) metrics.requestReceived(ip, n);
        for (const [ip, n] of Object.entries(m.gratuitous ?? {})) metrics.gratuitousSent(ip, n);
        last = m.stats ?? last;
        probes += m.probes ?? 0;
        for (const c of m.claims ?? []) claimed(c);
      }
    });
    c.on('error', (err) => log.error({ op: 'responderHost', error: String(err), msg: 'responder host process error' }));
    c.on('exit', (code, signal) => {
      if (child !== c) return;
      child = undefined;
      carried = { drops: sum(carried.drops, last.drops), replies: carried.replies + last.replies };
      last = { ...EMPTY_STATS };
      if (closed) return;
      // A quick death again (e.g. an interface flapping) backs off up to 5 s; a long-lived host restarts fast.
      restartDelay = clock.now() - startedAt < 2000 ? Math.min(restartDelay * 2, 5000) : 200;
      log.error({ op: 'responderHost', error: `exited (code ${code}, signal ${signal})`, restartInMs: restartDelay,
        msg: 'responder host exited (an interface went away under a capture?); restarting it' });
      cancelRestart = clock.setTimer(restartDelay, () => { cancelRestart = undefined; if (!closed) { start(); replay(); } });
    });
  }

  /**
   * A restarted host gets the owned set and the responders back, and sends one gratuitous burst per owned IP: the
   * bursts posted while it was down (up to 5 s of back-off, e.g. the owner's link just came back up) were lost, and
   * a client still holding another node's MAC for the IP would otherwise never hear from us. The same for a host
   * that muted itself while this process was frozen: a successor has announced meanwhile.
   */
  function replay(): void {
    post({ t: 'owned', ips: [...owned] });
    post({ t: 'sync', specs });
    for (const ip of owned) post({ t: 'burst', ip });
  }

  const sum = (a: Record<DropReason, number>, b: Readonly<Record<DropReason, number>>) =>
    Object.fromEntries(DROP_REASONS.map((r) => [r, a[r] + b[r]])) as Record<DropReason, number>;

  start();
  beat();
  return {
    sync(s) { specs = s; post({ t: 'sync', specs }); },
    updateOwned(add, remove) {
      for (const ip of add) owned.add(ip);
      for (const ip of remove) owned.delete(ip);
      post({ t: 'own', add, remove });
    },
    burst(ip) { post({ t: 'burst', ip }); },
    probe(ips) { post({ t: 'probe', ips }); },
    stats: () => ({ interfaces: last.interfaces, drops: sum(carried.drops, last.drops), replies: carried.replies + last.replies, hostStarts: starts, probes }),
    async close() {
      closed = true;
      cancelRestart?.();
      cancelBeat?.();
      const c = child;
      if (c === undefined) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
        c.once('exit', () => { clearTimeout(timer); resolve(); });
        if (c.connected) c.send({ t: 'close' }); else c.kill('SIGTERM');
      });
    },
  };
}

/** Starts the announcer: opens responders on the interfaces that qualify now; owns nothing yet. */
export async function startLayer2Announcer(opts: Layer2AnnouncerOptions): Promise<Layer2Announcer> {
  const log = opts.logger;
  const clock = opts.clock ?? realClock;
  const total = opts.captureBufferTotalBytes ?? DEFAULT_CAPTURE_BUFFER_TOTAL_BYTES;
  const perMax = opts.captureBufferMaxBytes ?? DEFAULT_CAPTURE_BUFFER_MAX_BYTES;
  const scan = opts.scan ?? scanInterfaces;
  const memberships: MulticastMemberships = await openMulticastMemberships();
  const claimListeners = new Set<(c: LayerClaim) => void>();
  const claimed = (c: LayerClaim) => { for (const l of [...claimListeners]) l(c); };
  const backend = opts.open ? inlineBackend(opts.open, log, opts.metrics, claimed) : hostBackend(log, opts.metrics, clock, claimed, opts.responderMuteAfterMs ?? RESPONDER_MUTE_AFTER_MS);

  let specs = new Map<string, ResponderSpec>();
  const byName = new Map<string, readonly string[]>();
  const refcount = new Map<string, number>();
  let schedule: GratuitousSchedule = new Map();
  let cancelTick: (() => void) | undefined;
  let cancelRescan: (() => void) | undefined;
  let monitor: ChildProcess | undefined;
  let debounce: (() => void) | undefined;
  let closed = false;

  const owns = (ip: string) => refcount.has(ip);
  const isV6 = (ip: string) => ip.includes(':');

  function group(iface: string, ip: string, join: boolean): void {
    const g = solicitedNodeGroup(ip);
    if (g === undefined) return;
    try {
      if (join) memberships.join(g, iface); else memberships.leave(g, iface);
    } catch (err) {
      log.error({ op: join ? 'joinMulticastGroup' : 'leaveMulticastGroup', interface: iface, ip, group: g, error: String(err), msg: 'solicited-node multicast membership failed' });
    }
  }

  function rescan(): void {
    if (closed) return;
    const result = scan();
    for (const e of result.errors) log.error({ op: 'getInterfaces', interface: e.name, error: e.error, msg: 'cannot read interface; skipped' });
    const found = result.interfaces.filter((i) => opts.interfaceFilter?.(i.name) ?? true);
    const target = Math.max(1, Math.min(perMax, Math.floor(total / Math.max(1, found.length))));
    const next = new Map<string, ResponderSpec>();
    for (const i of found) {
      const prev = specs.get(i.name);
      const same = prev !== undefined && prev.mac === i.mac && prev.arp === i.arp && prev.ndp === i.ndp;
      next.set(i.name, { ...i, bufferBytes: same ? prev.bufferBytes : target });
    }
    // Over budget (more interfaces than when the rings were sized): shrink every ring above the new share.
    if ([...next.values()].reduce((s, x) => s + x.bufferBytes, 0) > total) {
      for (const [name, x] of next) if (x.bufferBytes > target) next.set(name, { ...x, bufferBytes: target });
    }
    // Solicited-node groups follow the NDP interfaces.
    const v6 = [...refcount.keys()].filter(isV6);
    for (const [name, x] of specs) if (x.ndp && !next.get(name)?.ndp) for (const ip of v6) group(name, ip, false);
    for (const [name, x] of next) if (x.ndp && !specs.get(name)?.ndp) for (const ip of v6) group(name, ip, true);
    specs = next;
    backend.sync([...next.values()]);
  }

  function burst(ip: string): void { backend.burst(ip); }

  function armTick(): void {
    if (cancelTick !== undefined || schedule.size === 0 || closed) return;
    cancelTick = clock.setTimer(GRATUITOUS_TICK_MS, () => {
      cancelTick = undefined;
      const t = tick(schedule, clock.now(), owns);
      schedule = t.schedule;
      for (const ip of t.burst) burst(ip);
      armTick();
    });
  }

  function acquire(ip: string): boolean {
    const n = refcount.get(ip) ?? 0;
    refcount.set(ip, n + 1);
    if (n === 0 && isV6(ip)) for (const x of specs.values()) if (x.ndp) group(x.name, ip, true);
    return n === 0;
  }

  function release(ip: string): boolean {
    const n = refcount.get(ip) ?? 0;
    if (n > 1) { refcount.set(ip, n - 1); return false; }
    refcount.delete(ip);
    if (isV6(ip)) for (const x of specs.values()) if (x.ndp) group(x.name, ip, false);
    return true;
  }

  function armRescan(): void {
    if (closed) return;
    cancelRescan = clock.setTimer(opts.rescanIntervalMs ?? 10_000, () => { rescan(); armRescan(); });
  }

  if (opts.watchLinks ?? true) {
    try {
      monitor = spawn('ip', ['monitor', 'link', 'address'], { stdio: ['ignore', 'pipe', 'ignore'] });
      monitor.on('error', () => { monitor = undefined; });
      monitor.stdout?.on('data', () => {
        debounce ??= clock.setTimer(100, () => { debounce = undefined; rescan(); });
      });
      monitor.unref();
      (monitor.stdout as unknown as { unref?: () => void } | null)?.unref?.();
    } catch {
      monitor = undefined;
    }
  }
  rescan();
  armRescan();

  return {
    setBalancer(name, ips) {
      if (closed) return;
      const canonical: string[] = [];
      for (const s of ips) {
        const ip = parseIp(s);
        if (ip === undefined) { log.error({ op: 'setBalancer', service: name, ip: s, error: 'not an IP address', msg: 'ignoring invalid IP' }); continue; }
        const key = formatIp(ip);
        if (!canonical.includes(key)) canonical.push(key);
      }
      const before = byName.get(name) ?? [];
      const added = canonical.filter((ip) => !before.includes(ip) && acquire(ip));
      const removed = before.filter((ip) => !canonical.includes(ip) && release(ip));
      if (canonical.length === 0) byName.delete(name); else byName.set(name, canonical);
      if (added.length > 0 || removed.length > 0) backend.updateOwned(added, removed);
      for (const ip of removed) schedule = withdrawn(schedule, ip);
      for (const ip of canonical) {
        const a = announced(schedule, ip, clock.now());
        schedule = a.schedule;
        if (a.burstNow) burst(ip);
      }
      armTick();
    },
    deleteBalancer(name) {
      const ips = byName.get(name);
      if (ips === undefined) return;
      byName.delete(name);
      const removed = ips.filter((ip) => release(ip));
      if (removed.length > 0) backend.updateOwned([], removed);
      // Taken again later (the next failover right after a failback), the IP bursts at once.
      for (const ip of removed) schedule = withdrawn(schedule, ip);
    },
    withdraw(ips) {
      if (closed) return;
      const removed: string[] = [];
      for (const s of ips) {
        const parsed = parseIp(s);
        const ip = parsed === undefined ? undefined : formatIp(parsed);
        if (ip === undefined || !refcount.has(ip)) continue;
        for (const [name, held] of byName) {
          if (!held.includes(ip)) continue;
          const rest = held.filter((x) => x !== ip);
          if (rest.length === 0) byName.delete(name); else byName.set(name, rest);
        }
        refcount.set(ip, 1);
        release(ip);
        removed.push(ip);
      }
      if (removed.length > 0) backend.updateOwned([], removed);
      // As deleteBalancer: taken again later, the IP bursts at once.
      for (const ip of removed) schedule = withdrawn(schedule, ip);
    },
    rescan,
    probe(ips) {
      const mine = ips.filter((ip) => owns(ip));
      if (!closed && mine.length > 0) backend.probe(mine);
    },
    reannounce(ip) {
      if (!closed && owns(ip)) burst(ip);
    },
    silence(ips) {
      const next = new Map(schedule);
      for (const ip of ips) {
        const parsed = parseIp(ip);
        if (parsed !== undefined) next.delete(formatIp(parsed));
      }
      schedule = next;
    },
    onClaim(listener) {
      claimListeners.add(listener);
      return () => { claimListeners.delete(listener); };
    },
    stats() {
      const s = backend.stats();
      return {
        interfaces: s.interfaces, ringBytes: s.interfaces.reduce((n, i) => n + i.bufferBytes, 0), owned: [...refcount.keys()].sort(),
        drops: s.drops, replies: s.replies, hostStarts: s.hostStarts, probes: s.probes,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      cancelTick?.(); cancelRescan?.(); debounce?.();
      monitor?.kill();
      for (const [name, x] of specs) if (x.ndp) for (const ip of refcount.keys()) if (isV6(ip)) group(name, ip, false);
      refcount.clear();
      byName.clear();
      await backend.close();
      await memberships.close();
    },
  };
}
