/**
 * The layer-2 announcer (MetalLB v0.11 internal/layer2/announcer.go semantics, spec §5.2): answers ARP and
 * NDP for the IPs this node owns on every qualifying interface, sends the gratuitous bursts on taking an IP,
 * and holds the solicited-node multicast memberships of owned IPv6 addresses.
 *
 * - Owned set: per balancer name the list of its IPs (dual-stack: several); a refcount per IP, so Services
 *   sharing an IP keep it owned until the last one is deleted. No "goodbye" on withdraw (as v0.11).
 * - Interfaces: scanned at start, every `rescanIntervalMs` (v0.11: 10 s) and, when `ip monitor` is available,
 *   within ~100 ms of a link or address change. One `cap` capture per qualifying interface, its ring sized
 *   `min(captureBufferMaxBytes, captureBufferTotalBytes / interfaces)`, so hundreds of Pod veths stay under
 *   the total.
 * - Each captured frame goes through the pure responder (src/core/layer2/responder.ts); an answer is sent on
 *   the same interface at once; a drop is counted by reason (`stats().drops`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../../core/ports.js';
import type { Clock } from '../clock.js';
import { realClock } from '../clock.js';
import { formatIp, parseIp } from '../../core/ip/index.js';
import { answerFrame, gratuitousFrames, parseMac, solicitedNodeGroup, DROP_REASONS, type DropReason } from '../../core/layer2/index.js';
import { announced, tick, GRATUITOUS_TICK_MS, type GratuitousSchedule } from '../../core/layer2/gratuitous.js';
import { scanInterfaces, type InterfaceScan, type Layer2Interface } from './interfaces.js';
import { openCapture, type PacketCapture } from './pcap.js';
import { openMulticastMemberships, type MulticastMemberships } from './multicast.js';
import type { Layer2Metrics } from './metrics.js';

/** The seam the speaker codes against (SPEAKER-CONTRACTS.md). */
export interface Layer2Announcer {
  /** Idempotent per name; answers ARP/NDP for `ips` on every qualifying interface, sends the gratuitous
   *  bursts (re-extends the 5 s window on every call), joins solicited-node groups for IPv6. IPs that are
   *  not valid addresses are logged and ignored. */
  setBalancer(name: string, ips: readonly string[]): void;
  /** Releases the name's IPs; an IP stays owned while another name still holds it. No-op for unknown names. */
  deleteBalancer(name: string): void;
  /** Rescans interfaces now (also done periodically and on link changes). */
  rescan(): void;
  /** Counters and state for metrics, tests and the bench. */
  stats(): Layer2Stats;
  close(): Promise<void>;
}

export interface Layer2Stats {
  readonly interfaces: ReadonlyArray<{ readonly name: string; readonly arp: boolean; readonly ndp: boolean; readonly bufferBytes: number }>;
  /** Sum of the capture rings (kernel memory mapped into the process; not V8 heap), bytes. */
  readonly ringBytes: number;
  readonly owned: readonly string[];
  readonly drops: Readonly<Record<DropReason, number>>;
  readonly replies: number;
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
  /** Rescan on `ip monitor link address` output. Default true; silently periodic-only without `ip`. */
  readonly watchLinks?: boolean;
  /** Restricts responders to interfaces whose name passes (tests, bench). Default: all. */
  readonly interfaceFilter?: (name: string) => boolean;
  /** Test seams. */
  readonly scan?: () => InterfaceScan;
  readonly open?: typeof openCapture;
}

export const DEFAULT_CAPTURE_BUFFER_TOTAL_BYTES = 32 * 1024 * 1024;
export const DEFAULT_CAPTURE_BUFFER_MAX_BYTES = 2 * 1024 * 1024;

interface Responder {
  readonly iface: Layer2Interface;
  readonly mac: Buffer;
  readonly capture: PacketCapture;
}

/** Starts the announcer: joins nothing yet, opens responders on the interfaces that qualify now. */
export async function startLayer2Announcer(opts: Layer2AnnouncerOptions): Promise<Layer2Announcer> {
  const log = opts.logger;
  const clock = opts.clock ?? realClock;
  const total = opts.captureBufferTotalBytes ?? DEFAULT_CAPTURE_BUFFER_TOTAL_BYTES;
  const perMax = opts.captureBufferMaxBytes ?? DEFAULT_CAPTURE_BUFFER_MAX_BYTES;
  const scan = opts.scan ?? scanInterfaces;
  const open = opts.open ?? openCapture;
  const memberships: MulticastMemberships = await openMulticastMemberships();

  const responders = new Map<string, Responder>();
  const byName = new Map<string, readonly string[]>();
  const refcount = new Map<string, number>();
  const drops = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  let replies = 0;
  let schedule: GratuitousSchedule = new Map();
  let cancelTick: (() => void) | undefined;
  let cancelRescan: (() => void) | undefined;
  let monitor: ChildProcess | undefined;
  let debounce: (() => void) | undefined;
  let closed = false;

  const owns = (ip: string) => refcount.has(ip);
  const isV6 = (ip: string) => ip.includes(':');

  function onFrame(r: Responder, frame: Buffer): void {
    const out = answerFrame(frame, r.mac, owns);
    if (out.kind === 'drop') { drops[out.reason]++; return; }
    opts.metrics.requestReceived(out.ip);
    try {
      r.capture.send(out.frame);
    } catch (err) {
      log.error({ op: out.protocol === 'arp' ? 'arpReply' : 'ndpReply', interface: r.iface.name, ip: out.ip, error: String(err), msg: 'failed to send response' });
      return;
    }
    replies++;
    opts.metrics.responseSent(out.ip);
    log.debug({ event: out.protocol === 'arp' ? 'arpRequest' : 'ndpRequest', interface: r.iface.name, ip: out.ip, msg: 'got request for service IP, sent response' });
  }

  function groupAction(r: Responder, ip: string, join: boolean): void {
    const group = solicitedNodeGroup(ip);
    if (group === undefined || !r.iface.ndp) return;
    try {
      if (join) memberships.join(group, r.iface.name); else memberships.leave(group, r.iface.name);
    } catch (err) {
      log.error({ op: join ? 'joinMulticastGroup' : 'leaveMulticastGroup', interface: r.iface.name, ip, group, error: String(err), msg: 'solicited-node multicast membership failed' });
    }
  }

  function closeResponder(r: Responder, why: string): void {
    for (const ip of refcount.keys()) if (isV6(ip)) groupAction(r, ip, false);
    r.capture.close();
    responders.delete(r.iface.name);
    if (r.iface.arp) log.info({ event: 'deleteARPResponder', interface: r.iface.name, reason: why, msg: 'deleted ARP responder for interface' });
    if (r.iface.ndp) log.info({ event: 'deleteNDPResponder', interface: r.iface.name, reason: why, msg: 'deleted NDP responder for interface' });
  }

  function openResponder(iface: Layer2Interface, bufferBytes: number): void {
    const mac = parseMac(iface.mac)!;
    const protocols = [iface.arp ? 'arp' : '', iface.ndp ? '(icmp6 and ip6[40] == 135)' : ''].filter(Boolean).join(' or ');
    // Our own frames come back through the capture; drop them in the kernel's BPF, not in JavaScript.
    const filter = `(${protocols}) and not ether src ${iface.mac}`;
    let r: Responder | undefined;
    try {
      const capture = open(iface.name, filter, bufferBytes, (frame) => { if (r) onFrame(r, frame); });
      r = { iface, mac, capture };
    } catch (err) {
      log.error({ op: iface.arp ? 'createARPResponder' : 'createNDPResponder', interface: iface.name, error: String(err), msg: 'failed to create responder' });
      return;
    }
    responders.set(iface.name, r);
    for (const ip of refcount.keys()) if (isV6(ip)) groupAction(r, ip, true);
    if (iface.arp) log.info({ event: 'createARPResponder', interface: iface.name, bufferBytes, msg: 'created ARP responder for interface' });
    if (iface.ndp) log.info({ event: 'createNDPResponder', interface: iface.name, bufferBytes, msg: 'created NDP responder for interface' });
  }

  function rescan(): void {
    if (closed) return;
    const result = scan();
    for (const e of result.errors) log.error({ op: 'getInterfaces', interface: e.name, error: e.error, msg: 'cannot read interface; skipped' });
    const wanted = new Map(result.interfaces.filter((i) => opts.interfaceFilter?.(i.name) ?? true).map((i) => [i.name, i]));
    for (const r of [...responders.values()]) {
      const w = wanted.get(r.iface.name);
      if (w === undefined) closeResponder(r, 'interface no longer qualifies');
      else if (w.mac !== r.iface.mac || w.arp !== r.iface.arp || w.ndp !== r.iface.ndp) closeResponder(r, 'interface changed');
    }
    const target = Math.max(1, Math.min(perMax, Math.floor(total / Math.max(1, wanted.size))));
    const fresh = [...wanted.values()].filter((i) => !responders.has(i.name));
    const used = [...responders.values()].reduce((s, r) => s + r.capture.bufferBytes, 0);
    if (fresh.length > 0 && used + fresh.length * target > total) {
      // More interfaces than the budget allows at their current size: shrink the big rings to the new share.
      for (const r of [...responders.values()]) {
        if (r.capture.bufferBytes <= target) continue;
        closeResponder(r, 'capture buffer resized');
        fresh.push(r.iface);
      }
    }
    for (const iface of fresh) openResponder(iface, target);
  }

  function burst(ip: string): void {
    let packets = 0;
    for (const r of responders.values()) {
      if (isV6(ip) ? !r.iface.ndp : !r.iface.arp) continue;
      for (const frame of gratuitousFrames(ip, r.mac)) {
        try { r.capture.send(frame); packets++; } catch (err) {
          log.error({ op: 'gratuitous', interface: r.iface.name, ip, error: String(err), msg: 'failed to send gratuitous packet' });
        }
      }
    }
    if (packets > 0) opts.metrics.gratuitousSent(ip, packets);
  }

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

  function acquire(ip: string): void {
    const n = refcount.get(ip) ?? 0;
    refcount.set(ip, n + 1);
    if (n === 0 && isV6(ip)) for (const r of responders.values()) groupAction(r, ip, true);
  }

  function release(ip: string): void {
    const n = refcount.get(ip) ?? 0;
    if (n > 1) { refcount.set(ip, n - 1); return; }
    refcount.delete(ip);
    if (isV6(ip)) for (const r of responders.values()) groupAction(r, ip, false);
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
      const canonical: string[] = [];
      for (const s of ips) {
        const ip = parseIp(s);
        if (ip === undefined) { log.error({ op: 'setBalancer', service: name, ip: s, error: 'not an IP address', msg: 'ignoring invalid IP' }); continue; }
        const key = formatIp(ip);
        if (!canonical.includes(key)) canonical.push(key);
      }
      const before = byName.get(name) ?? [];
      for (const ip of canonical) if (!before.includes(ip)) acquire(ip);
      for (const ip of before) if (!canonical.includes(ip)) release(ip);
      if (canonical.length === 0) byName.delete(name); else byName.set(name, canonical);
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
      for (const ip of ips) release(ip);
    },
    rescan,
    stats() {
      const interfaces = [...responders.values()].map((r) => ({ name: r.iface.name, arp: r.iface.arp, ndp: r.iface.ndp, bufferBytes: r.capture.bufferBytes }));
      return {
        interfaces, ringBytes: interfaces.reduce((s, i) => s + i.bufferBytes, 0), owned: [...refcount.keys()].sort(),
        drops: { ...drops }, replies,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      cancelTick?.(); cancelRescan?.(); debounce?.();
      monitor?.kill();
      for (const r of [...responders.values()]) closeResponder(r, 'announcer closed');
      refcount.clear();
      byName.clear();
      await memberships.close();
    },
  };
}
