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
 * - keepalived (Debian's package, VRRPv3, 100 ms adverts; src/testing/failover/keepalived.ts) on the same nodes,
 *   ours and v0.11's stopped, moving VIP_V011 the same way (MASTER holds it on eth0, gratuitous ARP on takeover),
 *   through the same faults but out-of-service (partition = VRRP dropped; undone by restarting the partitioned
 *   MASTER's keepalived, since a MASTER that never left MASTER sends no gratuitous ARP when VRRP flows again).
 *   Missing `keepalived`: its rows say so.
 * - keepalived spread (traffic only, reference `keepalived-spread`, run after the keepalived section): MetalLB's
 *   layer 2 spreads Service IPs over all nodes, so every node is an owner to watch; keepalived's like-for-like is one
 *   VRRP instance per node (SPREAD_VIPS, virtual_router_id 61..63, node i MASTER of instance i by rotated
 *   priorities, 100 ms adverts), measured with the same counters over the same window as the single instance's row.
 *
 * Also: the IPv6 VIP (2001:db8::100, NDP) through FAILOVER_V6_FAULTS (any of the faults; with the floor, an IPv6
 * floor too: the successor's unsolicited NA instead of its gratuitous ARP), and the detection traffic per node
 * (src/testing/failover/traffic.ts: nftables counters) over a settled 10 s window, ours (UDP 7946; TCP state sync
 * apart) against keepalived's VRRP adverts. The load average is read at the start and at the end.
 *
 * The fault comes a random 1–2 s after the settle (FAILOVER_FAULT_DELAY_MS, `1000-2000`; `0` = at once, as before
 * Dec 1 evening), at a random phase of the detectors' packet cycles, as a real failure does. At once, it lands on the
 * owner that just rejoined (every trial restarts or revives it) while its join gossip is still flowing, so the
 * others have heard from it within the last few milliseconds and the first probe of it waits a full passive-liveness
 * window (docs/design/membership.md): that measures "dies within a second of rejoining", not a failure in general.
 *
 * Settled also means every speaker's Lifeguard local health back at 0 (waited for up to FAILOVER_HEALTHY_WITHIN_MS,
 * 5000; then the trial runs anyway): a survivor of the previous trial probes 1 + health times slower for a while,
 * and a trial started then would measure the previous fault's after-effect. FAILOVER_VERBOSE=1 prints each trial's
 * fault instant, the health seen and the node that answered.
 *
 * Env: FAILOVER_TRIALS (20), FAILOVER_V011_TRIALS (10), FAILOVER_KEEPALIVED_TRIALS (FAILOVER_TRIALS), FAILOVER_FAULTS
 * (comma list), FAILOVER_V6_FAULTS (`sigkill,link-down`; empty: none), FAILOVER_REFERENCES
 * (`floor,keepalived,keepalived-spread,v011`; which reference rows to run), FAILOVER_TRAFFIC_ONLY (`1`: only the
 * traffic rows — ours, and keepalived's / keepalived spread's if in FAILOVER_REFERENCES —: no fault trials, no floor,
 * no v0.11; about a minute), FAILOVER_KEEP_LOGS (a folder to copy the lab's logs to), METALLB_TS_FAILOVER_BENCH_PREFIX
 * (netns prefix, `mlfb-`). Needs root.
 * `npm run bench -- failover` runs it alone (≈ 40 min at 20 trials).
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
import { loadKubeClients } from '../src/adapters/k8s/client.js';
import { OUT_OF_SERVICE_TAINTS, waitHealthy } from '../src/testing/failover/lab-faults.js';
import { KEEPALIVED_FAULTS, applyKeepalivedFault, startKeepalived, stopKeepalived, undoKeepalivedFault, waitKeepalivedSettled, waitKeepalivedSpreadSettled, type KeepalivedLab } from '../src/testing/failover/keepalived.js';
import { installCounters, measureTraffic, removeCounters, trafficText, type TrafficRate } from '../src/testing/failover/traffic.js';
import { execFileSync } from 'node:child_process';

const PREFIX = process.env['METALLB_TS_FAILOVER_BENCH_PREFIX'] ?? 'mlfb-';
const TRIALS = Number(process.env['FAILOVER_TRIALS'] ?? 20);
const V011_TRIALS = Number(process.env['FAILOVER_V011_TRIALS'] ?? 10);
/** FAILOVER_TRAFFIC_ONLY=1: the traffic rows alone (no fault is benched, no floor, no v0.11). */
const TRAFFIC_ONLY = process.env['FAILOVER_TRAFFIC_ONLY'] === '1';
const BENCHED: readonly Fault[] = TRAFFIC_ONLY ? [] : (process.env['FAILOVER_FAULTS']?.split(',').filter((f) => f !== '') as Fault[] | undefined) ?? FAULTS;
const V011_SPEAKER = process.env['MLB011_SPEAKER'] ?? '/tmp/mlb011/bin/speaker';
const KEEPALIVED_TRIALS = Number(process.env['FAILOVER_KEEPALIVED_TRIALS'] ?? TRIALS);
const V6_FAULTS = TRAFFIC_ONLY ? [] : (process.env['FAILOVER_V6_FAULTS'] ?? 'sigkill,link-down').split(',').filter((f) => f !== '') as Fault[];
const REFERENCES = new Set((process.env['FAILOVER_REFERENCES'] ?? 'floor,keepalived,keepalived-spread,v011').split(',')
  .filter((r) => !(TRAFFIC_ONLY && (r === 'floor' || r === 'v011'))));
const VIP = '192.0.2.100';
const VIP6 = '2001:db8::100';
const TRAFFIC_WINDOW_MS = 10_000;
/** Settling also waits up to this long for every speaker's Lifeguard health to be back at 0 (FAILOVER_HEALTHY_WITHIN_MS). */
const HEALTHY_WITHIN_MS = Number(process.env['FAILOVER_HEALTHY_WITHIN_MS'] ?? 5000);
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
function keepalivedPresent(): boolean {
  try { execFileSync('keepalived', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}
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
/**
 * keepalived spread's VIPs, one per node (node1, node2, node3): on the lab's segment, outside its hosts (.1, .11-.13,
 * .50) and its pool (examples/lab-layer2.yaml: .100-.199), so nothing else answers for them. Traffic only: no Service.
 */
const SPREAD_VIPS = ['192.0.2.211', '192.0.2.212', '192.0.2.213'];

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const round = (x: number) => Math.round(x);

interface Trials { times: number[]; failures: number[]; falseFailovers: number }

/** Settles, then returns the owner and a probe whose first answer came from it (re-settling after a false failover). */
/** FAILOVER_FAULT_DELAY_MS: `MIN-MAX` or one number, ms between the settle and the fault, drawn uniformly per trial. */
export function parseFaultDelay(spec: string): { min: number; max: number } {
  const m = /^(\d+)(?:-(\d+))?$/.exec(spec.trim());
  if (!m) throw new Error(`FAILOVER_FAULT_DELAY_MS ${JSON.stringify(spec)}: want MIN-MAX or MS, e.g. 1000-2000`);
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  if (max < min) throw new Error(`FAILOVER_FAULT_DELAY_MS ${spec}: MAX below MIN`);
  return { min, max };
}
const FAULT_DELAY = parseFaultDelay(process.env['FAILOVER_FAULT_DELAY_MS'] ?? '1000-2000');

async function settledProbe(nodes: readonly LabNode[], client: string, trials: Trials, settle: () => Promise<LabNode>, ip = VIP) {
  for (let attempt = 0; ; attempt++) {
    const owner = await settle();
    const probe = await startProbe({ netns: client, ip, port: 80, avoidNode: owner.name, deadlineMs: 60_000 });
    if (probe.firstNode === owner.name) {
      // The client keeps connecting (to the owner) meanwhile; the figure starts at the fault, after the wait.
      await new Promise((r) => setTimeout(r, FAULT_DELAY.min + Math.random() * (FAULT_DELAY.max - FAULT_DELAY.min)));
      return { owner, probe };
    }
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
    if (process.env['FAILOVER_VERBOSE']) process.stdout.write(`    fault at ${new Date(t0).toISOString()} → ${r.node} after ${Math.round(r.at - t0)} ms\n`);
    // Another node answered during the wait before the fault: a false failover, not a figure.
    if (r.at < t0) { trials.falseFailovers++; return; }
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

/** p50 and p99 rows of one fault's trials against a reference. */
function rows(label: string, t: Trials, reference?: { name: string; p50: number; p99: number }): BenchResult[] {
  const p50 = round(percentile(t.times, 50));
  const p99 = round(percentile(t.times, 99));
  return [
    {
      name: `${label} → client's first connect via another node, p50`, value: p50, unit: 'ms',
      ...(reference ? { reference: { name: `${reference.name}, p50`, value: round(reference.p50) } } : {}),
      note: `${t.times.length} trials; client connects every 10 ms; failed connects per trial p50 ${percentile(t.failures, 50)}, max ${Math.max(...t.failures)}`,
    },
    {
      name: `${label}, p99`, value: p99, unit: 'ms',
      ...(reference ? { reference: { name: `${reference.name}, p99`, value: round(reference.p99) } } : {}),
      note: `all: ${t.times.map(round).join(' ')}`,
    },
  ];
}

const p = (t: Trials | undefined) => (t ? { p50: percentile(t.times, 50), p99: percentile(t.times, 99) } : { p50: NaN, p99: NaN });

/** One row: the busiest node's packets per second (sent + received); the note has every node's pkt/s and B/s each way. */
function trafficRows(label: string, rates: readonly TrafficRate[], reference?: { name: string; rates: readonly TrafficRate[] }): BenchResult[] {
  const maxTx = Math.max(...rates.map((r) => r.txPps + r.rxPps));
  const refMax = reference ? Math.max(...reference.rates.map((r) => r.txPps + r.rxPps)) : undefined;
  return [{
    name: `${label}: packets per second per node (sent + received), busiest node`, value: Math.round(maxTx * 10) / 10, unit: 'pkt/s',
    ...(refMax !== undefined ? { reference: { name: `${reference!.name}, busiest node`, value: Math.round(refMax * 10) / 10 } } : {}),
    note: `${TRAFFIC_WINDOW_MS / 1000} s settled window: ${trafficText(rates)}`,
  }];
}

export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error('the failover bench needs root (ip netns)');
  const loadAtStart = loadavg();
  const lab: Lab = { dir: join(tmpdir(), `metallb-ts-${PREFIX}bench`), prefix: PREFIX };
  await labCli(lab, ['down']);
  let up = await labCli(lab, ['up']);
  // On a loaded machine a speaker can miss lab up's readiness deadline: one more try before giving up.
  if (up.code !== 0 || !/^speaker: running/m.test(up.output)) { await labCli(lab, ['down']); up = await labCli(lab, ['up']); }
  const announcers = new Map<string, AnnouncerChild>();
  const v011Pids = new Map<string, number>();
  const { nodes, client } = topologyNames(PREFIX);
  const keepalived: KeepalivedLab = { dir: lab.dir, nodes, client, vip: VIP_V011 };
  let keepalivedRunning = false;
  const spread: KeepalivedLab = { ...keepalived, spread: SPREAD_VIPS };
  let keepalivedSpreadRunning = false;
  try {
    if (up.code !== 0) throw new Error(`lab up failed: ${up.output.slice(-500)}`);
    if (!/^speaker: running/m.test(up.output)) throw new Error(`the lab has no speakers: ${up.output.split('\n').filter((l) => l.startsWith('speaker:')).join(' / ')}`);
    const results: BenchResult[] = [];
    for (const node of nodes) await installCounters(node);
    // The out-of-service taint by an API PATCH from this process (no kubectl start-up inside the figure).
    const kube = await loadKubeClients(join(lab.dir, 'kubeconfig'));
    const mergePatch = kube.k8s.setHeaderOptions('Content-Type', kube.k8s.PatchStrategy.MergePatch);
    const taint = async (name: string): Promise<void> => { await kube.core.patchNode({ name, body: { spec: { taints: OUT_OF_SERVICE_TAINTS } } }, mergePatch); };

    const runOurs = async (fault: Fault, ip: string): Promise<Trials> => {
      const trials: Trials = { times: [], failures: [], falseFailovers: 0 };
      const settle = async () => {
        const owner = await waitSettled(nodes, client, ip, 120_000);
        const health = await waitHealthy(nodes, HEALTHY_WITHIN_MS);
        if (process.env['FAILOVER_VERBOSE']) process.stdout.write(`    settled: owner ${owner.name}, local health ${health.join(',')}\n`);
        return owner;
      };
      try {
        for (let i = 0; i < TRIALS; i++) {
          const { owner, probe } = await settledProbe(nodes, client, trials, settle, ip);
          await measure(trials, probe, () => applyFault(lab, fault, owner, taint));
          await undoFault(lab, fault, owner);
        }
      } catch (err) {
        // One fault's failure does not cost the other rows: say so, keep the logs, and go on.
        const kept = join(tmpdir(), `metallb-ts-${PREFIX}logs-${fault}`);
        cpSync(join(lab.dir, 'logs'), kept, { recursive: true });
        failed.push({ name: `${ip} ${fault}`, value: NaN, unit: '', note: `FAILED after ${trials.times.length} trials: ${(err as Error).message}; logs in ${kept}` });
        process.stdout.write(`  ${ip} ${fault}: FAILED after ${trials.times.length} trials: ${(err as Error).message}\n`);
      }
      process.stdout.write(`  ${ip} ${fault}: ${trials.times.map(round).join(' ')} ms\n`);
      return trials;
    };

    await waitSettled(nodes, client, VIP, 120_000);
    const oursTraffic = await measureTraffic(nodes, 'gossip', TRAFFIC_WINDOW_MS);
    process.stdout.write(`  gossip traffic: ${trafficText(oursTraffic)}\n`);

    const failed: BenchResult[] = [];
    const ours = new Map<Fault, Trials>();
    for (const fault of BENCHED) ours.set(fault, await runOurs(fault, VIP));
    const ours6 = new Map<Fault, Trials>();
    for (const fault of V6_FAULTS) ours6.set(fault, await runOurs(fault, VIP6));

    // The floor: the successor told directly (no detection), the owner's speaker SIGKILLed at the same instant; for
    // the IPv4 VIP and, when IPv6 faults run, for the IPv6 VIP (the successor's unsolicited NA instead of its ARP).
    const runFloor = async (ip: string): Promise<Trials> => {
      const floor: Trials = { times: [], failures: [], falseFailovers: 0 };
      const settle = () => waitSettled(nodes, client, ip, 120_000);
      try {
        for (let i = 0; i < TRIALS; i++) {
          const { owner, probe } = await settledProbe(nodes, client, floor, settle, ip);
          const successor = nodes.find((n) => n.name === electOwner(ip, nodes.filter((m) => m !== owner).map((m) => m.name)))!;
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
          await measure(floor, probe, () => { void told.send('set', { name: 'floor', ips: [ip] }); process.kill(speakerPid(lab, owner), 'SIGKILL'); });
          await told.send('delete', { name: 'floor' });
          await undoFault(lab, 'sigkill', owner);
        }
      } catch (err) {
        failed.push({ name: `floor ${ip}`, value: NaN, unit: '', note: `FAILED after ${floor.times.length} trials: ${(err as Error).message}` });
      }
      for (const child of announcers.values()) child.close();
      announcers.clear();
      if (floor.times.length > 0) process.stdout.write(`  floor ${ip}: ${floor.times.map(round).join(' ')} ms\n`);
      return floor;
    };
    const floor = REFERENCES.has('floor') && !TRAFFIC_ONLY ? await runFloor(VIP) : { times: [], failures: [], falseFailovers: 0 };
    const floor6 = REFERENCES.has('floor') && V6_FAULTS.length > 0 ? await runFloor(VIP6) : { times: [], failures: [], falseFailovers: 0 };
    const floorRef = floor.times.length > 0 ? { name: 'floor (successor told directly)', ...p(floor) } : undefined;

    results.push(...failed);
    for (const [fault, t] of ours) if (t.times.length > 0) results.push(...rows(`${fault} of the owner (IPv4 ${VIP})`, t, floorRef));
    for (const [fault, t] of [...ours6].filter(([, t]) => t.times.length > 0)) results.push(...rows(`${fault} of the owner (IPv6 ${VIP6})`, t, { name: `same fault, IPv4`, ...p(ours.get(fault)) }));
    for (const [family, ip, t] of [['IPv4', VIP, floor], ['IPv6', VIP6, floor6]] as const) {
      if (t.times.length === 0) continue;
      results.push({ name: `floor (${family} ${ip}): owner SIGKILLed + successor told directly → first connect via it, p50`, value: round(percentile(t.times, 50)), unit: 'ms', note: `${t.times.length} trials; all: ${t.times.map(round).join(' ')}` });
      results.push({ name: `floor (${family} ${ip}), p99`, value: round(percentile(t.times, 99)), unit: 'ms' });
    }
    const falseFailovers = [...ours.values(), ...ours6.values(), floor, floor6].reduce((n, t) => n + t.falseFailovers, 0);
    if (!TRAFFIC_ONLY) results.push({ name: 'false failovers seen while settling between trials', value: falseFailovers, unit: 'count', note: `load average at the start ${loadAtStart}, after our trials ${loadavg()}` });
    const oursLabel = 'metallb-ts gossip (UDP 7946), 3 nodes';
    const done = (): BenchResult[] => {
      results.push({ name: 'load average', value: NaN, unit: '', note: `at the start ${loadAtStart}, at the end ${loadavg()}` });
      return results;
    };

    if (!REFERENCES.has('keepalived') && !REFERENCES.has('keepalived-spread') && !REFERENCES.has('v011')) {
      results.push(...trafficRows(oursLabel, oursTraffic));
      return done();
    }
    // The references run alone: the single-stack Service gets its IP from our controller before our speakers stop.
    await labKubectl(lab, ['apply', '-f', '-'], JSON.stringify(V011_SERVICE));
    await waitFor(`the client reaching ${VIP_V011}`, 60_000, async () => (await curlOnce(client, VIP_V011, 80, 1)) !== undefined, 250);
    for (const node of nodes) await stopPid(speakerPid(lab, node), 3000);

    // keepalived, VRRPv3 at 100 ms adverts, on the same nodes and the same kind of VIP.
    const keepalivedMissing = (REFERENCES.has('keepalived') || REFERENCES.has('keepalived-spread')) && !keepalivedPresent();
    let vrrp: TrafficRate[] | undefined;
    if (keepalivedMissing) {
      results.push({ name: 'keepalived', value: NaN, unit: '', note: 'not run: `keepalived` not installed (scripts/setup.sh installs it)' });
    } else if (REFERENCES.has('keepalived')) {
      try {
        keepalivedRunning = true;
        for (const node of nodes) startKeepalived(keepalived, node);
        await waitKeepalivedSettled(keepalived, 60_000);
        vrrp = await measureTraffic(nodes, 'vrrp', TRAFFIC_WINDOW_MS);
        process.stdout.write(`  VRRP traffic: ${trafficText(vrrp)}\n`);
        results.push(...trafficRows(oursLabel, oursTraffic, { name: 'keepalived VRRP', rates: vrrp }));
        results.push(...trafficRows('keepalived VRRPv3 adverts (100 ms), 3 nodes', vrrp));
        for (const fault of KEEPALIVED_FAULTS.filter((f) => BENCHED.includes(f))) {
          const t: Trials = { times: [], failures: [], falseFailovers: 0 };
          try {
            for (let i = 0; i < KEEPALIVED_TRIALS; i++) {
              const { owner, probe } = await settledProbe(nodes, client, t, () => waitKeepalivedSettled(keepalived, 60_000), VIP_V011);
              await measure(t, probe, () => applyKeepalivedFault(keepalived, fault, owner));
              await undoKeepalivedFault(keepalived, fault, owner);
              // After a partition heals the MASTER that never left MASTER sends no gratuitous ARP (the client keeps
              // the former BACKUP's MAC): a fresh keepalived there takes the VIP back by preemption, with one.
              if (fault === 'partition') { await stopKeepalived(keepalived, owner); startKeepalived(keepalived, owner); }
            }
          } catch (err) {
            // One fault's failure does not cost the others' rows.
            results.push({ name: `keepalived ${fault}`, value: NaN, unit: '', note: `FAILED after ${t.times.length} trials: ${(err as Error).message}; logs in ${join(lab.dir, 'keepalived')}` });
            process.stdout.write(`  keepalived ${fault}: FAILED after ${t.times.length} trials: ${(err as Error).message}\n`);
            for (const node of nodes) await stopKeepalived(keepalived, node);
            for (const node of nodes) startKeepalived(keepalived, node);
            if (t.times.length === 0) continue;
          }
          process.stdout.write(`  keepalived ${fault}: ${t.times.map(round).join(' ')} ms\n`);
          const o = ours.get(fault);
          results.push(...rows(`keepalived (VRRPv3, 100 ms adverts), ${fault} of the MASTER`, t, o ? { name: 'metallb-ts, same fault, same run', ...p(o) } : undefined));
        }
      } catch (err) {
        results.push({ name: 'keepalived', value: NaN, unit: '', note: `FAILED: ${(err as Error).message}; logs in ${join(lab.dir, 'keepalived')}` });
      } finally {
        for (const node of nodes) await stopKeepalived(keepalived, node);
        keepalivedRunning = false;
      }
    }
    if (!vrrp) results.push(...trafficRows(oursLabel, oursTraffic));

    // keepalived spread: one VRRP instance per node, each node MASTER of one (traffic only), over the same window.
    if (REFERENCES.has('keepalived-spread') && !keepalivedMissing) {
      try {
        keepalivedSpreadRunning = true;
        for (const node of nodes) startKeepalived(spread, node);
        const held = await waitKeepalivedSpreadSettled(spread, 60_000);
        process.stdout.write(`  keepalived spread MASTERs (VIP on eth0): ${[...held].map(([n, v]) => `${n} ${v.join(' ')}`).join(', ')}\n`);
        const spreadTraffic = await measureTraffic(nodes, 'vrrp', TRAFFIC_WINDOW_MS);
        process.stdout.write(`  VRRP traffic, one instance per node: ${trafficText(spreadTraffic)}\n`);
        results.push(...trafficRows(`keepalived VRRPv3, one instance per node (${nodes.length} VIPs, each node MASTER of one), ${nodes.length} nodes`,
          spreadTraffic, vrrp ? { name: 'keepalived VRRPv3, one instance', rates: vrrp } : undefined));
      } catch (err) {
        results.push({ name: 'keepalived spread', value: NaN, unit: '', note: `FAILED: ${(err as Error).message}; logs in ${join(lab.dir, 'keepalived-spread')}` });
      } finally {
        for (const node of nodes) await stopKeepalived(spread, node);
        keepalivedSpreadRunning = false;
      }
    }

    // MetalLB v0.11.0's speaker through the same faults, alone in the same lab.
    if (!REFERENCES.has('v011')) return done();
    if (!existsSync(V011_SPEAKER)) {
      results.push({ name: 'MetalLB v0.11 speaker', value: NaN, unit: '', note: `not run: ${V011_SPEAKER} missing (../shared/lab/metallb-v011/build.sh builds it)` });
      return done();
    }
    try {
      const state = JSON.parse(readFileSync(join(lab.dir, 'state.json'), 'utf8')) as { speakers: Record<string, { kubeconfig: string; secretKey: string }> };
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
        const o = ours.get(fault);
        results.push(...rows(`MetalLB v0.11 speaker, ${fault}`, t, o ? { name: 'metallb-ts, same fault, same run', ...p(o) } : undefined));
      }
    } catch (err) {
      // Our figures stand on their own; say why v0.11's are missing (logs: the lab's logs/v011-speaker-*.log).
      results.push({ name: 'MetalLB v0.11 speaker', value: NaN, unit: '', note: `FAILED: ${(err as Error).message}` });
    }
    return done();
  } finally {
    for (const child of announcers.values()) child.close();
    for (const pid of v011Pids.values()) if (isAlive(pid)) await stopPid(pid, 3000);
    if (keepalivedRunning) for (const node of nodes) await stopKeepalived(keepalived, node).catch(() => {});
    if (keepalivedSpreadRunning) for (const node of nodes) await stopKeepalived(spread, node).catch(() => {});
    for (const node of nodes) await removeCounters(node).catch(() => {});
    if (process.env['FAILOVER_KEEP_LOGS']) cpSync(join(lab.dir, 'logs'), process.env['FAILOVER_KEEP_LOGS'], { recursive: true });
    await labCli(lab, ['down']);
    rmSync(lab.dir, { recursive: true, force: true });
  }
}
