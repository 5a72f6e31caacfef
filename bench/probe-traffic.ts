/**
 * Probe traffic against detection time (issue 11 goal "no more than keepalived's traffic"), in the deterministic
 * simulation (src/testing/membership/sim.ts: the real reducer and sealed v2 frames, 0.2–0.5 ms LAN latency). For each
 * timing variant and cluster size: UDP packets and bytes sent per node per second over a quiet 30 s window (bytes
 * counted as IP packets: frame + 28 B IPv4/UDP headers, as nftables counts them), kill → every survivor agrees
 * it is dead (p50/p99 over PROBE_TRAFFIC_TRIALS kills), and false deaths over 60 s at 5 % loss and while one
 * member's event loop stalls 250 ms every 2 s. keepalived at 100 ms adverts for reference: the MASTER sends 10
 * packets/s of 32 B (IPv4 VRRPv3, one address), BACKUPs none.
 * Usage: `npm run bench -- probe-traffic`; PROBE_TRAFFIC_SIZES=3,10,50, PROBE_TRAFFIC_VARIANTS=name,… (see VARIANTS).
 */
import { MembershipSim } from '../src/testing/membership/sim.js';
import { DEFAULT_TIMING, type MembershipTiming } from '../src/core/membership/types.js';
import { percentile } from './membership.js';
import type { BenchResult } from './types.js';

const IP_UDP_BYTES = 28;
const SIZES = (process.env['PROBE_TRAFFIC_SIZES'] ?? '2,3,10,50').split(',').map(Number);
const TRIALS = Number(process.env['PROBE_TRAFFIC_TRIALS'] ?? 60);

/**
 * Timing variants, by name: the default (passive liveness: a round passes over members heard from within 4 rounds,
 * 2 with 2 members; suspicion 1.5 rounds), the previous default (a 2-round window and 2-round suspicion), SWIM as
 * published (every round pings) at 100 and 200 ms rounds, a 3-round window, and the default at 200 ms rounds.
 */
export const VARIANTS: Record<string, MembershipTiming> = {
  default: DEFAULT_TIMING,
  'window-2': { ...DEFAULT_TIMING, recentContactMult: 2, suspicionMult: 2 },
  'swim-100ms': { ...DEFAULT_TIMING, recentContactMult: 0, suspicionMult: 2 },
  'swim-200ms': { ...DEFAULT_TIMING, recentContactMult: 0, suspicionMult: 2, probeIntervalMs: 200, probeTimeoutMs: 100 },
  'window-3': { ...DEFAULT_TIMING, recentContactMult: 3 },
  'default-200ms': { ...DEFAULT_TIMING, probeIntervalMs: 200, probeTimeoutMs: 100 },
};

interface Figures { pkts: number; bytes: number; p50: number; p99: number; falseLoss: number; falseStall: number }

function converged(size: number, timing: MembershipTiming, seed: number, loss = 0): MembershipSim {
  const sim = new MembershipSim({ size, seed, timing, loss });
  sim.startAll();
  const all = sim.members.map((_, i) => i);
  if (sim.runUntilTrue(() => sim.agree(all), 60_000, 50) === undefined) throw new Error(`${size} members did not converge`);
  sim.run(3_000);
  return sim;
}

const live = (sim: MembershipSim): number[] => sim.members.map((_, i) => i).filter((i) => !sim.members[i]!.killed);
const downs = (sim: MembershipSim, since: number): number => sim.observations.filter((o) => o.kind === 'down' && o.at >= since).length;

export function measure(size: number, timing: MembershipTiming, trials: number, seed: number): Figures {
  let sim = converged(size, timing, seed);
  const p0 = sim.members.map((m) => m.packetsSent);
  const b0 = sim.members.map((m) => m.udpBytesSent);
  const window = 30_000;
  sim.run(window);
  const pkts = sim.members.reduce((a, m, i) => a + m.packetsSent - p0[i]!, 0);
  const bytes = sim.members.reduce((a, m, i) => a + m.udpBytesSent - b0[i]!, 0) + IP_UDP_BYTES * pkts;
  const times: number[] = [];
  let kills = 0;
  for (let t = 0; t < trials; t++) {
    if (kills >= Math.max(1, Math.floor(size / 10))) { sim = converged(size, timing, seed + 7919 * (t + 1)); kills = 0; }
    sim.run(200 + sim.random() * 1000);
    const alive = live(sim);
    const victim = alive[1 + Math.floor(sim.random() * (alive.length - 1))]!;
    sim.kill(victim);
    kills++;
    const took = sim.runUntilTrue(() => sim.agree(live(sim)), 30_000, 1);
    if (took === undefined) throw new Error(`${size}: death not agreed in 30 s`);
    times.push(took);
  }
  times.sort((a, b) => a - b);
  // False deaths: 60 s at 5 % loss; then 60 s with member 0 stalling 250 ms every 2 s (it must refute in time).
  const lossy = converged(size, timing, seed + 1, 0.05);
  const l0 = lossy.now;
  lossy.run(60_000);
  const stally = converged(size, timing, seed + 2);
  const s0 = stally.now;
  for (let i = 0; i < 30; i++) { stally.stall(0, 250); stally.run(2_000); }
  const secs = window / 1000;
  return { pkts: pkts / size / secs, bytes: bytes / size / secs, p50: percentile(times, 50), p99: percentile(times, 99), falseLoss: downs(lossy, l0), falseStall: downs(stally, s0) };
}

export async function run(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const names = process.env['PROBE_TRAFFIC_VARIANTS']?.split(',') ?? Object.keys(VARIANTS);
  for (const name of names) {
    const timing = VARIANTS[name];
    if (!timing) throw new Error(`unknown variant ${name}`);
    for (const size of SIZES) {
      const f = measure(size, timing, TRIALS, 100 + size);
      const line = `${name} N=${size}: ${f.pkts.toFixed(1)} pkt/s ${f.bytes.toFixed(0)} B/s per node; kill→agreed p50 ${f.p50.toFixed(0)} p99 ${f.p99.toFixed(0)} ms; false deaths: 5% loss ${f.falseLoss}, 250 ms stalls ${f.falseStall}`;
      console.log(`  ${line}`);
      out.push({ name: `${name} ${size} members: UDP packets sent per node`, value: Number(f.pkts.toFixed(1)), unit: 'pkt/s', reference: { name: 'keepalived MASTER, 100 ms adverts', value: 10 }, note: line });
    }
  }
  return out;
}
