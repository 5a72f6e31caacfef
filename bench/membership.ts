/**
 * Membership (issue 11): detection time and gossip bandwidth per node at 10, 50 and 200 members.
 *
 * Simulation (src/testing/membership/sim.ts: the real reducer and sealed v2 frames, a fake LAN with 0.2–0.5 ms
 * latency, no loss): per size, members are killed one after another (TRIALS per size) and we time
 * kill → every survivor has declared it dead. The same-run reference is the same simulator with
 * hashicorp memberlist's DefaultLANConfig timing (what MetalLB v0.11 runs: 1 s probes, 500 ms timeout,
 * suspicion ×4 up to ×6, gossip 200 ms), i.e. the detector v0.11 would be with our implementation.
 * Bandwidth: frames (header, body, tag; no IP/UDP headers) sent per node per second over a quiet
 * window, UDP gossip and TCP state sync apart.
 *
 * Real sockets: MembershipNode (src/adapters/membership/transport.ts) with AES-256-GCM, each member with its
 * own UDP socket and TCP listener on its own loopback address 127.<b>.x.y, all in this one process, spread over
 * one worker thread per core (bench/membership-group-helper.ts; one event loop for all 200 saturated it and the
 * busy-node guard then slowed every member's probing). Detection = close() of a member (no goodbye) → every
 * survivor's alive() lacks it; bandwidth = frames sent per node per second, IP/UDP headers excluded, over a quiet
 * window of at least two state-sync intervals. The note gives, per worker thread, event-loop utilisation, loop delay
 * (p99, max), stalls ≥ 250 ms and GC time, the process's CPU (% of one core), the members' own verdicts (suspicions,
 * deaths, refutations, late timers) and UDP receive-buffer drops per phase: a loop that stalls freezes all its
 * members at once, so on a shared machine run it as `nice -n -10 node dist/bench/run-all.js membership`.
 * Progress lines go to stderr.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { pushPullIntervalMs } from '../src/core/membership/timing.js';
import { MembershipSim } from '../src/testing/membership/sim.js';
import { DEFAULT_TIMING, type MembershipTiming } from '../src/core/membership/types.js';
import type { BenchResult } from './types.js';

/** MEMBERSHIP_BENCH_SIZES=10,50 for a subset; MEMBERSHIP_BENCH_SIM=0 skips the simulation. */
const SIZES = (process.env['MEMBERSHIP_BENCH_SIZES'] ?? '10,50,200').split(',').map(Number);
const TRIALS = Number(process.env['MEMBERSHIP_BENCH_TRIALS'] ?? 20);

/** memberlist DefaultLANConfig, as MetalLB v0.11 uses it (spec §5.3, peers.md). */
export const MEMBERLIST_LAN: MembershipTiming = {
  ...DEFAULT_TIMING,
  probeIntervalMs: 1000, probeTimeoutMs: 500, indirectChecks: 3, suspicionMult: 4, suspicionMaxMult: 6,
  suspicionConfirmations: 2, retransmitMult: 4, gossipIntervalMs: 200, gossipFanout: 3, pushPullIntervalMs: 30_000,
  lateToleranceMs: Number.POSITIVE_INFINITY, recentContactMult: 0,
};

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface SimFigures { p50: number; p99: number; max: number; udpBps: number; tcpBps: number; falseDowns: number }

function converged(size: number, timing: MembershipTiming, seed: number): MembershipSim {
  const sim = new MembershipSim({ size, seed, timing });
  sim.startAll();
  if (sim.runUntilTrue(() => sim.agree(live(sim)), 60_000, 50) === undefined) throw new Error(`${size} members did not converge`);
  sim.run(5_000);
  return sim;
}

const live = (sim: MembershipSim): number[] => sim.members.map((_, i) => i).filter((i) => !sim.members[i]!.killed);

function simulate(size: number, timing: MembershipTiming, trials: number, seed: number): SimFigures {
  let sim = converged(size, timing, seed);
  // Quiet-window bandwidth first, with everyone alive; long enough for several state syncs per node.
  const window = Math.max(30_000, 2 * timing.pushPullIntervalMs * (1 + Math.ceil(Math.log2(Math.max(size, 32) / 32))));
  const udp0 = sim.members.map((m) => m.udpBytesSent);
  const tcp0 = sim.members.map((m) => m.tcpBytesSent);
  sim.run(window);
  const udpBps = sim.members.reduce((a, m, i) => a + m.udpBytesSent - udp0[i]!, 0) / size / (window / 1000);
  const tcpBps = sim.members.reduce((a, m, i) => a + m.tcpBytesSent - tcp0[i]!, 0) / size / (window / 1000);
  const times: number[] = [];
  let falseDowns = 0;
  let killed: string[] = [];
  const countFalse = (): void => { falseDowns += sim.observations.filter((o) => o.kind === 'down' && !killed.includes(o.member.name)).length; };
  for (let t = 0; t < trials; t++) {
    // At most a tenth of the members die per cluster, so N stays about the nominal size.
    if (killed.length >= Math.max(1, Math.floor(size / 10))) { countFalse(); sim = converged(size, timing, seed + 7919 * (t + 1)); killed = []; }
    const alive = live(sim);
    const victim = alive[1 + Math.floor(sim.random() * (alive.length - 1))]!;
    killed.push(sim.members[victim]!.name);
    sim.kill(victim);
    const took = sim.runUntilTrue(() => sim.agree(live(sim)), 30_000, 1);
    if (took === undefined) throw new Error(`${size} members: death of ${sim.members[victim]!.name} not agreed in 30 s`);
    times.push(took);
    sim.run(500 + sim.random() * 1000);
  }
  countFalse();
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), max: times.at(-1)!, udpBps, tcpBps, falseDowns };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs: number): Promise<number | undefined> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    if (check()) return performance.now() - start;
    await sleep(2);
  }
  return undefined;
}

interface Verdicts { suspectedLocal: number; failedLocal: number; refuted: number; lateTimers: number }
interface ThreadLoad { elu: number; lag: { p50: number; p99: number; max: number }; stalls: number[]; gcMs: number; gcMax: number }
interface RealFigures {
  p50: number; p99: number; udpBps: number; tcpBps: number; falseDowns: number; falseMembers: string; trials: number; convergeMs: number;
  threads: number; rcvbufErrors: number; rcvbufQuiet: number; rcvbufKills: number;
  /** Per worker thread: over the quiet window, and over the kills. */
  quiet: ThreadLoad[]; kills: ThreadLoad[];
  /** Summed over the members, from the end of the join to the end of the kills. */
  verdicts: Verdicts; maxHealth: number;
  /** Whole process (main thread + workers), % of one core, over the quiet window and over the kills. */
  cpuQuiet: number; cpuKills: number;
  load: string;
}

/** UDP datagrams this network namespace dropped for a full socket receive buffer (/proc/net/snmp), so far. */
export function udpRcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  return Number(values[names.indexOf('RcvbufErrors')] ?? NaN);
}

type SentMsg = { kind: 'sent'; udp: number; tcp: number; verdicts: Verdicts; health: number } & ThreadLoad;
type GroupMsg = { kind: 'started'; addrs: Record<string, string> } | { kind: 'view'; name: string; alive: string[] }
  | SentMsg | { kind: 'closed'; name: string } | { kind: 'stopped' };

/**
 * One worker thread running a group of members (bench/membership-group-helper.ts). A reply that arrives before
 * anyone waits for it is kept (the second group's `started` often comes while the first one's is awaited); a
 * worker that dies fails every wait, present and future, instead of leaving it pending.
 */
class Group {
  readonly worker: Worker;
  private readonly waiting = new Map<string, Array<{ resolve: (m: GroupMsg) => void; reject: (e: Error) => void }>>();
  private readonly unclaimed = new Map<string, GroupMsg[]>();
  private dead: Error | undefined;
  constructor(members: Array<{ name: string; bindAddr: string }>, onView: (name: string, alive: string[]) => void) {
    this.worker = new Worker(new URL('./membership-group-helper.js', import.meta.url), { workerData: { members, secret: 'bench secret' } });
    this.worker.on('message', (m: GroupMsg) => {
      if (m.kind === 'view') { onView(m.name, m.alive); return; }
      const w = this.waiting.get(m.kind)?.shift();
      if (w) { w.resolve(m); return; }
      this.unclaimed.set(m.kind, [...(this.unclaimed.get(m.kind) ?? []), m]);
    });
    const fail = (err: Error): void => {
      this.dead ??= err;
      for (const q of this.waiting.values()) for (const w of q.splice(0)) w.reject(err);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`membership bench worker exited (code ${code})`)));
  }
  next<K extends GroupMsg['kind']>(kind: K): Promise<Extract<GroupMsg, { kind: K }>> {
    const kept = this.unclaimed.get(kind)?.shift();
    if (kept) return Promise.resolve(kept as Extract<GroupMsg, { kind: K }>);
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      const q = this.waiting.get(kind) ?? [];
      q.push({ resolve: resolve as (m: GroupMsg) => void, reject });
      this.waiting.set(kind, q);
    });
  }
  async ask<K extends GroupMsg['kind']>(msg: object, reply: K): Promise<Extract<GroupMsg, { kind: K }>> {
    const p = this.next(reply);
    this.worker.postMessage(msg);
    return p;
  }
}

/** Process CPU time (all threads), µs. */
const cpuMicros = (): number => { const u = process.cpuUsage(); return u.user + u.system; };
const loadavg = (): string => os.loadavg().map((x) => x.toFixed(1)).join(' ');
const progress = (msg: string): void => { process.stderr.write(`  [membership ${new Date().toISOString().slice(11, 19)}] ${msg} (load ${loadavg()})\n`); };

/**
 * `size` real members on 127.<b>.x.y, spread over one worker thread per core (many members per event loop, one
 * process): join through member 0, a quiet window for bandwidth, then `trials` crashes (close() without goodbye),
 * each timed from the close to every survivor's alive() lacking the victim.
 */
async function real(size: number, trials: number): Promise<RealFigures> {
  const b = 100 + Math.floor(Math.random() * 100);
  const drops0 = udpRcvbufErrors();
  const threads = Math.max(1, Math.min(os.cpus().length, Math.ceil(size / 5)));
  const views = new Map<string, Set<string>>();
  const live = new Set<string>();
  // Live members whose view is not exactly `live`: agreement is this set empty, kept up to date per view message
  // (the check must not cost O(N²) every poll: this thread shares the 2 cores with the members' threads).
  const disagreeing = new Set<string>();
  const falsePairs = new Set<string>();
  const falseDuringTrials = new Set<string>();
  let inTrials = false;
  const recheck = (name: string): void => {
    const v = views.get(name);
    const ok = v !== undefined && v.size === live.size && [...live].every((m) => v.has(m));
    if (ok) disagreeing.delete(name); else disagreeing.add(name);
  };
  const onView = (name: string, alive: string[]): void => {
    const v = new Set(alive);
    views.set(name, v);
    if (!live.has(name)) return;
    recheck(name);
    if (!disagreeing.has(name)) return;
    for (const m of live) if (!v.has(m)) { falsePairs.add(`${name}>${m}`); if (inTrials) falseDuringTrials.add(m); }
  };
  const members = Array.from({ length: size }, (_, i) => ({ name: `node-${i}`, bindAddr: `127.${b}.${i >> 8}.${(i & 255) + 1}` }));
  const groups = Array.from({ length: threads }, (_, t) => new Group(members.filter((_, i) => i % threads === t), onView));
  const groupOf = (i: number): Group => groups[i % threads]!;
  try {
    const addrs: Record<string, string> = {};
    for (const g of groups) Object.assign(addrs, (await g.next('started')).addrs);
    progress(`${size} members started on ${threads} threads`);
    for (const m of members) { live.add(m.name); views.set(m.name, views.get(m.name) ?? new Set([m.name])); }
    for (const m of members) recheck(m.name);
    const agree = (): boolean => disagreeing.size === 0;
    // Join through member 0, and again every 2 s for whoever is still missing members (v0.11's discovery
    // rejoins every minute; a join sync can fail while the event loops are swamped by the join flood).
    const startJoin = performance.now();
    const seed0 = addrs['node-0']!;
    for (const g of groups) g.worker.postMessage({ kind: 'join', seeds: [seed0], total: size });
    while (!agree()) {
      if (performance.now() - startJoin > 120_000) throw new Error(`${size} real members did not converge in 120 s (${disagreeing.size} still disagree)`);
      await sleep(2_000);
      const other = addrs[`node-${1 + Math.floor(Math.random() * (size - 1))}`]!;
      for (const g of groups) g.worker.postMessage({ kind: 'join', seeds: [seed0, other], total: size });
    }
    const convergeMs = performance.now() - startJoin;
    progress(`joined in ${(convergeMs / 1000).toFixed(1)} s`);
    falsePairs.clear();
    await sleep(5_000);
    const sent = async (): Promise<{ udp: number; tcp: number; threads: ThreadLoad[]; verdicts: Verdicts; health: number }> => {
      const all = await Promise.all(groups.map((g) => g.ask({ kind: 'sent' }, 'sent')));
      const verdicts = { suspectedLocal: 0, failedLocal: 0, refuted: 0, lateTimers: 0 };
      for (const x of all) for (const k of Object.keys(verdicts) as Array<keyof Verdicts>) verdicts[k] += x.verdicts[k];
      return {
        udp: all.reduce((a, x) => a + x.udp, 0), tcp: all.reduce((a, x) => a + x.tcp, 0), threads: all.map((x) => ({ elu: x.elu, lag: x.lag, stalls: x.stalls, gcMs: x.gcMs, gcMax: x.gcMax })),
        verdicts, health: Math.max(...all.map((x) => x.health)),
      };
    };
    const s0 = await sent();
    const drops1 = udpRcvbufErrors();
    const cpu0 = cpuMicros();
    const t0 = performance.now();
    // Long enough for about two state syncs per member at this size.
    await sleep(Math.max(30_000, 2 * pushPullIntervalMs(DEFAULT_TIMING, size)));
    const s1 = await sent();
    const secs = (performance.now() - t0) / 1000;
    const cpuQuiet = (cpuMicros() - cpu0) / 1e6 / secs * 100;
    const rcvbufQuiet = udpRcvbufErrors() - drops1;
    const udpBps = (s1.udp - s0.udp) / size / secs;
    const tcpBps = (s1.tcp - s0.tcp) / size / secs;
    progress(`quiet window ${secs.toFixed(0)} s: ${Math.round(udpBps)} B/s UDP, ${Math.round(tcpBps)} B/s TCP per node; process CPU ${cpuQuiet.toFixed(0)} %; loops ${loops(s1.threads)}`);
    const times: number[] = [];
    const falseBeforeTrials = new Set([...falsePairs].map((p) => p.split('>')[1]!));
    inTrials = true;
    const cpu1 = cpuMicros();
    const drops2 = udpRcvbufErrors();
    const t1 = performance.now();
    for (let t = 0; t < trials && live.size > size / 2; t++) {
      const names = [...live];
      const victim = names[1 + Math.floor(Math.random() * (names.length - 1))]!;
      live.delete(victim);
      disagreeing.delete(victim);
      for (const m of live) recheck(m);
      const i = Number(victim.slice('node-'.length));
      const start = performance.now();
      await groupOf(i).ask({ kind: 'close', name: victim }, 'closed');
      const took = await until(agree, 30_000);
      if (took === undefined) throw new Error(`${size} real members: death of ${victim} not agreed in 30 s (${disagreeing.size} disagree)`);
      times.push(performance.now() - start);
      progress(`kill ${t + 1}/${trials} ${victim}: ${Math.round(times.at(-1)!)} ms`);
      await sleep(1_000);
    }
    const s2 = await sent();
    const cpuKills = (cpuMicros() - cpu1) / 1e6 / ((performance.now() - t1) / 1000) * 100;
    times.sort((x, y) => x - y);
    const verdicts = { ...s2.verdicts };
    for (const k of Object.keys(verdicts) as Array<keyof Verdicts>) verdicts[k] -= s0.verdicts[k];
    return {
      p50: percentile(times, 50), p99: percentile(times, 99), udpBps, tcpBps, falseDowns: falsePairs.size,
      falseMembers: `${falseBeforeTrials.size} before the kills, ${falseDuringTrials.size} during`, trials: times.length, convergeMs,
      threads, rcvbufErrors: udpRcvbufErrors() - drops0, rcvbufQuiet, rcvbufKills: udpRcvbufErrors() - drops2, quiet: s1.threads, kills: s2.threads, verdicts,
      maxHealth: Math.max(s1.health, s2.health), cpuQuiet, cpuKills, load: loadavg(),
    };
  } finally {
    await Promise.all(groups.map(async (g) => {
      try { await Promise.race([g.ask({ kind: 'stop' }, 'stopped'), sleep(10_000)]); } catch { /* gone */ }
      await g.worker.terminate();
    }));
  }
}

const loops = (ts: ThreadLoad[]): string => ts.map((t) => `${(100 * t.elu).toFixed(0)} % busy, lag p99 ${t.lag.p99.toFixed(0)} / max ${t.lag.max.toFixed(0)} ms, stalls ≥ 250 ms [${t.stalls.join(' ')}], GC ${t.gcMs} ms (max ${t.gcMax})`).join('; ');

export async function run(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const size of SIZES) {
    let r: RealFigures;
    try {
      r = await real(size, Math.min(TRIALS, 10));
    } catch (err) {
      out.push({ name: `loopback ${size} members`, value: NaN, unit: '', note: `FAILED: ${(err as Error).message}` });
      continue;
    }
    const v = r.verdicts;
    const note = `real UDP+TCP on 127.x.y.z, AES-256-GCM, one process, ${r.threads} event loops (worker threads); ${r.trials} kills; false deaths ${r.falseDowns} (observer, member pairs; live members wrongly dropped: ${r.falseMembers}); after the join: ${v.suspectedLocal} suspicions and ${v.failedLocal} deaths raised by the members' own probes/timers, ${v.refuted} refutations, ${v.lateTimers} late timers, max local health ${r.maxHealth}; UDP receive-buffer drops ${r.rcvbufErrors} (whole namespace; ${r.rcvbufQuiet} in the quiet window, ${r.rcvbufKills} during the kills, the rest in the join); joined in ${(r.convergeMs / 1000).toFixed(1)} s; process CPU ${r.cpuQuiet.toFixed(0)} % quiet / ${r.cpuKills.toFixed(0)} % during kills (of one core); loops quiet: ${loops(r.quiet)}; during kills: ${loops(r.kills)}; load average ${r.load}`;
    out.push({ name: `loopback ${size} members: kill → all agree dead, p50`, value: Math.round(r.p50), unit: 'ms', note });
    out.push({ name: `loopback ${size} members: kill → all agree dead, p99`, value: Math.round(r.p99), unit: 'ms', note });
    out.push({ name: `loopback ${size} members: UDP gossip per node`, value: Math.round(r.udpBps), unit: 'B/s', note: 'frames, no IP/UDP headers' });
    out.push({ name: `loopback ${size} members: TCP state sync per node`, value: Math.round(r.tcpBps), unit: 'B/s', note: `push/pull every ${pushPullIntervalMs(DEFAULT_TIMING, size) / 1000} s; window ≥ 2 intervals` });
  }
  for (const size of process.env['MEMBERSHIP_BENCH_SIM'] === '0' ? [] : SIZES) {
    const ours = simulate(size, DEFAULT_TIMING, TRIALS, 1000 + size);
    const ml = simulate(size, MEMBERLIST_LAN, Math.min(TRIALS, 5), 2000 + size);
    const note = `simulated LAN, ${TRIALS} kills (memberlist timing: ${Math.min(TRIALS, 5)}); false deaths ${ours.falseDowns}`;
    out.push({ name: `sim ${size} members: kill → all agree dead, p50`, value: Math.round(ours.p50), unit: 'ms', reference: { name: 'memberlist LAN timing, same simulator', value: Math.round(ml.p50) }, note });
    out.push({ name: `sim ${size} members: kill → all agree dead, p99`, value: Math.round(ours.p99), unit: 'ms', reference: { name: 'memberlist LAN timing, same simulator', value: Math.round(ml.p99) }, note: `max ${Math.round(ours.max)} ms` });
    out.push({ name: `sim ${size} members: UDP gossip per node`, value: Math.round(ours.udpBps), unit: 'B/s', reference: { name: 'memberlist LAN timing', value: Math.round(ml.udpBps) }, note: 'sealed v2 frames (20 B header + 12 B tag), no IP/UDP headers' });
    out.push({ name: `sim ${size} members: TCP state sync per node`, value: Math.round(ours.tcpBps), unit: 'B/s', reference: { name: 'memberlist LAN timing', value: Math.round(ml.tcpBps) }, note: 'push/pull every 15 s × (1 + ceil(log2(N/32))) for N > 32' });
  }
  return out;
}
