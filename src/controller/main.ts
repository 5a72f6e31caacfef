/**
 * Composition root of `metallb-ts controller`: flags and env, logger, Kubernetes clients (loaded lazily), the
 * memberlist Secret, informers on all Services and on the config ConfigMap, one de-duplicating work queue, the
 * reconcile loop over the pure Controller, /metrics, and SIGTERM/SIGINT handling.
 */
import { readFileSync } from 'node:fs';
import { realClock } from '../adapters/clock.js';
import { startFromFlags } from '../adapters/log/startup.js';
import { loadKubeClients, type KubeClients } from '../adapters/k8s/client.js';
import { ensureMemberlistSecret } from '../adapters/k8s/memberlist-secret.js';
import { ResilientInformer } from '../adapters/k8s/informer.js';
import { servicesListWatch } from '../adapters/k8s/list-watches.js';
import { WorkQueue } from '../adapters/k8s/workqueue.js';
import { ReconcileLoop } from '../adapters/k8s/reconcile-loop.js';
import { createStatusWriter } from '../adapters/k8s/status-writer.js';
import { EventRecorder, createEventApi } from '../adapters/k8s/event-recorder.js';
import { createAllocatorMetrics, createK8sClientMetrics, createRegistry } from '../adapters/metrics/registry.js';
import { startMonitoringServer } from '../adapters/metrics/http-server.js';
import { parseConfig } from '../core/config/parse.js';
import type { Logger } from '../core/ports.js';
import { Controller } from './controller.js';
import { CONTROLLER_FLAGS, parseControllerFlags, type ControllerFlags } from './flags.js';
import { goFlagsUsage } from '../core/go/flags.js';
import { CONFIG_KEY, CONTROLLER_WORKERS, ControllerReconciler, LAST_APPLIED_KEY, SYNCED_KEY, serviceKey, type WorkKey } from './reconciler.js';
import type { ServiceObject } from '../core/k8s/objects.js';
import { ConfigSource, configSourceListWatches, createLastAppliedWriter } from '../adapters/k8s/config-source.js';

const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
const EVENT_COMPONENT = 'metallb-controller';

/** Runs the controller until SIGTERM/SIGINT; resolves to the exit code. */
export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  const parsed = parseControllerFlags(argv, env, readServiceAccountNamespace);
  const start = startFromFlags(parsed, () => goFlagsUsage('controller', CONTROLLER_FLAGS));
  if ('exitCode' in start) return start.exitCode;
  const { flags, logger } = start;
  logger.info({ event: 'startUpdate', version: '0.1.0', namespace: flags.namespace, config: flags.config, msg: 'MetalLB controller starting' });
  let clients: KubeClients;
  try {
    clients = await loadKubeClients(flags.kubeconfig);
  } catch (err) {
    logger.error({ op: 'startup', error: String(err), msg: 'failed to create k8s client' });
    return 1;
  }
  if (flags.mlSecretName) {
    const secret = await ensureMemberlistSecret(clients, {
      namespace: flags.namespace, secretName: flags.mlSecretName, deploymentName: flags.deployment ?? 'controller',
    }, logger);
    if (!secret.ok) {
      logger.error({ op: 'startup', error: secret.error, msg: 'failed to create memberlist secret' });
      return 1;
    }
  }
  return runController(flags, clients, logger);
}

async function runController(flags: ControllerFlags, clients: KubeClients, logger: Logger): Promise<number> {
  const registry = createRegistry();
  const clientMetrics = createK8sClientMetrics(registry);
  const allocatorMetrics = createAllocatorMetrics(registry);
  clientMetrics.setConfigStale(false);
  clientMetrics.setConfigLoaded(false);
  const core = new Controller({ logger, ...(flags.lbClass !== undefined ? { lbClass: flags.lbClass } : {}) });
  const queue = new WorkQueue<WorkKey>(realClock);
  // Events wait while status writes are in flight: users wait for the IP, the Event is information.
  let writesInFlight = 0;
  const recorder = new EventRecorder({ api: createEventApi(clients), component: EVENT_COMPONENT, logger, yieldTo: () => writesInFlight > 0 });
  const services = servicesListWatch(clients);
  const onService = (_kind: string, obj: ServiceObject) => queue.add(serviceKey(obj.metadata?.namespace ?? '', obj.metadata?.name ?? ''));
  const serviceInformer = new ResilientInformer<ServiceObject>({ name: 'services', listWatch: services, onChange: onService, clock: realClock, logger });
  // The config ConfigMap and the last-applied store (fail-static across restarts, docs/design/fail-static.md).
  const configSource = new ConfigSource({
    listWatches: configSourceListWatches(clients, flags.namespace, flags.config), namespace: flags.namespace, configName: flags.config, clock: realClock, logger,
    onChange: (which) => queue.add(which === 'config' ? CONFIG_KEY : LAST_APPLIED_KEY),
  });
  const saveApplied = createLastAppliedWriter(clients, flags.namespace, flags.config);
  const writeStatus = createStatusWriter(clients);
  const reconciler = new ControllerReconciler({
    core, logger,
    parseConfig: (text) => parseConfig(text),
    configMap: () => configSource.configMap(),
    stored: () => configSource.stored(),
    saveApplied,
    lbClass: flags.lbClass,
    service: (nsName) => { const i = nsName.indexOf('/'); return serviceInformer.get(nsName.slice(i + 1), nsName.slice(0, i)); },
    services: () => serviceInformer.list(),
    writeStatus: async (svc, ingress) => {
      writesInFlight += 1;
      try { return await writeStatus(svc, ingress); } finally {
        writesInFlight -= 1;
        if (writesInFlight === 0) recorder.resume();
      }
    },
    recordEvent: (target, event) => recorder.record(target, event),
    metrics: {
      setConfigLoaded: (b) => clientMetrics.setConfigLoaded(b),
      setConfigStale: (b) => clientMetrics.setConfigStale(b),
      setPoolStats: (s) => allocatorMetrics.setPoolStats(s),
    },
    enqueue: (key) => queue.add(key),
  });
  const loop = new ReconcileLoop<WorkKey>({
    queue, workers: CONTROLLER_WORKERS, counters: clientMetrics, logger,
    handle: (key) => reconciler.handle(key),
    reprocessAll: (key) => reconciler.reprocessAll(key),
  });
  let server;
  try {
    server = await startMonitoringServer({ port: flags.port, registry, ready: () => reconciler.synced, logger });
  } catch (err) {
    logger.error({ op: 'startup', error: String(err), msg: `failed to listen on port ${flags.port}` });
    return 1;
  }
  loop.start();
  serviceInformer.start();
  configSource.start();
  void Promise.all([serviceInformer.whenSynced(), configSource.whenSynced()]).then(() => {
    logger.info({ event: 'cachesSynced', msg: 'informer caches synced; registering existing assignments' });
    queue.add(SYNCED_KEY);
  });
  const signal = await waitForSignal();
  logger.info({ event: 'shutdown', signal, msg: 'stopping' });
  queue.shutdown();
  await Promise.all([serviceInformer.stop(), configSource.stop()]);
  await Promise.race([Promise.all([loop.stopped(), recorder.flush()]), delay(2000)]);
  await server.close();
  return 0;
}

function readServiceAccountNamespace(): string | undefined {
  try { return readFileSync(SA_NAMESPACE_FILE, 'utf8'); } catch { return undefined; }
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => resolve(sig));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => { setTimeout(resolve, ms).unref(); });
}
