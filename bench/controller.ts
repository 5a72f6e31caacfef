/**
 * Controller throughput on a private real apiserver: 1,000 LoadBalancer Services created by a concurrent client,
 * time until all have an IP, compared with the ceiling measured in the same run — the same apiserver taking 1,000
 * `services/status` PUTs sent with the controller's own ServiceAccount token at the controller's concurrency
 * (CONTROLLER_WORKERS), through the same client library. Also p50/p99 create-to-IP latency and controller RSS idle
 * and holding 1,000 Services.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { V1Service } from '@kubernetes/client-node';
import type { BenchResult } from './types.js';
import { TestCluster } from '../src/testing/cluster/test-cluster.js';
import { ensureBinaries } from '../src/testing/cluster/binaries.js';
import { loadKubeClients, type KubeClients } from '../src/adapters/k8s/client.js';
import { CONTROLLER_WORKERS } from '../src/controller/reconciler.js';
import { eventually, installMetallb, startController } from '../src/testing/metallb/process.js';
import { adminClients, ipsOf, layer2Config, putConfig, serviceBody } from '../src/testing/metallb/kube.js';

const SERVICES = 1000;
const CLIENT_CONCURRENCY = 32;
// IPv6 Services: the test cluster's IPv4 ServiceCIDR is a /25 (128 ClusterIPs), its IPv6 one a /112.
const V6 = { ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack' };

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  }));
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:')) ?? '0';
  return Math.round(Number(/(\d+)/.exec(line)?.[1] ?? 0) / 102.4) / 10;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const names = Array.from({ length: SERVICES }, (_, i) => `svc-${i}`);

/** 1,000 status PUTs with the controller's token at the controller's concurrency: the apiserver's ceiling. */
async function measureCeiling(cluster: TestCluster, admin: KubeClients, controllerKubeconfig: string): Promise<{ ceilingMs: number; createOnlyMs: number }> {
  const ns = await cluster.createNamespace('bench-ceiling');
  const createStart = performance.now();
  await pool(names, CLIENT_CONCURRENCY, async (n) => { await admin.core.createNamespacedService({ namespace: ns, body: serviceBody(ns, n, V6) }); });
  const createOnlyMs = performance.now() - createStart;
  const asController = await loadKubeClients(controllerKubeconfig);
  const list = (await asController.core.listServiceForAllNamespaces({ fieldSelector: `metadata.namespace=${ns}` })).items;
  let i = 0;
  const start = performance.now();
  await pool(list, CONTROLLER_WORKERS, async (svc) => {
    const ip = `fc00:ce11::${(i++).toString(16)}`;
    await asController.core.replaceNamespacedServiceStatus({ name: svc.metadata?.name ?? '', namespace: ns, body: { ...svc, status: { loadBalancer: { ingress: [{ ip }] } } } });
  });
  const ceilingMs = performance.now() - start;
  await pool(names, CLIENT_CONCURRENCY, async (n) => { await admin.core.deleteNamespacedService({ namespace: ns, name: n }); });
  return { ceilingMs, createOnlyMs };
}

/** Records when each Service of ns first shows an IP (admin watch, outside the controller). */
async function watchIps(admin: KubeClients, ns: string): Promise<{ ipAt: Map<string, number>; lastWallMs: () => number; stop: () => Promise<void> }> {
  const ipAt = new Map<string, number>();
  let lastWall = 0;
  const lw = new admin.k8s.ListWatch<V1Service>(`/api/v1/namespaces/${ns}/services`, new admin.k8s.Watch(admin.kc), () => admin.core.listNamespacedService({ namespace: ns }), false);
  const seen = (svc: V1Service) => { const n = svc.metadata?.name ?? ''; if (!ipAt.has(n) && ipsOf(svc).length > 0) { ipAt.set(n, performance.now()); lastWall = Date.now(); } };
  lw.on('add', seen);
  lw.on('update', seen);
  await lw.start();
  return { ipAt, lastWallMs: () => lastWall, stop: () => lw.stop() };
}

/**
 * The controller's own throughput, comparable with the ceiling: 1,000 Services already exist without an IP; time
 * from starting the controller (list, sync, 1,000 status writes and Events) until all have one.
 */
async function measureBacklog(cluster: TestCluster, admin: KubeClients, kubeconfig: string): Promise<{ fromStartMs: number; fromSyncedMs: number }> {
  const ns = await cluster.createNamespace('bench-backlog');
  await pool(names, CLIENT_CONCURRENCY, async (n) => { await admin.core.createNamespacedService({ namespace: ns, body: serviceBody(ns, n, V6) }); });
  const { ipAt, lastWallMs, stop } = await watchIps(admin, ns);
  const start = performance.now();
  const controller = await startController(kubeconfig, ['--log-level=info']);
  await eventually(() => ipAt.size === SERVICES, 300_000, 'every backlog Service has an IP', 20);
  const fromStartMs = Math.max(...ipAt.values()) - start;
  // The controller's own "synced" line (wall clock, as the log's ts) marks when allocation opened.
  const synced = controller.lines.find((l) => l['event'] === 'synced');
  const fromSyncedMs = lastWallMs() - Date.parse(String(synced?.['ts']));
  await stop();
  await controller.stop();
  return { fromStartMs, fromSyncedMs };
}

export async function run(): Promise<BenchResult[]> {
  ensureBinaries();
  const cluster = await TestCluster.start();
  try {
    const kubeconfig = await installMetallb(cluster);
    const admin = await adminClients(cluster);
    await putConfig(admin, layer2Config([{ name: 'bench', addresses: ['fc00:be0c::/116'] }]));
    const { ceilingMs, createOnlyMs } = await measureCeiling(cluster, admin, kubeconfig);
    process.stderr.write(`bench controller: ceiling ${Math.round(ceilingMs)} ms\n`);

    const controller = await startController(kubeconfig, ['--log-level=info']);
    await controller.waitReady();
    await new Promise((r) => setTimeout(r, 2000));
    const idleRss = rssMiB(controller.pid);

    const ns = await cluster.createNamespace('bench');
    const createdAt = new Map<string, number>();
    const { ipAt, stop } = await watchIps(admin, ns);
    const start = performance.now();
    await pool(names, CLIENT_CONCURRENCY, async (n) => {
      createdAt.set(n, performance.now());
      await admin.core.createNamespacedService({ namespace: ns, body: serviceBody(ns, n, V6) });
    });
    const createsDoneMs = performance.now() - start;
    await eventually(() => ipAt.size === SERVICES, 300_000, 'every bench Service has an IP', 20);
    const allMs = Math.max(...ipAt.values()) - start;
    await stop();
    const latencies = names.map((n) => (ipAt.get(n) as number) - (createdAt.get(n) as number)).sort((a, b) => a - b);
    await new Promise((r) => setTimeout(r, 2000));
    const loadedRss = rssMiB(controller.pid);
    await controller.stop();
    const backlog = await measureBacklog(cluster, admin, kubeconfig);
    const round = (x: number) => Math.round(x);
    return [
      { name: `${SERVICES} Services created → all have an IP`, value: round(allMs), unit: 'ms',
        reference: { name: `ceiling: ${SERVICES} services/status PUTs, controller token, ${CONTROLLER_WORKERS} concurrent`, value: round(ceilingMs) },
        note: `the client's creates took ${round(createsDoneMs)} ms (concurrency ${CLIENT_CONCURRENCY}); the last IP came ${round(allMs - createsDoneMs)} ms after the last create` },
      { name: `${SERVICES} Services created → all have an IP, vs the same creates with no controller`, value: round(allMs), unit: 'ms',
        reference: { name: `${SERVICES} creates, no controller running`, value: round(createOnlyMs) },
        note: 'how much the controller slows the apiserver down for the creating client' },
      { name: 'throughput as a fraction of the ceiling (ceiling / time)', value: Number((ceilingMs / allMs).toFixed(3)), unit: 'ratio',
        note: 'goal ≥ 0.70; bounded by the client creating the Services, not by the controller (see the lag above)' },
      { name: 'lag from the last create to the last IP', value: round(allMs - createsDoneMs), unit: 'ms' },
      { name: `${SERVICES} existing Services without IPs: controller synced → all have an IP`, value: round(backlog.fromSyncedMs), unit: 'ms',
        reference: { name: `ceiling: ${SERVICES} services/status PUTs, controller token, ${CONTROLLER_WORKERS} concurrent`, value: round(ceilingMs) },
        note: `${SERVICES} status writes and ${SERVICES} Events; fraction of the ceiling ${(ceilingMs / backlog.fromSyncedMs).toFixed(3)} (goal ≥ 0.70)` },
      { name: `${SERVICES} existing Services without IPs: process start → all have an IP`, value: round(backlog.fromStartMs), unit: 'ms',
        note: 'adds Node start, loading the Kubernetes client, the memberlist Secret check, list and sync' },
      { name: 'create-to-IP latency p50', value: round(percentile(latencies, 50)), unit: 'ms' },
      { name: 'create-to-IP latency p99', value: round(percentile(latencies, 99)), unit: 'ms' },
      { name: 'controller RSS idle (synced, no Services)', value: idleRss, unit: 'MiB' },
      { name: `controller RSS holding ${SERVICES} Services`, value: loadedRss, unit: 'MiB' },
    ];
  } finally {
    await cluster.stop();
  }
}
