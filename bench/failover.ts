/**
 * Issue 11: layer-2 failover in the real lab — time from a fault of the owner to the client's first successful
 * TCP connect (and HTTP answer) through another node, the client opening a new connection every 10 ms
 * (src/testing/failover/probe-child.ts). Faults (src/testing/failover/lab-faults.ts): SIGKILL of the owner's
 * speaker, its link down, its speaker frozen (SIGSTOP), a graceful stop (SIGTERM: make-before-break) and port 7946
 * blocked on the owner (partition). Between trials the fault is undone and the lab settles (one owner, full
 * gossip, the client back on the owner); a settle that finds the client on another node counts as a false failover.
 *
 * Same run, two references:
 * - the floor: SIGKILL of the owner's speaker while the successor (by the hashring without the owner) is told
 *   directly — a layer-2 announcer already running in its namespace gets the VIP at the fault instant: the
 *   announcement, the client's ARP update and one connect, without any detection;
 * - MetalLB v0.11.0's own speaker (/tmp/mlb011/bin/speaker, built by ../shared/lab/metallb-v011/build.sh;
 *   MLB011_SPEAKER overrides) run alone in the same lab (ours stopped: both bind 7946 and answer ARP), through
 *   every fault but the out-of-service taint (v0.11 ignores it), on a single-stack Service (VIP_V011: v0.11
 *   announces only Services with one ingress IP). Missing binary: those rows say so.
 *
 * Env: FAILOVER_TRIALS (20), FAILOVER_V011_TRIALS (10), FAILOVER_FAULTS (comma list), METALLB_TS_FAILOVER_BENCH_PREFIX
 * (netns prefix, `mlfb-`). Needs root. `npm run bench -- failover` runs it alone (≈ 20 min).
 */
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { topologyNames, type LabNode } from '../src/lab/topology.js';
import { curlOnce } from '../src/lab/observe.js';
import { electOwner } from '../src/core/election/owner.js';
import { startDaemon, stopPid, isAlive } from '../src/testing/cluster/processes.js';
import { startProbe, wallMs } from '../src/testing/failover/probe.js';
import { FAULTS, applyFault, labCli, labKubectl, speakerPid, undoFault, waitSettled, type Fault, type Lab } from '../src/testing/failover/lab-faults.js';
import { announcements, ownersOf } from '../src/lab/observe.js';
import { waitFor } from '../src/testing/cluster/processes.js';
import type { BenchResult } from './types.js';

const PREFIX = process.env['METALLB_TS_FAILOVER_BENCH_PREFIX'] ?? 'mlfb-';
const TRIALS = Number(process.env['FAILOVER_TRIALS'] ?? 20);
const V011_TRIALS = Number(process.env['FAILOVER_V011_TRIALS'] ?? 10);
const BENCHED: readonly Fault[] = (process.env['FAILOVER_FAULTS']?.split(',') as Fault[] | undefined) ?? FAULTS;
const V011_SPEAKER = process.env['MLB011_SPEAKER'] ?? '/tmp/mlb011/bin/speaker';
const VIP = '192.0.2.100';
/**
 * v0.11's speaker announces only Services with exactly one ingress IP (spec §4: `noIPAllocated` otherwise), so the
 * lab's dual-stack demo Service is not one it announces: its rows use a single-stack Service on this IP.
 */
const VIP_V011 = '192.0.2.150';
const V011_SERVICE = {
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'demo-v011', namespace: 'default' },
  spec: {
    type: 'LoadBalancer', loadBalancerIP: VIP_V011, ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'], selector: { app: 'demo' },
    ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
  },
};
/** v0.11's faults: all of ours but the out-of-service taint, which v0.11 ignores (it would never fail over). */
const V011_FAULTS: readonly Fault[] = ['sigkill', 'link-down', 'sigstop', 'sigterm', 'partition'];

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const round = (x: number) => Math.round(x);

interface Trials { times: number[]; failures: number[]; falseFailovers: number }

/** Settles, then returns the owner and a probe whose first answer came from it (re-settling after a false failover). */
async function settledProbe(nodes: readonly LabNode[], client: string, trials: Trials, settle: () => Promise<LabNode>, ip = VIP) {
  for (let attempt = 0; ; attempt++) {
    const owner = await settle();
    const probe = await startProbe({ netns: client, ip, port: 80, avoidNode: owner.name, deadlineMs: 60_000 });
    if (probe.firstNode === owner.name) return { owner, probe };
    probe.kill();
    trials.falseFailovers++;
    if (attempt >= 5) throw new Error(`the client keeps reaching ${probe.firstNode} instead of the owner ${owner.name}`);
  }
}

async function measure(trials: Trials, probe: Awaited<ReturnType<typeof startProbe>>, act: () => Promise<void> | void): Promise<void> {
  const t0 = wallMs();
  await act();
  try {
    const r = await probe.result;
    trials.times.push(r.at - t0);
    trials.failures.push(r.failures);
  } finally {
    probe.kill();
  }
}

/** A layer-2 announcer in a node namespace (src/testing/layer2-announcer-child.ts), for the floor. */
class AnnouncerChild {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private id = 0;
  constructor(netns: string) {
    const main = fileURLToPath(new URL('../src/testing/layer2-announcer-child.js', import.meta.url));
    this.proc = spawn('ip', ['netns', 'exec', netns, process.execPath, main], { env: { ...process.env, L2_INTERFACES: 'eth0', L2_LOG_LEVEL: 'warn' } });
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }
  async ready(): Promise<void> { await this.lines.next(); }
  /** Sends a command without waiting (the floor's instant), returns the answer's promise. */
  send(op: string, extra: Record<string, unknown> = {}): Promise<unknown> {
    this.proc.stdin.write(`${JSON.stringify({ id: ++this.id, op, ...extra })}\n`);
    return this.lines.next();
  }
  close(): void { this.proc.stdin.end(); setTimeout(() => this.proc.kill('SIGKILL'), 2000).unref(); }
}

export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error('the failover bench needs root (ip netns)');
  const lab: Lab = { dir: join(tmpdir(), `metallb-ts-${PREFIX}bench`), prefix: PREFIX };
  await labCli(lab, ['down']);
  let up = await labCli(lab, ['up']);
  // On a loaded machine a speaker can miss lab up's readiness deadline: one more try before giving up.
  if (up.code !== 0 || !/^speaker: running/m.test(up.output)) { await labCli(lab, ['down']); up = await labCli(lab, ['up']); }
  const announcers = new Map<string, AnnouncerChild>();
  const v011Pids = new Map<string, number>();
  try {
    if (up.code !== 0) throw new Error(`lab up failed: ${up.output.slice(-500)}`);
    if (!/^speaker: running/m.test(up.output)) throw new Error(`the lab has no speakers: ${up.output.split('\n').filter((l) => l.startsWith('speaker:')).join(' / ')}`);
    const { nodes, client } = topologyNames(PREFIX);
    const settle = () => waitSettled(nodes, client, VIP, 120_000);
    const results: BenchResult[] = [];

    const ours = new Map<Fault, Trials>();
    for (const fault of BENCHED) {
      const trials: Trials = { times: [], failures: [], falseFailovers: 0 };
      ours.set(fault, trials);
      for (let i = 0; i < TRIALS; i++) {
        const { owner, probe } = await settledProbe(nodes, client, trials, settle);
        await measure(trials, probe, () => applyFault(lab, fault, owner));
        await undoFault(lab, fault, owner);
      }
      process.stdout.write(`  ${fault}: ${trials.times.map(round).join(' ')} ms\n`);
    }

    // The floor: the successor told directly (no detection), the owner's speaker SIGKILLed at the same instant.
    const floor: Trials = { times: [], failures: [], falseFailovers: 0 };
    for (let i = 0; i < TRIALS; i++) {
      const { owner, probe } = await settledProbe(nodes, client, floor, settle);
      const successor = nodes.find((n) => n.name === electOwner(VIP, nodes.filter((m) => m !== owner).map((m) => m.name)))!;
      let child = announcers.get(successor.name);
      if (!child) {
        probe.kill();
        child = new AnnouncerChild(successor.netns);
        announcers.set(successor.name, child);
        await child.ready();
        i--;
        continue;
      }
      const told = child;
      await measure(floor, probe, () => { void told.send('set', { name: 'floor', ips: [VIP] }); process.kill(speakerPid(lab, owner), 'SIGKILL'); });
      await told.send('delete', { name: 'floor' });
      await undoFault(lab, 'sigkill', owner);
    }
    for (const child of announcers.values()) child.close();
    announcers.clear();
    process.stdout.write(`  floor: ${floor.times.map(round).join(' ')} ms\n`);

    const floorP50 = percentile(floor.times, 50);
    const floorP99 = percentile(floor.times, 99);
    for (const [fault, t] of ours) {
      results.push({
        name: `${fault} of the owner → client's first connect via another node, p50`, value: round(percentile(t.times, 50)), unit: 'ms',
        reference: { name: 'floor (successor told directly), p50', value: round(floorP50) },
        note: `${t.times.length} trials; client connects every 10 ms; failed connects per trial p50 ${percentile(t.failures, 50)}, max ${Math.max(...t.failures)}`,
      });
      results.push({
        name: `${fault} of the owner → client's first connect via another node, p99`, value: round(percentile(t.times, 99)), unit: 'ms',
        reference: { name: 'floor, p99', value: round(floorP99) }, note: `all: ${t.times.map(round).join(' ')}`,
      });
    }
    results.push({ name: 'floor: owner SIGKILLed + successor told directly → first connect via it, p50', value: round(floorP50), unit: 'ms', note: `${floor.times.length} trials; all: ${floor.times.map(round).join(' ')}` });
    results.push({ name: 'floor, p99', value: round(floorP99), unit: 'ms' });
    const falseFailovers = [...ours.values(), floor].reduce((n, t) => n + t.falseFailovers, 0);
    results.push({ name: 'false failovers seen while settling between trials', value: falseFailovers, unit: 'count', note: `load average at the end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}` });

    // MetalLB v0.11.0's speaker through the same faults, alone in the same lab.
    if (!existsSync(V011_SPEAKER)) {
      results.push({ name: 'MetalLB v0.11 speaker', value: NaN, unit: '', note: `not run: ${V011_SPEAKER} missing (../shared/lab/metallb-v011/build.sh builds it)` });
      return results;
    }
    try {
      // The single-stack Service gets its IP from our controller (still running) before our speakers stop.
      await labKubectl(lab, ['apply', '-f', '-'], JSON.stringify(V011_SERVICE));
      const state = JSON.parse(readFileSync(join(lab.dir, 'state.json'), 'utf8')) as { speakers: Record<string, { kubeconfig: string; secretKey: string }> };
      for (const node of nodes) await stopPid(speakerPid(lab, node), 3000);
      const startV011 = (node: LabNode): void => {
        const s = state.speakers[node.name]!;
        v011Pids.set(node.name, startDaemon({
          command: 'ip', args: ['netns', 'exec', node.netns, V011_SPEAKER, `--kubeconfig=${s.kubeconfig}`, '--namespace=metallb-system',
            '--port=7472', '--config=config', '--log-level=info'],
          env: { ...process.env, METALLB_NODE_NAME: node.name, METALLB_HOST: node.ipv4, METALLB_ML_BIND_ADDR: node.ipv4,
            METALLB_ML_LABELS: 'app=metallb,component=speaker', METALLB_ML_SECRET_KEY: s.secretKey },
          logFile: join(lab.dir, 'logs', `v011-speaker-${node.name}.log`),
        }));
      };
      const restartV011 = async (node: LabNode): Promise<void> => {
        const pid = v011Pids.get(node.name);
        if (pid !== undefined && isAlive(pid)) await stopPid(pid, 3000);
        startV011(node);
      };
      for (const node of nodes) startV011(node);
      // v0.11 has no gossip metric: settled = one owner by metallb_speaker_announced and the client reaching it.
      const settleV011 = async (): Promise<LabNode> => {
        let owner: LabNode | undefined;
        await waitFor('one v0.11 owner and the client reaching it', 120_000, async () => {
          const owners = ownersOf(await announcements(nodes), VIP_V011);
          if (owners.length !== 1) return false;
          owner = nodes.find((n) => n.name === owners[0]);
          return (await curlOnce(client, VIP_V011, 80, 1)) === owner?.name;
        }, 250);
        // memberlist needs a moment after a restart before it probes the others; give every member time to join.
        await new Promise((r) => setTimeout(r, 3000));
        return owner!;
      };
      for (const fault of V011_FAULTS.filter((f) => BENCHED.includes(f))) {
        const t: Trials = { times: [], failures: [], falseFailovers: 0 };
        try {
          for (let i = 0; i < V011_TRIALS; i++) {
            const { owner, probe } = await settledProbe(nodes, client, t, settleV011, VIP_V011);
            const pid = v011Pids.get(owner.name)!;
            await measure(t, probe, async () => {
              if (fault === 'sigkill') process.kill(pid, 'SIGKILL');
              else if (fault === 'sigstop') process.kill(pid, 'SIGSTOP');
              else if (fault === 'sigterm') process.kill(pid, 'SIGTERM');
              else await applyFault(lab, fault, owner);
            });
            if (fault === 'sigstop') process.kill(pid, 'SIGCONT');
            if (fault === 'link-down' || fault === 'partition') await undoFault(lab, fault, owner);
            // A fresh v0.11 speaker after every trial, as its DaemonSet would after a crash: also what brings back a
            // speaker whose memberlist stays split after a link or partition heals.
            await restartV011(owner);
          }
        } catch (err) {
          // One fault's failure does not cost the others' rows; the logs stay for a look.
          const kept = join(tmpdir(), `metallb-ts-${PREFIX}v011-logs-${fault}`);
          cpSync(join(lab.dir, 'logs'), kept, { recursive: true });
          results.push({ name: `MetalLB v0.11 speaker, ${fault}`, value: NaN, unit: '', note: `FAILED after ${t.times.length} trials: ${(err as Error).message}; logs in ${kept}` });
          for (const node of nodes) await restartV011(node);
          continue;
        }
        process.stdout.write(`  v0.11 ${fault}: ${t.times.map(round).join(' ')} ms\n`);
        const oursP50 = ours.get(fault) ? percentile(ours.get(fault)!.times, 50) : NaN;
        results.push({
          name: `MetalLB v0.11 speaker, ${fault} → first connect via another node, p50`, value: round(percentile(t.times, 50)), unit: 'ms',
          reference: { name: `metallb-ts, same fault, same run, p50`, value: round(oursP50) },
          note: `${t.times.length} trials; p99 ${round(percentile(t.times, 99))} ms; all: ${t.times.map(round).join(' ')}`,
        });
      }
    } catch (err) {
      // Our figures stand on their own; say why v0.11's are missing (logs: the lab's logs/v011-speaker-*.log).
      results.push({ name: 'MetalLB v0.11 speaker', value: NaN, unit: '', note: `FAILED: ${(err as Error).message}` });
    }
    return results;
  } finally {
    for (const child of announcers.values()) child.close();
    for (const pid of v011Pids.values()) if (isAlive(pid)) await stopPid(pid, 3000);
    await labCli(lab, ['down']);
    rmSync(lab.dir, { recursive: true, force: true });
  }
}
