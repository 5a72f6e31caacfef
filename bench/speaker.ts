/**
 * Issue 9: the speaker's memory. `metallb-ts speaker`, started as the DaemonSet starts it (its ServiceAccount's
 * token, `--log-level=info`), runs in a node namespace of the lab topology (prefix METALLB_TS_LAB_PREFIX, default
 * `spb-`) against a private real apiserver, with its Node Ready and its Pod Running and Ready, so it is alive and
 * announces. RSS is read from /proc (VmRSS, VmHWM) for the speaker process and its responder host child (the
 * container's memory limit covers both).
 * - Idle (synced, a layer-2 pool, no Services), beside references started in the same run: bare Node, a Node
 *   process that has only imported @kubernetes/client-node (the floor; goal: idle within 1.3× of it), and
 *   MetalLB v0.11's own speaker (the binary of ../shared/lab/metallb-v011.md, found through METALLB_V011_SPEAKER,
 *   ~/.cache/metallb-ts/metallb-v011/speaker or /tmp/mlb011/bin/speaker) idling in another node namespace.
 * - Holding SPEAKER_BENCH_SERVICES (default 10,000) announced Services (IPv6: the documentation IPv4 ranges hold
 *   768 addresses), each with an IP in its status and a ready endpoint on the speaker's node in a hand-written
 *   EndpointSlice: RSS after all are announced, and the peak, against 70% of the speaker's memory limit in
 *   manifests/metallb.yaml.
 * Needs root. `npm run bench -- speaker` runs it alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import yaml from 'js-yaml';
import type { BenchResult } from './types.js';
import { TestCluster } from '../src/testing/cluster/test-cluster.js';
import { ensureBinaries, repoRoot } from '../src/testing/cluster/binaries.js';
import { run as runCommand } from '../src/testing/cluster/processes.js';
import { METALLB_NS, eventually, installMetallb, startSpeaker } from '../src/testing/metallb/process.js';
import { adminClients } from '../src/testing/metallb/kube.js';
import { buildTopology, deleteNetns, netnsPids, topologyNames } from '../src/lab/topology.js';
import { createNodes } from '../src/lab/kube.js';
import { writePod } from '../src/lab/kubelet.js';
import type { KubeClients } from '../src/adapters/k8s/client.js';

const PREFIX = process.env['METALLB_TS_LAB_PREFIX'] ?? 'spb-';
const SERVICES = Number(process.env['SPEAKER_BENCH_SERVICES'] ?? 10_000);
const CONCURRENCY = 32;
const CONFIG = 'bench-config';
const OURS_LABELS = { app: 'metallb', component: 'speaker', bench: 'ours' };
const V011_LABELS = { app: 'mlb011', component: 'speaker' };
const POOL = '2001:db8:9::/112';
const names = topologyNames(PREFIX);
const [node1, node2] = names.nodes as [typeof names.nodes[0], typeof names.nodes[0]];

/**
 * VmRSS and RssAnon of a process, MiB (0 when it is gone). RssAnon is what a memory limit really bites on:
 * the rest of RSS is clean file pages (the node binary's text, shared by both processes and counted in each
 * one's VmRSS), which the kernel reclaims before it OOM-kills.
 */
function mem(pid: number | undefined): { rss: number; anon: number } {
  let text = '';
  try { text = readFileSync(`/proc/${pid}/status`, 'utf8'); } catch { return { rss: 0, anon: 0 }; }
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, anon: kib('RssAnon') / 1024 };
}

/**
 * What the container's memory cgroup holds for speaker + responder host, MiB: the speaker's RSS plus the host's
 * anonymous memory (the file pages both map, mostly the node binary, are charged to the cgroup once). The plain
 * sum of both RSS counts those pages twice: an upper bound.
 */
function containerMiB(speaker: number, host: number | undefined): { container: number; rssSum: number; anonSum: number } {
  const a = mem(speaker); const b = mem(host);
  return { container: a.rss + b.anon, rssSum: a.rss + b.rss, anonSum: a.anon + b.anon };
}

/** Samples containerMiB every 500 ms; the peaks. */
function peakSampler(sample: () => ReturnType<typeof containerMiB>): { stop(): ReturnType<typeof containerMiB> } {
  const peak = { container: 0, rssSum: 0, anonSum: 0 };
  const take = () => { const m = sample(); for (const k of Object.keys(peak) as Array<keyof typeof peak>) peak[k] = Math.max(peak[k], m[k]); };
  const timer = setInterval(take, 500);
  return { stop: () => { clearInterval(timer); take(); return peak; } };
}

function children(pid: number): number[] {
  try { return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); } catch { return []; }
}

const mib = (x: number) => Math.round(x * 10) / 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median VmRSS of `pid` over 5 samples 1 s apart. */
async function idleRss(pid: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) { xs.push(mem(pid).rss); await sleep(1000); }
  return median(xs);
}

/** A reference Node process (`-e` code), its idle RSS after it settled, then stopped. */
async function nodeFloor(code: string): Promise<number> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => { child.stdout.once('data', () => resolve()); child.once('exit', (c) => reject(new Error(`reference exited ${c}`))); });
  await sleep(2000);
  const rss = await idleRss(child.pid!);
  child.kill('SIGKILL');
  return rss;
}

function v011Binary(): string | undefined {
  return [process.env['METALLB_V011_SPEAKER'], join(homedir(), '.cache', 'metallb-ts', 'metallb-v011', 'speaker'), '/tmp/mlb011/bin/speaker']
    .find((p): p is string => p !== undefined && existsSync(p));
}

/** The speaker container's memory limit in manifests/metallb.yaml, MiB. */
function manifestLimitMiB(): number {
  const docs = yaml.loadAll(readFileSync(join(repoRoot(), 'manifests', 'metallb.yaml'), 'utf8')) as Array<Record<string, any>>;
  const ds = docs.find((d) => d?.['kind'] === 'DaemonSet' && d['metadata']?.['name'] === 'speaker');
  const limit = String(ds?.['spec']?.['template']?.['spec']?.['containers']?.find((c: { name: string }) => c.name === 'speaker')?.['resources']?.['limits']?.['memory'] ?? '');
  const m = /^(\d+)(Mi|Gi)$/.exec(limit);
  if (!m) throw new Error(`cannot read the speaker's memory limit from the manifest (${limit})`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

async function pool<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => { while (next < items.length) await fn(items[next++] as T); }));
}

/** Service i: selector-less, status IP POOL+i+1, a ready endpoint on node1 (so node1's speaker announces it). */
async function writeService(admin: KubeClients, ns: string, i: number): Promise<void> {
  const name = `s${i}`;
  const ip = `2001:db8:9::${(i + 1).toString(16)}`;
  const svc = await admin.core.createNamespacedService({ namespace: ns, body: { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns },
    spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack', ports: [{ port: 80, protocol: 'TCP' }] } } });
  await admin.core.replaceNamespacedServiceStatus({ namespace: ns, name, body: { ...svc, status: { loadBalancer: { ingress: [{ ip }] } } } });
  const discovery = admin.kc.makeApiClient(admin.k8s.DiscoveryV1Api);
  await discovery.createNamespacedEndpointSlice({ namespace: ns, body: {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv6',
    metadata: { name: `${name}-bench`, namespace: ns, labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'metallb-ts-bench' } },
    endpoints: [{ addresses: [node1.ipv6], nodeName: node1.name, conditions: { ready: true } }], ports: [{ port: 80, protocol: 'TCP' }] } });
}

async function cleanupNetns(): Promise<void> {
  for (const ns of [...names.all].reverse()) {
    for (const pid of await netnsPids(ns)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    await deleteNetns(ns);
  }
}

export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces)');
  ensureBinaries();
  const results: BenchResult[] = [];
  // References first, on a quiet process table.
  const bare = await nodeFloor('process.stdout.write("up\\n"); setInterval(() => {}, 1 << 30);');
  const floor = await nodeFloor('await import("@kubernetes/client-node"); process.stdout.write("up\\n"); setInterval(() => {}, 1 << 30);');
  await cleanupNetns();
  const cluster = await TestCluster.start();
  let relay: number | undefined;
  let v011: ChildProcess | undefined;
  let ours: Awaited<ReturnType<typeof startSpeaker>> | undefined;
  try {
    await installMetallb(cluster);
    const kubeconfig = await cluster.kubeconfigFor(METALLB_NS, 'speaker');
    const admin = await adminClients(cluster);
    await buildTopology(PREFIX, () => {});
    relay = await cluster.exposeInNetns([node1.netns, node2.netns]);
    await createNodes(cluster, [node1, node2]);
    await writePod(cluster, { name: 'speaker-node1', namespace: METALLB_NS, node: node1, labels: OURS_LABELS });
    await writePod(cluster, { name: 'mlb011-speaker-node2', namespace: METALLB_NS, node: node2, labels: V011_LABELS });
    await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CONFIG, namespace: METALLB_NS },
      data: { config: `address-pools:\n- name: bench\n  protocol: layer2\n  addresses:\n  - ${POOL}\n` } }) });

    ours = await startSpeaker(kubeconfig, { nodeName: node1.name, netns: node1.netns, host: node1.ipv4,
      mlLabels: Object.entries(OURS_LABELS).map(([k, v]) => `${k}=${v}`).join(','), extraArgs: [`--config=${CONFIG}`, '--log-level=info'] });
    await ours.waitReady(60_000);
    const v011Path = v011Binary();
    if (v011Path !== undefined) {
      v011 = spawn('ip', ['netns', 'exec', node2.netns, v011Path, `--kubeconfig=${kubeconfig}`, `--namespace=${METALLB_NS}`, `--node-name=${node2.name}`,
        `--host=${node2.ipv4}`, '--port=7472', `--ml-bindaddr=${node2.ipv4}`, `--ml-labels=app=mlb011,component=speaker`, '--ml-secret-key=bench',
        `--config=${CONFIG}`, '--log-level=info'], { stdio: ['ignore', 'ignore', 'ignore'] });
      await eventually(async () => (await runCommand('ip', ['netns', 'exec', node2.netns, 'curl', '-sf', '-m', '2', `http://${node2.ipv4}:7472/metrics`])).code === 0,
        60_000, 'MetalLB v0.11 speaker serves /metrics', 500);
    }
    await sleep(5000); // both synced and past their start-up work
    const host = () => children(ours!.pid)[0];
    const oursIdle = await idleRss(ours.pid);
    const hostIdle = mem(host()).rss;
    const idle = containerMiB(ours.pid, host());
    const v011Idle = v011?.pid === undefined ? NaN : await idleRss(v011.pid);
    v011?.kill('SIGKILL');
    const refs = `same run: bare Node ${mib(bare)} MiB, client-node floor ${mib(floor)} MiB, MetalLB v0.11 speaker ${v011Path ? `${mib(v011Idle)} MiB` : 'not measured (binary not built: ../shared/lab/metallb-v011.md)'}`;
    results.push({ name: 'speaker RSS idle (speaker process)', value: mib(oursIdle), unit: 'MiB', reference: { name: 'Node that only imported @kubernetes/client-node', value: mib(floor) }, note: `goal ≤ 1.3×; ${refs}; 5 samples, median` });
    results.push({ name: 'speaker memory idle, container (speaker RSS + responder host anonymous)', value: mib(idle.container), unit: 'MiB', reference: { name: 'MetalLB v0.11 speaker RSS', value: mib(v011Idle) },
      note: `responder host RSS ${mib(hostIdle)} MiB (a second Node process; the container limit covers both); sum of both RSS ${mib(oursIdle + hostIdle)} MiB (counts the node binary twice); anonymous ${mib(idle.anonSum)} MiB` });
    results.push({ name: 'reference: bare Node RSS idle', value: mib(bare), unit: 'MiB' });

    const ns = await cluster.createNamespace('speaker-bench');
    const sampler = peakSampler(() => containerMiB(ours!.pid, host()));
    const t0 = Date.now();
    await pool(Array.from({ length: SERVICES }, (_, i) => i), (i) => writeService(admin, ns, i));
    const written = Date.now() - t0;
    const announcedCount = async () => (await ours!.metrics()).split('\n').filter((l) => l.startsWith('metallb_speaker_announced{')).length;
    await eventually(async () => (await announcedCount()) >= SERVICES, 900_000, `${SERVICES} Services announced`, 5000);
    const allAnnounced = Date.now() - t0;
    await sleep(10_000);
    const loaded = await idleRss(ours.pid);
    const held = containerMiB(ours.pid, host());
    const peak = sampler.stop();
    const limit = manifestLimitMiB();
    const joinErrors = ours.lines.filter((l) => l['op'] === 'joinMulticastGroup').length;
    const errors = ours.lines.filter((l) => l['level'] === 'error').length;
    const ref = { name: `70% of the manifest's speaker memory limit (${limit} Mi)`, value: mib(0.7 * limit) };
    results.push({ name: `speaker memory holding ${SERVICES} announced Services, container`, value: mib(held.container), unit: 'MiB', reference: ref,
      note: `speaker RSS ${mib(loaded)} MiB (median of 5); sum of both RSS ${mib(held.rssSum)}, anonymous ${mib(held.anonSum)} MiB; written in ${Math.round(written / 1000)} s, all announced after ${Math.round(allAnnounced / 1000)} s; error log lines ${errors} (multicast joins ${joinErrors})` });
    results.push({ name: `speaker memory peak while taking ${SERVICES} Services, container`, value: mib(peak.container), unit: 'MiB', reference: ref,
      note: `sampled every 500 ms; peak sum of both RSS ${mib(peak.rssSum)}, peak anonymous ${mib(peak.anonSum)} MiB` });
  } finally {
    v011?.kill('SIGKILL');
    await ours?.stop().catch(() => {});
    if (relay !== undefined) { try { process.kill(relay, 'SIGTERM'); } catch { /* gone */ } }
    await cleanupNetns();
    await cluster.stop();
  }
  return results;
}
