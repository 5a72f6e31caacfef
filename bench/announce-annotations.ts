/**
 * Issue 13 §1's carrier, measured (docs/design/announce-annotations.md): three real `metallb-ts speaker` processes
 * with gossip on (each in a node network namespace of its own topology, prefix `METALLB_TS_ANNOUNCE_BENCH_PREFIX`,
 * default `oab-`), the speaker ServiceAccount's token against a harness apiserver of this bench's own, and 1,000
 * layer-2 Services with ready endpoints on every node.
 *
 * - **Writes at rest**: after the first start has settled, the apiserver's own `apiserver_request_total` for the
 *   write verbs (CREATE, UPDATE, PATCH, APPLY, DELETE, DELETECOLLECTION), diffed over a window of
 *   `METALLB_TS_ANNOUNCE_BENCH_REST_SECONDS` (default 300 s), per resource; the goal is zero writes of services,
 *   pods and events (all the speakers may write). A watch counts the announce-annotation changes beside it.
 * - **Ownership change → annotation visible through a watch**, `METALLB_TS_ANNOUNCE_BENCH_TRIALS` (default 20)
 *   faults: each SIGKILLs one speaker (rotating over the three); for each Service it announced, the delay from the
 *   kill to the first watch event where the Service names exactly one other node and no longer the killed one.
 *   Then the killed speaker is restarted (as a DaemonSet would) and takes its Services back (the hashring is
 *   revertive): the delay from its `serviceAnnounced` log line (the new owner's announce, its `ts`, ms) to the
 *   watch event naming it alone. Figures: p50/p99 per Service over all moves, and per fault for its last Service.
 *
 * Needs root (network namespaces). Milliseconds are wall-clock (`Date.now()` of this process and the speakers'
 * `ts`, one host clock). No fault is asserted on: a trial that does not settle within its generous deadline fails
 * the bench with what it saw.
 */
import { readFileSync } from 'node:fs';
import type { V1Service } from '@kubernetes/client-node';
import type { BenchResult } from './types.js';
import { TestCluster } from '../src/testing/cluster/test-cluster.js';
import { ensureBinaries } from '../src/testing/cluster/binaries.js';
import { METALLB_NS, eventually, installMetallb, startSpeaker, type SpeakerProcess } from '../src/testing/metallb/process.js';
import { adminClients } from '../src/testing/metallb/kube.js';
import { buildTopology, deleteNetns, topologyNames } from '../src/lab/topology.js';
import { entries, pool, putConfigMap, serviceWithIp, sliceOn, writeNodesAndPods } from '../src/testing/metallb/announce.js';
import type { KubeClients } from '../src/adapters/k8s/client.js';

const PREFIX = process.env['METALLB_TS_ANNOUNCE_BENCH_PREFIX'] ?? 'oab-';
const TRIALS = Number(process.env['METALLB_TS_ANNOUNCE_BENCH_TRIALS'] ?? '20');
const REST_SECONDS = Number(process.env['METALLB_TS_ANNOUNCE_BENCH_REST_SECONDS'] ?? '300');
const NODES = ['ab-n1', 'ab-n2', 'ab-n3'];
const ML_LABELS = 'app=metallb,component=speaker,metallb-ts.bench/suite=announce';
const CONFIG = 'ab-config';
const BULK = 1000;
const CONFIG_TEXT = ['address-pools:', '- name: bulk', '  protocol: layer2', '  addresses:', '  - 2001:db8:3::/112', ''].join('\n');
const WRITE_VERBS = new Set(['CREATE', 'UPDATE', 'PATCH', 'APPLY', 'DELETE', 'DELETECOLLECTION']);
/** What a speaker may write: its announce annotations (services), its alive view (pods), v0.11's Events. */
const SPEAKER_RESOURCES = new Set(['services', 'pods', 'events']);

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The apiserver's write requests so far, by `resource[/subresource]` (its own apiserver_request_total). */
export function writeRequests(metrics: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (!WRITE_VERBS.has(labels['verb'] ?? '')) continue;
    const key = `${labels['resource']}${labels['subresource'] ? `/${labels['subresource']}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

function diff(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) out.set(k, v - (before.get(k) ?? 0));
  return out;
}

/** Every change of every Service's announce annotations seen by one watch, with the instant it arrived. */
class Timeline {
  readonly changes = new Map<string, Array<{ at: number; nodes: string[] }>>();
  private abort: { abort(): void } | undefined;
  private readonly last = new Map<string, string>();

  static async start(k: KubeClients, ns: string): Promise<Timeline> {
    const tl = new Timeline();
    const list = await k.core.listNamespacedService({ namespace: ns });
    for (const s of list.items) tl.note(s, Date.now());
    const watch = new k.k8s.Watch(k.kc);
    tl.abort = await watch.watch(`/api/v1/namespaces/${ns}/services`, { resourceVersion: list.metadata?.resourceVersion }, (_type: string, obj: V1Service) => tl.note(obj, Date.now()), () => {});
    return tl;
  }

  private note(svc: V1Service, at: number): void {
    const name = svc.metadata!.name!;
    const nodes = Object.keys(entries(svc)).filter((n) => entries(svc)[n]!.startsWith('announcing')).sort();
    const key = nodes.join();
    if (this.last.get(name) === key) return;
    this.last.set(name, key);
    const list = this.changes.get(name) ?? [];
    list.push({ at, nodes });
    this.changes.set(name, list);
  }

  /** Announcing nodes of each Service now. */
  now(): Map<string, string[]> {
    return new Map([...this.changes].map(([n, l]) => [n, l.at(-1)!.nodes]));
  }

  /** The first instant at or after `from` when `name` was announced by exactly `pred`'s node set; undefined if not yet. */
  firstAfter(name: string, from: number, pred: (nodes: string[]) => boolean): number | undefined {
    return this.changes.get(name)?.find((c) => c.at >= from && pred(c.nodes))?.at;
  }

  stop(): void { this.abort?.abort(); }
}

export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces)');
  ensureBinaries();
  const names = topologyNames(PREFIX);
  for (const n of [...names.all].reverse()) await deleteNetns(n);
  const loadAtStart = loadavg();
  const cluster = await TestCluster.start();
  const speakers = new Map<string, SpeakerProcess>();
  let relay: number | undefined;
  let timeline: Timeline | undefined;
  try {
    await installMetallb(cluster);
    const kubeconfig = await cluster.kubeconfigFor(METALLB_NS, 'speaker');
    const admin = await adminClients(cluster);
    const discovery = admin.kc.makeApiClient(admin.k8s.DiscoveryV1Api);
    const ns = await cluster.createNamespace('announce-bench');
    await buildTopology(PREFIX, () => {});
    relay = await cluster.exposeInNetns(names.nodes.map((n) => n.netns));
    await writeNodesAndPods(cluster, NODES, ML_LABELS, names.nodes.map((n) => n.ipv4));
    await putConfigMap(admin, CONFIG, CONFIG_TEXT);
    const bulk = Array.from({ length: BULK }, (_, i) => `bulk-${i}`);
    await pool(bulk, 16, async (name) => { await serviceWithIp(admin, ns, name, `2001:db8:3::${(bulk.indexOf(name) + 1).toString(16)}`); await sliceOn(discovery, ns, name, NODES); });
    timeline = await Timeline.start(admin, ns);
    const tl = timeline;
    const start = async (i: number) => {
      const node = names.nodes[i]!;
      const sp = await startSpeaker(kubeconfig, { nodeName: NODES[i]!, netns: node.netns, host: node.ipv4, mlLabels: ML_LABELS, extraArgs: [`--config=${CONFIG}`, '--log-level=info'] });
      speakers.set(NODES[i]!, sp);
      await sp.waitReady(300_000);
      return sp;
    };
    const aliveEverywhere = async () => (await Promise.all([...speakers.values()].map((sp) => sp.metric('metallb_speaker_memberlist_members', 'status="alive"').catch(() => undefined))))
      .every((n) => n === NODES.length);
    const oneOwnerEach = () => bulk.every((n) => tl.now().get(n)?.length === 1);

    // ---- first start of the three, then rest
    const metrics = async () => writeRequests(await cluster.kubectl(['get', '--raw', '/metrics']));
    const speakerSum = (m: Map<string, number>) => [...m].filter(([k]) => SPEAKER_RESOURCES.has(k.split('/')[0]!)).reduce((n, [, v]) => n + v, 0);
    const beforeStart = await metrics();
    const startAt = Date.now();
    await Promise.all(NODES.map((_, i) => start(i)));
    await eventually(oneOwnerEach, 300_000, 'one announcing node on each of the 1,000 Services', 500);
    await eventually(aliveEverywhere, 120_000, 'every speaker sees 3 alive members', 500);
    const owners = new Map(bulk.map((n) => [n, tl.now().get(n)![0]!]));
    // The first start's writes drain (v0.11's nodeAssigned Events go through a queue of 2 senders per speaker):
    // the window opens once 30 s pass without a speaker write, or after 10 minutes.
    let quietSince = Date.now();
    let lastSum = speakerSum(await metrics());
    while (Date.now() - quietSince < 30_000 && Date.now() - startAt < 600_000) {
      await new Promise((r) => setTimeout(r, 5_000));
      const sum = speakerSum(await metrics());
      if (sum !== lastSum) { lastSum = sum; quietSince = Date.now(); }
    }
    const before = await metrics();
    const firstStart = diff(before, beforeStart);
    const drainedAfter = (quietSince - startAt) / 1000;
    const changesSoFar = () => [...tl.changes.values()].reduce((n, l) => n + l.length, 0);
    const changesBefore = changesSoFar();
    const restStart = Date.now();
    const perMinute: number[] = [];
    let mark = speakerSum(before);
    while (Date.now() - restStart < REST_SECONDS * 1000) {
      await new Promise((r) => setTimeout(r, Math.min(60_000, REST_SECONDS * 1000 - (Date.now() - restStart))));
      const sum = speakerSum(await metrics());
      perMinute.push(sum - mark);
      mark = sum;
    }
    const restMinutes = (Date.now() - restStart) / 60_000;
    const atRest = diff(await metrics(), before);
    const annotationChanges = changesSoFar() - changesBefore;
    const speakerWrites = speakerSum(atRest);
    const allWrites = [...atRest.values()].reduce((n, v) => n + v, 0);
    const breakdown = [...atRest].map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
    const startBreakdown = [...firstStart].filter(([k]) => SPEAKER_RESOURCES.has(k.split('/')[0]!)).map(([k, v]) => `${k} ${v}`).join(', ');
    const loadAfterRest = loadavg();

    // ---- faults: SIGKILL one owner, then restart it and let it take its Services back
    const failover: number[] = [];
    const failoverLast: number[] = [];
    const handback: number[] = [];
    const handbackLast: number[] = [];
    const failoverFirst: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const killed = NODES[trial % NODES.length]!;
      const its = bulk.filter((n) => owners.get(n) === killed);
      const killAt = Date.now();
      speakers.get(killed)!.kill('SIGKILL');
      const movedAway = (n: string) => tl.firstAfter(n, killAt, (nodes) => nodes.length === 1 && nodes[0] !== killed);
      await eventually(() => its.every((n) => movedAway(n) !== undefined), 120_000, `trial ${trial}: every Service of ${killed} names another node`, 200);
      const delays = its.map((n) => movedAway(n)! - killAt);
      failover.push(...delays);
      failoverLast.push(Math.max(...delays));
      failoverFirst.push(Math.min(...delays));
      await speakers.get(killed)!.exited;

      const restartAt = Date.now();
      const sp = await start(NODES.indexOf(killed));
      const back = (n: string) => tl.firstAfter(n, restartAt, (nodes) => nodes.length === 1 && nodes[0] === killed);
      await eventually(() => its.every((n) => back(n) !== undefined), 300_000, `trial ${trial}: every Service back on ${killed}`, 200);
      const announced = new Map<string, number>();
      for (const l of sp.lines) {
        if (l['event'] === 'serviceAnnounced' && typeof l['service'] === 'string' && !announced.has(l['service'])) announced.set(l['service'], Date.parse(String(l['ts'])));
      }
      const back2 = its.filter((n) => announced.has(`${ns}/${n}`)).map((n) => back(n)! - announced.get(`${ns}/${n}`)!);
      handback.push(...back2);
      if (back2.length > 0) handbackLast.push(Math.max(...back2));
      // Settled before the next fault: every Service on its first owner, full gossip everywhere.
      await eventually(async () => bulk.every((n) => tl.now().get(n)?.join() === owners.get(n)) && await aliveEverywhere(), 300_000, `trial ${trial}: settled`, 500);
      // Restarted speakers sent their nodeAssigned Events and alive views; let them through before the next kill.
      await new Promise((r) => setTimeout(r, 2_000));
    }
    const loadAtEnd = loadavg();
    const r = Math.round;
    const pct = (v: readonly number[], p: number) => r(percentile(v, p));
    const results: BenchResult[] = [
      { name: 'writes of services, pods and events at rest, 1,000 Services, 3 speakers', value: Number((speakerWrites / restMinutes).toFixed(2)), unit: 'writes/min',
        note: `goal 0; apiserver_request_total write verbs over ${(restMinutes * 60).toFixed(0)} s: ${breakdown} (all resources ${(allWrites / restMinutes).toFixed(1)}/min; leases are the control plane's own); speaker writes per minute ${perMinute.join(' ')}; announce-annotation changes seen by a watch: ${annotationChanges}; load ${loadAfterRest}` },
      { name: 'first start of the 3 speakers: writes of services, pods and events until quiet', value: speakerSum(firstStart), unit: 'writes',
        note: `${startBreakdown}; quiet ${drainedAfter.toFixed(0)} s after the start${drainedAfter * 1000 + 30_000 >= 600_000 ? ' (NOT quiet within 10 minutes)' : ''}` },
    ];
    if (TRIALS > 0) {
      results.push(
        { name: 'SIGKILL of an owner → watch sees the Service name the new owner alone, per Service, p50', value: pct(failover, 50), unit: 'ms',
          note: `${failover.length} Service moves over ${TRIALS} faults (about 1/3 of 1,000 each); p99 ${pct(failover, 99)} ms, max ${r(Math.max(...failover))} ms` },
        { name: 'SIGKILL of an owner → per Service, p99', value: pct(failover, 99), unit: 'ms' },
        { name: 'SIGKILL of an owner → the first of its Services visible, per fault, p50', value: pct(failoverFirst, 50), unit: 'ms',
          note: `${failoverFirst.length} faults; p99 ${pct(failoverFirst, 99)} ms; all: ${failoverFirst.map(r).join(' ')}` },
        { name: 'SIGKILL of an owner → the last of its Services visible, per fault, p50', value: pct(failoverLast, 50), unit: 'ms',
          note: `${failoverLast.length} faults; p99 ${pct(failoverLast, 99)} ms; all: ${failoverLast.map(r).join(' ')}` },
        { name: 'new owner\'s announce (restarted speaker takes its Services back) → watch sees it alone, per Service, p50', value: pct(handback, 50), unit: 'ms',
          note: `${handback.length} Service moves over ${TRIALS} restarts; p99 ${pct(handback, 99)} ms; per restart, the last Service: p50 ${pct(handbackLast, 50)} ms, p99 ${pct(handbackLast, 99)} ms` },
        { name: 'new owner\'s announce → per Service, p99', value: pct(handback, 99), unit: 'ms' },
      );
    }
    results.push({ name: 'load average', value: Number(loadAtEnd.split(' ')[0]), unit: '(1 min, at the end)', note: `at start ${loadAtStart}, after the rest window ${loadAfterRest}, at the end ${loadAtEnd}` });
    return results;
  } finally {
    timeline?.stop();
    for (const sp of speakers.values()) await sp.stop().catch(() => {});
    for (const n of [...names.all].reverse()) await deleteNetns(n);
    if (relay !== undefined) { try { process.kill(relay, 'SIGTERM'); } catch { /* already gone */ } }
    await cluster.stop();
  }
}
