/**
 * Membership (issue 11): detection time and gossip bandwidth per node at 10, 50 and 200 members.
 *
 * Simulation (src/testing/membership/sim.ts: the real reducer and body codec, a fake LAN with 0.2–0.5 ms
 * latency, no loss): per size, members are killed one after another (TRIALS per size) and we time
 * kill → every survivor has declared it dead. The same-run reference is the same simulator with
 * hashicorp memberlist's DefaultLANConfig timing (what MetalLB v0.11 runs: 1 s probes, 500 ms timeout,
 * suspicion ×4 up to ×6, gossip 200 ms), i.e. the detector v0.11 would be with our implementation.
 * Bandwidth: frames (header, body, tag; no IP/UDP headers) sent per node per second over a quiet
 * window, UDP gossip and TCP state sync apart.
 *
 * Real sockets: MembershipNode (src/adapters/membership/transport.ts) with AES-256-GCM, each member with its
 * own UDP socket and TCP listener on its own loopback address 127.<b>.x.y, all in this one process (one event
 * loop for all: at 200 members it is also a test of the late-timer guard). Detection = close() of a member
 * (no goodbye) → every survivor's alive() lacks it; bandwidth = frames sent per node per second, IP/UDP
 * headers excluded, over a quiet window.
 */
import { MembershipNode } from '../src/adapters/membership/transport.js';
import { realClock } from '../src/adapters/clock.js';
import type { Logger } from '../src/core/ports.js';
import { MembershipSim } from '../src/testing/membership/sim.js';
import { DEFAULT_TIMING, type MembershipTiming } from '../src/core/membership/types.js';
import type { BenchResult } from './types.js';

const SIZES = [10, 50, 200];
const TRIALS = Number(process.env['MEMBERSHIP_BENCH_TRIALS'] ?? 20);

/** memberlist DefaultLANConfig, as MetalLB v0.11 uses it (spec §5.3, peers.md). */
export const MEMBERLIST_LAN: MembershipTiming = {
  ...DEFAULT_TIMING,
  probeIntervalMs: 1000, probeTimeoutMs: 500, indirectChecks: 3, suspicionMult: 4, suspicionMaxMult: 6,
  suspicionConfirmations: 2, retransmitMult: 4, gossipIntervalMs: 200, gossipFanout: 3, pushPullIntervalMs: 30_000,
  lateToleranceMs: Number.POSITIVE_INFINITY,
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

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs: number): Promise<number | undefined> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    if (check()) return performance.now() - start;
    await sleep(2);
  }
  return undefined;
}

interface RealFigures { p50: number; p99: number; udpBps: number; tcpBps: number; falseDowns: number; trials: number; convergeMs: number }

async function real(size: number, trials: number): Promise<RealFigures> {
  const b = 100 + Math.floor(Math.random() * 100);
  const nodes: MembershipNode[] = [];
  try {
    for (let i = 0; i < size; i++) {
      nodes.push(await MembershipNode.start({
        name: `node-${i}`, bindAddr: `127.${b}.${i >> 8}.${(i & 255) + 1}`, bindPort: 0, secret: 'bench secret',
        timing: DEFAULT_TIMING, clock: realClock, logger: quiet,
      }));
    }
    const live = new Set(nodes);
    const agree = (): boolean => [...live].every((n) => n.alive().size === live.size && [...live].every((m) => n.alive().has(m.name)));
    // Join through member 0, and again every 2 s for whoever is still missing members (v0.11's discovery
    // rejoins every minute; a join sync can fail while the one event loop is swamped by the join flood).
    const startJoin = performance.now();
    for (const n of nodes.slice(1)) n.join([nodes[0]!.addr]);
    while (!agree()) {
      if (performance.now() - startJoin > 120_000) throw new Error(`${size} real members did not converge in 120 s`);
      await sleep(2_000);
      for (const n of nodes) if (n.alive().size < size) n.join([nodes[0]!.addr, nodes[1 + Math.floor(Math.random() * (size - 1))]!.addr]);
    }
    const convergeMs = performance.now() - startJoin;
    await sleep(5_000);
    const udp0 = nodes.map((n) => n.sent.udpBytes);
    const tcp0 = nodes.map((n) => n.sent.tcpBytes);
    const t0 = performance.now();
    await sleep(30_000);
    const secs = (performance.now() - t0) / 1000;
    const udpBps = nodes.reduce((a, n, i) => a + n.sent.udpBytes - udp0[i]!, 0) / size / secs;
    const tcpBps = nodes.reduce((a, n, i) => a + n.sent.tcpBytes - tcp0[i]!, 0) / size / secs;
    let falseDowns = 0;
    const gone = new Set<string>();
    for (const n of nodes) n.onChange(() => { for (const m of live) if (!n.alive().has(m.name) && live.has(n)) falseDowns++; });
    const times: number[] = [];
    for (let t = 0; t < trials && live.size > size / 2; t++) {
      const victim = [...live][1 + Math.floor(Math.random() * (live.size - 1))]!;
      live.delete(victim);
      gone.add(victim.name);
      await victim.close();
      const took = await until(agree, 30_000);
      if (took === undefined) throw new Error(`${size} real members: death of ${victim.name} not agreed in 30 s`);
      times.push(took);
      await sleep(1_000);
    }
    times.sort((x, y) => x - y);
    return { p50: percentile(times, 50), p99: percentile(times, 99), udpBps, tcpBps, falseDowns, trials: times.length, convergeMs };
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
}

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
    const note = `real UDP+TCP on 127.x.y.z, AES-256-GCM, one process; ${r.trials} kills; false deaths ${r.falseDowns}; joined in ${(r.convergeMs / 1000).toFixed(1)} s`;
    out.push({ name: `loopback ${size} members: kill → all agree dead, p50`, value: Math.round(r.p50), unit: 'ms', note });
    out.push({ name: `loopback ${size} members: kill → all agree dead, p99`, value: Math.round(r.p99), unit: 'ms', note });
    out.push({ name: `loopback ${size} members: UDP gossip per node`, value: Math.round(r.udpBps), unit: 'B/s', note: 'frames, no IP/UDP headers' });
    out.push({ name: `loopback ${size} members: TCP state sync per node`, value: Math.round(r.tcpBps), unit: 'B/s', note: '30 s window' });
  }
  for (const size of SIZES) {
    const ours = simulate(size, DEFAULT_TIMING, TRIALS, 1000 + size);
    const ml = simulate(size, MEMBERLIST_LAN, Math.min(TRIALS, 5), 2000 + size);
    const note = `simulated LAN, ${TRIALS} kills (memberlist timing: ${Math.min(TRIALS, 5)}); false deaths ${ours.falseDowns}`;
    out.push({ name: `sim ${size} members: kill → all agree dead, p50`, value: Math.round(ours.p50), unit: 'ms', reference: { name: 'memberlist LAN timing, same simulator', value: Math.round(ml.p50) }, note });
    out.push({ name: `sim ${size} members: kill → all agree dead, p99`, value: Math.round(ours.p99), unit: 'ms', reference: { name: 'memberlist LAN timing, same simulator', value: Math.round(ml.p99) }, note: `max ${Math.round(ours.max)} ms` });
    out.push({ name: `sim ${size} members: UDP gossip per node`, value: Math.round(ours.udpBps), unit: 'B/s', reference: { name: 'memberlist LAN timing', value: Math.round(ml.udpBps) }, note: 'frames incl. 40 B header+tag, no IP/UDP headers' });
    out.push({ name: `sim ${size} members: TCP state sync per node`, value: Math.round(ours.tcpBps), unit: 'B/s', reference: { name: 'memberlist LAN timing', value: Math.round(ml.tcpBps) }, note: 'push/pull every 15 s × (1 + ceil(log2(N/32))) for N > 32' });
  }
  return out;
}
