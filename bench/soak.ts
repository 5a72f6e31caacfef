/**
 * Issue 11: false failovers under CPU starvation. The real lab (three speakers gossiping on 7946 with the DaemonSet's
 * env, the controller, the demo Service) runs for SOAK_MS (default 10 minutes) while a load generator keeps both
 * cores busy (one busy-looping process per core, on top of whatever else the machine runs). Nothing fails, so
 * every change is false. Each figure is counted from a source that cannot miss an event:
 * - false failovers, two ways:
 *   - the speakers' own logs: every `serviceAnnounced` at info level (a speaker that was not announcing the demo
 *     Service starts) and every `serviceWithdrawn` of it, written by the reconciler each time it happens;
 *   - the wire: tcpdump on the lab bridge captures every broadcast ARP frame; a gratuitous ARP for the VIP (sender
 *     IP = VIP) from a MAC other than the owner's is another node taking it. The owner's own split-brain ARP
 *     probes (sender 0.0.0.0, every 3 s) prove the capture was running (no probes seen fails the bench);
 * - false suspicions and false deaths: the speakers' counters (`metallb_speaker_memberlist_suspicions_total{origin}`,
 *   `_failures_total{origin}`, `_refuted_total`, `_late_timers_total`) read before and after, cross-checked with
 *   their `memberSuspect`, `memberFailed` and `refuted` log lines. A suspicion raised by a speaker's own failed
 *   probe is one accusation (origin local); a death declared by a speaker's own expired suspicion is one false
 *   death (origin local; the others then learn it as origin remote);
 * - the largest event-loop lag (`nodejs_eventloop_lag_max_seconds`, every ~5 s) and Lifeguard local health seen,
 *   and the 1-minute load average (every second), min and max.
 * The speakers' logs and the capture are copied to $TMPDIR/metallb-ts-soak-<time>/ before the lab goes down.
 * Env: SOAK_MS, SOAK_LOAD_PROCS (default: one per core), METALLB_TS_SOAK_BENCH_PREFIX (netns prefix, `mlsk-`).
 * Needs root and tcpdump. `npm run bench -- soak`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { topologyNames, type LabNode } from '../src/lab/topology.js';
import { announcements, ownersOf } from '../src/lab/observe.js';
import { speakerMetrics } from '../src/lab/speakers.js';
import { labCli, waitSettled, type Lab } from '../src/testing/failover/lab-faults.js';
import type { BenchResult } from './types.js';

const PREFIX = process.env['METALLB_TS_SOAK_BENCH_PREFIX'] ?? 'mlsk-';
const SOAK_MS = Number(process.env['SOAK_MS'] ?? 600_000);
const LOAD_PROCS = Number(process.env['SOAK_LOAD_PROCS'] ?? os.cpus().length);
const VIP = '192.0.2.100';
const SERVICE = 'default/demo';

const loadavg1 = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type LogLine = Record<string, unknown>;

/** JSON log lines of `file` from byte `from` on (the part written during the soak). */
export function logLinesFrom(file: string, from: number): LogLine[] {
  let text: string;
  try { text = readFileSync(file).subarray(from).toString('utf8'); } catch { return []; }
  const out: LogLine[] = [];
  for (const l of text.split('\n')) {
    if (!l.startsWith('{')) continue;
    try { out.push(JSON.parse(l) as LogLine); } catch { /* a partial last line */ }
  }
  return out;
}

const size = (file: string): number => { try { return statSync(file).size; } catch { return 0; } };

/** One ARP frame tcpdump printed with -e -n: source MAC, sender IP and target IP (undefined when not ARP). */
export function parseArp(line: string): { srcMac: string; op: 'request' | 'reply'; senderIp: string; targetIp: string } | undefined {
  const mac = /^\S+\s+([0-9a-f:]{17}) >/.exec(line);
  if (!mac) return undefined;
  const req = /Request who-has (\S+)(?: \([^)]*\))? tell (\S+?),/.exec(line);
  if (req) return { srcMac: mac[1]!, op: 'request', senderIp: req[2]!, targetIp: req[1]! };
  const rep = /Reply (\S+) is-at ([0-9a-f:]{17})/.exec(line);
  if (rep) return { srcMac: mac[1]!, op: 'reply', senderIp: rep[1]!, targetIp: rep[1]! };
  return undefined;
}

/** Sum of one Prometheus series (all label sets matching `labels`, a substring of the label block). */
export function metricSum(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^(\w+)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name && (m[2] ?? '').includes(labels)) sum += Number(m[3]);
  }
  return sum;
}

interface Verdicts { suspectedLocal: number; suspectedRemote: number; failedLocal: number; failedRemote: number; refuted: number; lateTimers: number }

function verdicts(text: string): Verdicts {
  return {
    suspectedLocal: metricSum(text, 'metallb_speaker_memberlist_suspicions_total', 'origin="local"'),
    suspectedRemote: metricSum(text, 'metallb_speaker_memberlist_suspicions_total', 'origin="remote"'),
    failedLocal: metricSum(text, 'metallb_speaker_memberlist_failures_total', 'origin="local"'),
    failedRemote: metricSum(text, 'metallb_speaker_memberlist_failures_total', 'origin="remote"'),
    refuted: metricSum(text, 'metallb_speaker_memberlist_refuted_total'),
    lateTimers: metricSum(text, 'metallb_speaker_memberlist_late_timers_total'),
  };
}

async function allVerdicts(nodes: readonly LabNode[]): Promise<Verdicts[]> {
  return Promise.all(nodes.map(async (n) => {
    const text = await speakerMetrics(n);
    if (!/^metallb_speaker_memberlist_suspicions_total/m.test(text)) throw new Error(`speaker ${n.name} has no memberlist verdict counters`);
    return verdicts(text);
  }));
}

export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error('the soak bench needs root (ip netns)');
  const lab: Lab = { dir: join(os.tmpdir(), `metallb-ts-${PREFIX}bench`), prefix: PREFIX };
  await labCli(lab, ['down']);
  const up = await labCli(lab, ['up']);
  const load: ChildProcess[] = [];
  let capture: ChildProcess | undefined;
  try {
    if (up.code !== 0) throw new Error(`lab up failed: ${up.output.slice(-500)}`);
    const topo = topologyNames(PREFIX);
    const { nodes, client } = topo;
    const owner = await waitSettled(nodes, client, VIP, 120_000);
    const ownerMac = owner.mac;
    const logs = nodes.map((n) => join(lab.dir, 'logs', `speaker-${n.name}.log`));
    // The log source works: the owner logged its announcement of the demo Service before the soak.
    if (!logLinesFrom(logs[nodes.indexOf(owner)]!, 0).some((l) => l['event'] === 'serviceAnnounced' && l['service'] === SERVICE)) {
      throw new Error(`the owner ${owner.name} never logged serviceAnnounced for ${SERVICE}: the log source cannot count ownership changes`);
    }
    await sleep(5_000); // past the owner's gratuitous window (5 s after it took the IP)
    const arpFile = join(lab.dir, 'soak-arp.txt');
    capture = spawn('sh', ['-c', `exec ip netns exec ${topo.fabric} tcpdump -i br0 -n -e -l -U arp > ${arpFile} 2>/dev/null`], { stdio: 'ignore' });
    await sleep(1_000);
    const offsets = logs.map(size);
    const before = await allVerdicts(nodes);
    const loadStart = loadavg();
    for (let i = 0; i < LOAD_PROCS; i++) load.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
    let samples = 0;
    let bad = 0;
    let maxHealth = 0;
    let maxLagMs = 0;
    let loadMin = Infinity;
    let loadMax = 0;
    const start = Date.now();
    const end = start + SOAK_MS;
    while (Date.now() < end) {
      const l = loadavg1();
      loadMin = Math.min(loadMin, l); loadMax = Math.max(loadMax, l);
      const owners = ownersOf(await announcements(nodes), VIP);
      samples++;
      if (!(owners.length === 1 && owners[0] === owner.name)) bad++;
      if (samples % 5 === 0) {
        for (const m of await Promise.all(nodes.map((n) => speakerMetrics(n)))) {
          maxHealth = Math.max(maxHealth, metricSum(m, 'metallb_speaker_memberlist_local_health'));
          maxLagMs = Math.max(maxLagMs, 1000 * metricSum(m, 'nodejs_eventloop_lag_max_seconds'));
        }
      }
      await sleep(1_000);
    }
    const loadEnd = loadavg();
    for (const p of load) p.kill('SIGKILL');
    load.length = 0;
    const after = await allVerdicts(nodes);
    await sleep(1_000);
    capture.kill('SIGINT');
    await sleep(500);

    // Ownership changes from the speakers' logs.
    const lines = logs.map((f, i) => logLinesFrom(f, offsets[i]!));
    let takeovers = 0;
    let withdrawals = 0;
    const logOf = (event: string): number => lines.flat().filter((l) => l['event'] === event).length;
    nodes.forEach((n, i) => {
      for (const l of lines[i]!) {
        if (l['service'] !== SERVICE) continue;
        if (l['event'] === 'serviceAnnounced' && l['level'] !== 'debug' && l['level'] !== 20) takeovers++;
        if (l['event'] === 'serviceWithdrawn') withdrawals++;
      }
    });
    // Ownership changes on the wire.
    const arp = readFileSync(arpFile, 'utf8').split('\n').map(parseArp).filter((a) => a !== undefined);
    const probes = arp.filter((a) => a.op === 'request' && a.targetIp === VIP && a.senderIp === '0.0.0.0' && a.srcMac === ownerMac).length;
    if (probes === 0) throw new Error(`tcpdump on ${topo.fabric} br0 saw none of the owner's ARP probes for ${VIP}: the capture did not run`);
    const garps = arp.filter((a) => a.senderIp === VIP);
    const foreignGarps = garps.filter((a) => a.srcMac !== ownerMac);
    const foreignMacs = [...new Set(foreignGarps.map((a) => a.srcMac))];
    const sum = (vs: Verdicts[], k: keyof Verdicts): number => vs.reduce((s, v) => s + v[k], 0);
    const d = (k: keyof Verdicts): number => sum(after, k) - sum(before, k);
    const minutes = ((Date.now() - start) / 60_000).toFixed(1);
    const note = `${minutes} min, ${LOAD_PROCS} busy-loop processes on ${os.cpus().length} cores; 1-min load average ${loadMin.toFixed(2)}–${loadMax.toFixed(2)} (uptime ${loadStart} → ${loadEnd})`;
    return [
      { name: 'false failovers: takeovers of the VIP in the speakers\' logs', value: takeovers, unit: 'count', note: `serviceAnnounced (info) + serviceWithdrawn of ${SERVICE}: ${takeovers} + ${withdrawals}; ${note}` },
      { name: 'false failovers: gratuitous ARP for the VIP from another MAC (tcpdump on the bridge)', value: foreignGarps.length, unit: 'frames', note: `${garps.length} gratuitous ARP frames for ${VIP} in all${foreignMacs.length ? `, from ${foreignMacs.join(', ')}` : ''}; ${probes} ARP probes from the owner ${ownerMac} (the capture ran)` },
      { name: 'false failovers: 1 s owner samples not the one owner', value: bad, unit: 'samples', note: `of ${samples} (metallb_speaker_announced of all three speakers)` },
      { name: 'false deaths declared (own suspicion expired, all speakers)', value: d('failedLocal'), unit: 'count', note: `failures_total{origin=local}; learned from another: ${d('failedRemote')}; memberFailed log lines: ${logOf('memberFailed')}` },
      { name: 'false suspicions raised (own probe failed, all speakers)', value: d('suspectedLocal'), unit: 'count', note: `suspicions_total{origin=local}; learned from another: ${d('suspectedRemote')}; memberSuspect log lines: ${logOf('memberSuspect')}` },
      { name: 'suspicions refuted by their target', value: d('refuted'), unit: 'count', note: `refuted_total; refuted log lines: ${logOf('refuted')}` },
      { name: 'verdicts deferred by the late-timer guard', value: d('lateTimers'), unit: 'count', note: 'late_timers_total, all speakers' },
      { name: 'largest speaker event-loop lag seen', value: Math.round(maxLagMs), unit: 'ms', note: 'nodejs_eventloop_lag_max_seconds, sampled every ~5 s' },
      { name: 'largest Lifeguard local health seen', value: maxHealth, unit: '', note: 'probe interval and timeout are multiplied by 1 + this' },
    ];
  } finally {
    for (const p of load) p.kill('SIGKILL');
    capture?.kill('SIGKILL');
    // Keep the speakers' logs and the capture for a look afterwards (the lab directory goes).
    const keep = join(os.tmpdir(), `metallb-ts-soak-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    try { cpSync(join(lab.dir, 'logs'), keep, { recursive: true }); cpSync(join(lab.dir, 'soak-arp.txt'), join(keep, 'soak-arp.txt')); } catch { /* nothing to keep */ }
    process.stderr.write(`soak: logs kept in ${keep}\n`);
    await labCli(lab, ['down']);
    rmSync(lab.dir, { recursive: true, force: true });
  }
}
