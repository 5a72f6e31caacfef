/**
 * `metallb-ts controller` against a real kube-apiserver, as a child process with the `controller` ServiceAccount's
 * token (the RBAC of manifests/metallb.yaml). The ConfigMap `config` in metallb-system is shared cluster state, so
 * every scenario lives in this one file and runs serially; each uses its own namespace and pool addresses.
 */
import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../conformance/vectors.js';
import { getTestCluster, type TestCluster } from '../../src/testing/cluster/test-cluster.js';
import type { V1Service } from '@kubernetes/client-node';
import type { KubeClients } from '../../src/adapters/k8s/client.js';
import { METALLB_NS, eventually, installMetallb, startController, type ControllerProcess } from '../../src/testing/metallb/process.js';
import {
  adminClients, createService as createAnyService, deleteConfig, deleteService, eventsFor, getService, ipsOf, layer2Config, putConfig, waitForEvent, waitForIps,
} from '../../src/testing/metallb/kube.js';

const SEED_POOL = '192.168.1.230-192.168.1.240';
/**
 * Other test files share this cluster and may create LoadBalancer Services at any time; the controllers here
 * serve only this class so those never take addresses from the pools counted below (the `--lb-class` scenario
 * checks class-less Services separately).
 */
const CLASS = 'metallb-ts.test/e2e-controller';
let env: { cluster: TestCluster; k: KubeClients; kubeconfig: string } | undefined;
const running: ControllerProcess[] = [];

async function setup(): Promise<{ cluster: TestCluster; k: KubeClients; kubeconfig: string }> {
  if (!env) {
    const cluster = await getTestCluster();
    const kubeconfig = await installMetallb(cluster);
    env = { cluster, k: await adminClients(cluster), kubeconfig };
  }
  return env;
}

async function controller(extra: string[] = []): Promise<ControllerProcess> {
  const { kubeconfig } = await setup();
  // A scenario that failed half-way left its controller running: never let two controllers race.
  await Promise.all(running.splice(0).map((old) => old.stop()));
  const c = await startController(kubeconfig, extra.some((a) => a.startsWith('--lb-class')) ? extra : [`--lb-class=${CLASS}`, ...extra]);
  running.push(c);
  await c.waitReady();
  return c;
}

after(async () => {
  await Promise.all(running.map((c) => c.stop()));
});

/**
 * A scenario that failed half-way left its controller running and its Services holding addresses: stop the one and
 * delete the others, so the next scenario neither races that controller nor sees its config refused for them.
 */
afterEach(async () => {
  await Promise.all(running.splice(0).map((old) => old.stop()));
  if (!env) return;
  const { k } = env;
  const leftovers = (await k.core.listServiceForAllNamespaces()).items.filter((s) => s.spec?.loadBalancerClass === CLASS);
  await Promise.all(leftovers.map((s) => deleteService(k, s.metadata?.namespace ?? '', s.metadata?.name ?? '').catch(() => undefined)));
  await eventually(async () => !(await k.core.listServiceForAllNamespaces()).items.some((s) => s.spec?.loadBalancerClass === CLASS), 30_000, 'leftover Services deleted');
});

/** Creates a Service of this file's class (a ClusterIP one cannot carry a class). */
function createService(k: KubeClients, ns: string, name: string, o: Parameters<typeof createAnyService>[3] = {}) {
  const classed = (o.type ?? 'LoadBalancer') === 'LoadBalancer' && o.loadBalancerClass === undefined;
  return createAnyService(k, ns, name, classed ? { ...o, loadBalancerClass: CLASS } : o);
}

/** Deletes the namespace's Services now (the next scenario's config must not see their addresses), then the namespace. */
async function cleanup(cluster: TestCluster, ns: string): Promise<void> {
  await cluster.kubectl(['delete', 'services', '--all', '-n', ns, '--wait=true']);
  await cluster.kubectl(['delete', 'namespace', ns, '--wait=false']);
}

/**
 * Waits for evidence that the controller processed this very version of the Service after its synced sweep (instead
 * of sleeping and hoping it was fast enough): its `endUpdate` debug line naming the Service and the resourceVersion
 * it decided on. A counter such as `metallb_k8s_client_updates_total` cannot tell which key it counted.
 */
async function processed(c: ControllerProcess, svc: V1Service): Promise<void> {
  const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
  const version = svc.metadata?.resourceVersion;
  assert.ok(version, `${key} has a resourceVersion`);
  await eventually(() => {
    const synced = c.lines.findIndex((l) => l['event'] === 'stateSynced');
    return synced >= 0 && c.lines.slice(synced).some((l) => l['event'] === 'endUpdate' && l['service'] === key && l['resourceVersion'] === version);
  }, 20_000, `the controller processed ${key}@${version} (${c.tail()})`);
}

/** Read-modify-replace of a Service's spec or metadata, retried on a conflict (the controller writes status). */
async function editService(k: KubeClients, ns: string, name: string, change: (svc: V1Service) => void): Promise<V1Service> {
  for (;;) {
    const svc = await getService(k, ns, name);
    change(svc);
    try {
      return await k.core.replaceNamespacedService({ namespace: ns, name, body: svc });
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
  }
}

/** Asserts the controller is still the same live process and wrote only JSON lines. */
function assertHealthy(c: ControllerProcess): void {
  assert.equal(c.child.exitCode, null, `controller exited: ${c.tail()}`);
  assert.deepEqual(c.nonJson, [], 'every stdout line is JSON');
  for (const line of c.lines) {
    assert.ok(typeof line['ts'] === 'string' && typeof line['level'] === 'string' && typeof line['caller'] === 'string' && typeof line['msg'] === 'string', JSON.stringify(line));
    assert.ok(line['event'] !== undefined || line['op'] !== undefined, `event or op: ${JSON.stringify(line)}`);
  }
}

test('seed flow: pool IPs, loadBalancerIP, pool annotation, sharing, exhaustion, pool edits and a refused removal', async () => {
  const { cluster, k } = await setup();
  await putConfig(k, layer2Config([{ name: 'default', addresses: [SEED_POOL] }]));
  const c = await controller();
  const ns = await cluster.createNamespace('seed');

  await createService(k, ns, 'nginx');
  assert.deepEqual(await waitForIps(k, ns, 'nginx'), ['192.168.1.230'], 'first address of the seed pool');
  const allocated = await waitForEvent(k, ns, 'Service', 'nginx', 'IPAllocated');
  assert.equal(allocated.type, 'Normal');
  assert.equal(allocated.source?.component, 'metallb-controller');

  await createService(k, ns, 'fixed', { loadBalancerIP: '192.168.1.238' });
  assert.deepEqual(await waitForIps(k, ns, 'fixed'), ['192.168.1.238']);

  await putConfig(k, layer2Config([{ name: 'default', addresses: [SEED_POOL] }, { name: 'extra', addresses: ['192.168.2.0/30'], autoAssign: false }]));
  await createService(k, ns, 'by-pool', { annotations: { 'metallb.universe.tf/address-pool': 'extra' } });
  assert.deepEqual(await waitForIps(k, ns, 'by-pool'), ['192.168.2.0'], 'annotation picks the pool; .0 is allocatable without avoid-buggy-ips');

  const shared = { 'metallb.universe.tf/allow-shared-ip': 'web' };
  await createService(k, ns, 'share-a', { annotations: shared, loadBalancerIP: '192.168.1.235', ports: [{ port: 80 }] });
  await createService(k, ns, 'share-b', { annotations: shared, loadBalancerIP: '192.168.1.235', ports: [{ port: 443 }] });
  assert.deepEqual(await waitForIps(k, ns, 'share-a'), ['192.168.1.235']);
  assert.deepEqual(await waitForIps(k, ns, 'share-b'), ['192.168.1.235'], 'same key, disjoint ports: one address');

  // 11 addresses: nginx .230, fixed .238, shared .235 → 8 left; the 9th auto service finds none.
  for (let i = 0; i < 8; i += 1) await createService(k, ns, `fill-${i}`);
  for (let i = 0; i < 8; i += 1) await waitForIps(k, ns, `fill-${i}`);
  await createService(k, ns, 'overflow');
  const failed = await waitForEvent(k, ns, 'Service', 'overflow', 'AllocationFailed');
  assert.equal(failed.type, 'Warning');
  assert.match(failed.message ?? '', /no available IPs/);
  assert.deepEqual(ipsOf(await getService(k, ns, 'overflow')), []);
  await deleteService(k, ns, 'fill-3');
  assert.equal((await waitForIps(k, ns, 'overflow')).length, 1, 'the freed address goes to the waiting Service');

  // Removing the in-use pool "extra" is refused: IPs unchanged, stale 1, Warning on the ConfigMap naming the blocker.
  await putConfig(k, layer2Config([{ name: 'default', addresses: [SEED_POOL] }, { name: 'more', addresses: ['192.168.3.0/29'] }]));
  const refused = await waitForEvent(k, METALLB_NS, 'ConfigMap', 'config', 'ConfigRefused');
  assert.equal(refused.type, 'Warning');
  assert.match(refused.message ?? '', new RegExp(`${ns}/by-pool`));
  await eventually(async () => (await c.metric('metallb_k8s_client_config_stale_bool')) === 1, 10_000, 'config_stale_bool 1');
  assert.deepEqual(ipsOf(await getService(k, ns, 'by-pool')), ['192.168.2.0']);
  assert.ok(c.lines.some((l) => l['op'] === 'setConfig' && typeof l['error'] === 'string'), 'a log line names the refusal');

  await deleteService(k, ns, 'by-pool');
  await waitForEvent(k, METALLB_NS, 'ConfigMap', 'config', 'ConfigApplied');
  await eventually(async () => (await c.metric('metallb_k8s_client_config_stale_bool')) === 0, 10_000, 'config_stale_bool 0');
  await eventually(async () => (await c.metric('metallb_allocator_addresses_total', 'pool="more"')) === 8, 10_000, 'new pool "more" in metrics');
  assert.equal(await c.metric('metallb_allocator_addresses_total', 'pool="extra"'), undefined, 'removed pool has no series');
  assert.equal(await c.metric('metallb_allocator_addresses_in_use_total', 'pool="default"'), 11, 'the pool is full; the shared address counts once');
  assertHealthy(c);
  await c.stop();
  await cleanup(cluster, ns);
});

test('a missing ConfigMap allocates nothing until it is created; a parse error keeps the last good config', async () => {
  const { cluster, k } = await setup();
  await putConfig(k, undefined);
  const c = await controller();
  await eventually(async () => (await c.metric('metallb_k8s_client_config_loaded_bool')) === 1, 10_000, 'a ConfigMap without data.config is a valid empty config');
  assert.equal(await c.metric('metallb_k8s_client_config_stale_bool'), 0);

  await putConfig(k, layer2Config([{ name: 'p', addresses: ['192.168.10.0/29'] }]));
  const ns = await cluster.createNamespace('cfg');
  await createService(k, ns, 'a');
  assert.deepEqual(await waitForIps(k, ns, 'a'), ['192.168.10.0'], 'a ConfigMap edit takes effect (same process)');

  await putConfig(k, 'address-pools: [ {');
  await eventually(async () => (await c.metric('metallb_k8s_client_config_stale_bool')) === 1, 10_000, 'stale after a parse error');
  const refused = await waitForEvent(k, METALLB_NS, 'ConfigMap', 'config', 'ConfigRefused');
  assert.equal(refused.type, 'Warning');
  await createService(k, ns, 'b');
  assert.deepEqual(await waitForIps(k, ns, 'b'), ['192.168.10.1'], 'the last good config keeps allocating');

  await deleteConfig(k);
  await c.waitForLog((l) => l['error'] === 'configuration is missing');
  await processed(c, await createService(k, ns, 'c'));
  assert.deepEqual(ipsOf(await getService(k, ns, 'c')), [], 'no allocation while the ConfigMap is absent');
  assert.equal(await c.metric('metallb_k8s_client_config_stale_bool'), 1);
  assert.deepEqual(ipsOf(await getService(k, ns, 'a')), ['192.168.10.0'], 'nothing released while the ConfigMap is absent');

  await putConfig(k, layer2Config([{ name: 'p', addresses: ['192.168.10.0/29'] }]));
  assert.deepEqual(await waitForIps(k, ns, 'c'), ['192.168.10.2'], 'creating the ConfigMap later takes effect');
  assert.equal(c.pid, running[0]?.pid);
  assertHealthy(c);
  await c.stop();
  await cleanup(cluster, ns);
});

/** Total `count` of the ConfigRefused Events on the ConfigMap (the recorder aggregates repeats into one Event). */
async function refusalCount(k: KubeClients): Promise<number> {
  return (await eventsFor(k, METALLB_NS, 'ConfigMap', 'config')).filter((e) => e.reason === 'ConfigRefused').reduce((n, e) => n + (e.count ?? 1), 0);
}

test('fail-static survives restarts (issue 8 fault 5): a refused config stays refused, edits made while down are checked too', async () => {
  const { cluster, k } = await setup();
  const lab = { name: 'lab', addresses: ['192.168.40.0/29'] };
  await putConfig(k, layer2Config([{ name: 'probe', addresses: ['198.51.100.0/28'], autoAssign: false }, lab]));
  let c = await controller();
  const ns = await cluster.createNamespace('failstatic');
  await createService(k, ns, 'probe', { annotations: { 'metallb.universe.tf/address-pool': 'probe' } });
  assert.deepEqual(await waitForIps(k, ns, 'probe'), ['198.51.100.0']);
  await eventually(async () => (await k.core.readNamespacedConfigMap({ namespace: METALLB_NS, name: 'config-last-applied' })).data?.['config']?.includes('198.51.100.0/28') === true,
    10_000, 'the applied config is persisted in config-last-applied');
  // Re-applying the manifest (an upgrade) keeps what the controller wrote, quietly.
  const reapply = await cluster.kubectlResult(['apply', '-f', join(repoRoot, 'manifests', 'metallb.yaml')]);
  assert.deepEqual([reapply.code, reapply.stderr], [0, '']);
  assert.match((await k.core.readNamespacedConfigMap({ namespace: METALLB_NS, name: 'config-last-applied' })).data?.['config'] ?? '', /198\.51\.100\.0\/28/);

  // Remove "probe": refused while running (as before).
  await putConfig(k, layer2Config([lab]));
  await waitForEvent(k, METALLB_NS, 'ConfigMap', 'config', 'ConfigRefused');
  await eventually(async () => (await c.metric('metallb_k8s_client_config_stale_bool')) === 1, 10_000, 'stale 1');

  // SIGKILL and start again, twice: the new process refuses the same config again, keeps the address, runs the stored config.
  for (const round of [1, 2]) {
    const before = await refusalCount(k);
    const probeVersion = (await getService(k, ns, 'probe')).metadata?.resourceVersion;
    c.kill('SIGKILL');
    await c.exited;
    running.splice(0);
    c = await controller();
    await eventually(async () => (await refusalCount(k)) > before, 10_000, `round ${round}: the new process raises the Warning again`);
    assert.equal(await c.metric('metallb_k8s_client_config_stale_bool'), 1, `round ${round}: stale 1 in the new process`);
    assert.equal(await c.metric('metallb_k8s_client_config_loaded_bool'), 1, `round ${round}: the stored config is loaded`);
    await createService(k, ns, `new-${round}`);
    assert.equal((await waitForIps(k, ns, `new-${round}`))[0]?.startsWith('192.168.40.'), true, `round ${round}: the stored config allocates`);
    const probe = await getService(k, ns, 'probe');
    assert.deepEqual(ipsOf(probe), ['198.51.100.0'], `round ${round}: the probe Service keeps its address`);
    assert.equal(probe.metadata?.resourceVersion, probeVersion, `round ${round}: no status write on the probe Service`);
  }

  // An edit made while the controller is down (another refused config) is checked at start too.
  c.kill('SIGKILL');
  await c.exited;
  running.splice(0);
  await putConfig(k, layer2Config([lab, { name: 'other', addresses: ['192.168.41.0/29'] }]));
  const before = await refusalCount(k);
  c = await controller();
  await eventually(async () => (await refusalCount(k)) > before, 10_000, 'the edit made while down is refused at start');
  assert.equal(await c.metric('metallb_k8s_client_config_stale_bool'), 1);
  assert.deepEqual(ipsOf(await getService(k, ns, 'probe')), ['198.51.100.0']);

  // The blocker goes: the ConfigMap's config applies and is persisted.
  await deleteService(k, ns, 'probe');
  await waitForEvent(k, METALLB_NS, 'ConfigMap', 'config', 'ConfigApplied');
  await eventually(async () => (await c.metric('metallb_k8s_client_config_stale_bool')) === 0, 10_000, 'stale 0 once nothing blocks');
  await eventually(async () => (await k.core.readNamespacedConfigMap({ namespace: METALLB_NS, name: 'config-last-applied' })).data?.['config']?.includes('192.168.41.0/29') === true,
    10_000, 'the newly applied config is persisted');
  assertHealthy(c);
  await c.stop();
  await cleanup(cluster, ns);
});

test('a waiting Service is retried when a holder becomes compatible (issue 8 fault 1); its reason is logged once per change', async () => {
  const { cluster, k } = await setup();
  await putConfig(k, layer2Config([{ name: 'retry', addresses: ['192.168.60.0/28'] }]));
  const c = await controller();
  const ns = await cluster.createNamespace('retry');
  // Traffic policy: same key and selector, UDP/53 and TCP/53 share .9 until one of them alone is Local.
  const dns = (protocol: string) => ({ annotations: { 'metallb.universe.tf/allow-shared-ip': 'dns' }, loadBalancerIP: '192.168.60.9', selector: { app: 'dns' }, ports: [{ port: 53, protocol }] });
  await createService(k, ns, 'udp', dns('UDP'));
  await createService(k, ns, 'tcp', dns('TCP'));
  assert.deepEqual([await waitForIps(k, ns, 'udp'), await waitForIps(k, ns, 'tcp')], [['192.168.60.9'], ['192.168.60.9']]);
  await editService(k, ns, 'tcp', (s) => { s.spec!.externalTrafficPolicy = 'Local'; });
  await waitForEvent(k, ns, 'Service', 'tcp', 'AllocationFailed');
  await eventually(async () => ipsOf(await getService(k, ns, 'tcp')).length === 0, 20_000, 'tcp loses .9: the backends differ');
  await editService(k, ns, 'udp', (s) => { s.spec!.externalTrafficPolicy = 'Local'; });
  assert.deepEqual(await waitForIps(k, ns, 'tcp'), ['192.168.60.9'], 'both Local with one selector: the waiting tcp gets .9 without being edited');
  assert.deepEqual(ipsOf(await getService(k, ns, 'udp')), ['192.168.60.9']);

  // Ports: web-y waits for .7 while web-x holds TCP/80 on it.
  const web = (port: number) => ({ annotations: { 'metallb.universe.tf/allow-shared-ip': 'web' }, loadBalancerIP: '192.168.60.7', ports: [{ port }] });
  await createService(k, ns, 'web-x', web(80));
  assert.deepEqual(await waitForIps(k, ns, 'web-x'), ['192.168.60.7']);
  await createService(k, ns, 'web-y', web(80));
  const failed = await waitForEvent(k, ns, 'Service', 'web-y', 'AllocationFailed');
  assert.match(failed.message ?? '', /port TCP\/80 is already in use/);
  // web-y is retried twice for the same reason (two edits of its own labels): one error line, the repeats at debug.
  for (const round of [1, 2]) {
    await processed(c, await editService(k, ns, 'web-y', (s) => { s.metadata!.labels = { ...s.metadata!.labels, round: String(round) }; }));
  }
  const waitingLines = (level: string) => c.lines.filter((l) => l['level'] === level && l['op'] === 'allocateIPs' && l['service'] === `${ns}/web-y`);
  assert.equal(waitingLines('error').length, 1, `one error line for one reason: ${JSON.stringify(waitingLines('error'))}`);
  assert.ok(waitingLines('debug').filter((l) => l['repeated'] === 'true').length >= 2, 'the repeats stay visible at debug');
  await editService(k, ns, 'web-x', (s) => { s.spec!.ports = [{ name: 'p0', port: 8080, protocol: 'TCP', targetPort: 8080 as never }]; });
  assert.deepEqual(await waitForIps(k, ns, 'web-y'), ['192.168.60.7'], 'the holder moved to TCP/8080: web-y gets .7 without being edited');
  assert.deepEqual(ipsOf(await getService(k, ns, 'web-x')), ['192.168.60.7']);
  assertHealthy(c);
  await c.stop();
  await cleanup(cluster, ns);
});

test('requested IP against requested pool (issue 8 fault 2): one rule, so later syncs change nothing and emit nothing', async () => {
  const { cluster, k } = await setup();
  await putConfig(k, layer2Config([{ name: 'a', addresses: ['192.168.70.32/29'] }, { name: 'b', addresses: ['192.168.70.40/29'] }]));
  const c = await controller();
  const ns = await cluster.createNamespace('onerule');
  const request = (pool: string) => ({ annotations: { 'metallb.universe.tf/address-pool': pool, 'metallb.universe.tf/loadBalancerIPs': '192.168.70.41' } });
  await createService(k, ns, 'mismatch', request('a'));
  const refused = await waitForEvent(k, ns, 'Service', 'mismatch', 'AllocationFailed');
  assert.equal(refused.type, 'Warning');
  assert.match(refused.message ?? '', /not in the requested pool "a"/);
  await createService(k, ns, 'match', request('b'));
  assert.deepEqual(await waitForIps(k, ns, 'match'), ['192.168.70.41']);
  await waitForEvent(k, ns, 'Service', 'match', 'IPAllocated');
  // Evidence that the controller is done with both (its lines for the first allocation are in), then count from here.
  for (const name of ['mismatch', 'match']) await processed(c, await getService(k, ns, name));
  const linesBefore = c.lines.length;
  // Three label edits of each: every one is synced (evidence: endUpdate of that version), none changes anything.
  for (const round of [1, 2, 3]) {
    for (const name of ['mismatch', 'match']) {
      await processed(c, await editService(k, ns, name, (s) => { s.metadata!.labels = { ...s.metadata!.labels, round: String(round) }; }));
    }
  }
  assert.deepEqual(ipsOf(await getService(k, ns, 'mismatch')), [], 'mismatch never gets an address');
  assert.deepEqual(ipsOf(await getService(k, ns, 'match')), ['192.168.70.41']);
  const flaps = c.lines.slice(linesBefore).filter((l) => ['clearAssignment', 'ipAllocated', 'serviceUpdated'].includes(String(l['event'])) && String(l['service']).startsWith(`${ns}/`));
  assert.deepEqual(flaps, [], 'no clearAssignment, ipAllocated or status write on a sync that changes nothing');
  const allocatedCount = (await eventsFor(k, ns, 'Service', 'match')).filter((e) => e.reason === 'IPAllocated').reduce((n, e) => n + (e.count ?? 1), 0);
  assert.equal(allocatedCount, 1, 'one IPAllocated Event for one allocation');
  assert.deepEqual((await eventsFor(k, ns, 'Service', 'mismatch')).filter((e) => e.reason === 'IPAllocated'), []);
  assertHealthy(c);
  await c.stop();
  await cleanup(cluster, ns);
});

test('takeover from MetalLB v0.11 and our own restart: no status write, no IPAllocated, IPs and the memberlist Secret kept', async () => {
  const { cluster, k } = await setup();
  await putConfig(k, layer2Config([{ name: 'takeover', addresses: ['192.168.20.0/28'] }]));
  const ns = await cluster.createNamespace('takeover');
  const want = new Map([['s0', '192.168.20.5'], ['s1', '192.168.20.3'], ['s2', '192.168.20.9'], ['s3', '192.168.20.9']]);
  for (const [name, ip] of want) {
    const shared = name === 's2' || name === 's3';
    await createService(k, ns, name, { ...(shared ? { annotations: { 'metallb.universe.tf/allow-shared-ip': 'k' } } : {}), ports: [{ port: name === 's3' ? 443 : 80 }] });
    const svc = await getService(k, ns, name);
    // Exactly what v0.11 writes: one ingress entry with only the ip (the apiserver adds ipMode: VIP).
    await k.core.replaceNamespacedServiceStatus({ namespace: ns, name, body: { ...svc, status: { loadBalancer: { ingress: [{ ip }] } } } });
  }
  const secretKey = randomBytes(128).toString('base64');
  await k.core.deleteNamespacedSecret({ namespace: METALLB_NS, name: 'memberlist' }).catch(() => undefined);
  await k.core.createNamespacedSecret({ namespace: METALLB_NS, body: { metadata: { name: 'memberlist' }, stringData: { secretkey: secretKey } } });
  const versions = async () => new Map(await Promise.all([...want.keys()].map(async (n) => [n, (await getService(k, ns, n)).metadata?.resourceVersion] as const)));
  const before = await versions();

  for (const round of ['takeover', 'restart']) {
    const c = await controller();
    await eventually(async () => (await c.metric('metallb_allocator_addresses_in_use_total', 'pool="takeover"')) === 3, 10_000, `${round}: 3 addresses registered (${c.tail()})`);
    // Every Service went through the controller after its synced sweep: any write it wanted is done.
    for (const name of want.keys()) await processed(c, await getService(k, ns, name));
    assert.deepEqual(await versions(), before, `${round}: resourceVersions unchanged (zero status writes)`);
    for (const [name, ip] of want) assert.deepEqual(ipsOf(await getService(k, ns, name)), [ip], `${round}: ${name} keeps ${ip}`);
    for (const name of want.keys()) assert.deepEqual((await eventsFor(k, ns, 'Service', name)).map((e) => e.reason), [], `${round}: no events on ${name}`);
    const secret = await k.core.readNamespacedSecret({ namespace: METALLB_NS, name: 'memberlist' });
    assert.equal(Buffer.from(secret.data?.['secretkey'] ?? '', 'base64').toString(), secretKey, `${round}: existing memberlist Secret kept`);
    assertHealthy(c);
    await c.stop();
  }
  await cleanup(cluster, ns);
});

test('odd Services get an Event and never crash the controller; other load-balancer classes are left alone', async () => {
  const { cluster, k } = await setup();
  await putConfig(k, layer2Config([{ name: 'odd', addresses: ['192.168.30.0/28'] }]));
  const c = await controller();
  const pid = c.pid;
  const ns = await cluster.createNamespace('odd');
  const table: Array<{ name: string; opts: Parameters<typeof createService>[3]; reason?: string }> = [
    { name: 'headless', opts: { clusterIP: 'None', type: 'ClusterIP' } },
    { name: 'wrong-family', opts: { loadBalancerIP: '2001:db8::1' }, reason: 'AllocationFailed' },
    { name: 'not-in-pool', opts: { loadBalancerIP: '10.9.9.9' }, reason: 'AllocationFailed' },
    { name: 'bad-lbips', opts: { annotations: { 'metallb.universe.tf/loadBalancerIPs': 'banana,,1.2.3' } }, reason: 'AllocationFailed' },
    { name: 'bad-pool', opts: { annotations: { 'metallb.universe.tf/address-pool': 'no-such-pool' } }, reason: 'AllocationFailed' },
    { name: 'both-requests', opts: { loadBalancerIP: '192.168.30.1', annotations: { 'metallb.universe.tf/loadBalancerIPs': '192.168.30.2' } }, reason: 'LoadBalancerFailed' },
    { name: 'many-ports', opts: { ports: Array.from({ length: 400 }, (_, i) => ({ port: 1000 + i, protocol: i % 2 ? 'UDP' : 'TCP' })) } },
    { name: 'other-class', opts: { loadBalancerClass: 'example.com/other' } },
  ];
  const created = new Map<string, V1Service>();
  for (const row of table) created.set(row.name, await createService(k, ns, row.name, row.opts));
  for (const row of table) {
    if (row.reason) {
      const ev = await waitForEvent(k, ns, 'Service', row.name, row.reason);
      assert.equal(ev.type, 'Warning', row.name);
      assert.deepEqual(ipsOf(await getService(k, ns, row.name)), [], `${row.name}: no IP`);
    }
  }
  assert.equal((await waitForIps(k, ns, 'many-ports')).length, 1, 'a huge port list still gets an address');
  await processed(c, created.get('other-class')!);
  await processed(c, created.get('headless')!);
  assert.deepEqual(ipsOf(await getService(k, ns, 'other-class')), [], 'another class: no status');
  assert.deepEqual((await eventsFor(k, ns, 'Service', 'other-class')).map((e) => e.reason), [], 'another class: no events');
  assert.deepEqual(ipsOf(await getService(k, ns, 'headless')), []);
  assert.equal(c.pid, pid);
  assertHealthy(c);
  await c.stop();
  await cleanup(cluster, ns);
});

test('--lb-class selects only Services naming that class', async () => {
  const { cluster, k } = await setup();
  await putConfig(k, layer2Config([{ name: 'cls', addresses: ['192.168.40.0/29'] }]));
  const c = await controller(['--lb-class=metallb-ts']);
  const ns = await cluster.createNamespace('lbclass');
  await createAnyService(k, ns, 'ours', { loadBalancerClass: 'metallb-ts' });
  const unclassed = await createAnyService(k, ns, 'unclassed');
  assert.deepEqual(await waitForIps(k, ns, 'ours'), ['192.168.40.0']);
  await processed(c, unclassed);
  assert.deepEqual(ipsOf(await getService(k, ns, 'unclassed')), []);
  assertHealthy(c);
  await c.stop();
  await cleanup(cluster, ns);
});

test('memberlist Secret: created at start-up when absent (16 random bytes, unpadded base64, owned by the Deployment); SIGTERM exits 0', async () => {
  const { k } = await setup();
  await k.core.deleteNamespacedSecret({ namespace: METALLB_NS, name: 'memberlist' }).catch(() => undefined);
  const c = await controller();
  const secret = await k.core.readNamespacedSecret({ namespace: METALLB_NS, name: 'memberlist' });
  const key = Buffer.from(secret.data?.['secretkey'] ?? '', 'base64').toString();
  assert.match(key, /^[A-Za-z0-9+/]{22}$/);
  assert.equal(Buffer.from(key, 'base64').length, 16);
  const deployment = await k.apps.readNamespacedDeployment({ namespace: METALLB_NS, name: 'controller' });
  assert.deepEqual(secret.metadata?.ownerReferences?.map((o) => [o.apiVersion, o.kind, o.name, o.uid]), [['apps/v1', 'Deployment', 'controller', deployment.metadata?.uid]]);
  await c.waitForLog((l) => l['event'] === 'createdMemberlistSecret');
  c.kill('SIGTERM');
  assert.equal(await c.exited, 0);
});

test('dual-stack Services get one address per family from one pool', async () => {
  const { cluster, k } = await setup();
  await putConfig(k, layer2Config([{ name: 'dual', addresses: ['192.168.50.0/29', 'fc00:50::/125'] }]));
  const c = await controller();
  const ns = await cluster.createNamespace('dual');
  await createService(k, ns, 'both', { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] });
  await createService(k, ns, 'v6', { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] });
  await eventually(async () => ipsOf(await getService(k, ns, 'both')).length === 2, 20_000, 'two addresses');
  assert.deepEqual(ipsOf(await getService(k, ns, 'both')), ['192.168.50.0', 'fc00:50::']);
  assert.deepEqual(await waitForIps(k, ns, 'v6'), ['fc00:50::1']);
  assertHealthy(c);
  await c.stop();
  await cleanup(cluster, ns);
});

/** What `validate --cluster --json` printed, and its exit status. */
interface Prediction {
  readonly code: number;
  readonly decision: { readonly kind: string; readonly blockers?: readonly string[] };
  readonly services: ReadonlyArray<{ readonly service: string; readonly before: string[]; readonly after: string[]; readonly fate: string }>;
}

/** Runs the real CLI `validate --cluster` with the controller's ServiceAccount (it needs only the controller's reads). */
async function predict(kubeconfig: string, text: string): Promise<Prediction> {
  const file = join(mkdtempSync(join(tmpdir(), 'metallb-ts-validate-')), 'config.yaml');
  writeFileSync(file, text);
  const argv = [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'validate', '--cluster', `--kubeconfig=${kubeconfig}`, `--lb-class=${CLASS}`, '--json', file];
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, argv, (_err, stdout, stderr) => resolve({ code: child.exitCode ?? -1, stdout, stderr }));
  });
  assert.ok([0, 3, 4].includes(code), `validate --cluster exit ${code}: ${stderr}`);
  const report = JSON.parse(stdout) as Omit<Prediction, 'code'> & { exitCode: number };
  assert.equal(report.exitCode, code, 'the JSON report carries the exit status');
  return { code, decision: report.decision, services: report.services };
}

test('validate --cluster predicts exactly what the controller then does: add a pool, change protocol, remove an in-use pool, shrink a range, rename a pool', async () => {
  const { cluster, k, kubeconfig } = await setup();
  const base = [{ name: 'v1', addresses: ['198.51.100.0/29'] }];
  await putConfig(k, layer2Config(base));
  const c = await controller();
  const ns = await cluster.createNamespace('predict');
  await createService(k, ns, 's1');
  await createService(k, ns, 's2');
  assert.deepEqual(await waitForIps(k, ns, 's1'), ['198.51.100.0']);
  assert.deepEqual(await waitForIps(k, ns, 's2'), ['198.51.100.1']);
  // Waits for a pool that does not exist yet (Warning AllocationFailed, unknown pool).
  await createService(k, ns, 'pinned', { annotations: { 'metallb.universe.tf/address-pool': 'extra' } });
  await waitForEvent(k, ns, 'Service', 'pinned', 'AllocationFailed');

  const statuses = async () => Object.fromEntries(await Promise.all(['pinned', 's1', 's2'].map(async (n) => [`${ns}/${n}`, ipsOf(await getService(k, ns, n))] as const)));
  const predicted = (p: Prediction) => Object.fromEntries(p.services.filter((s) => s.service.startsWith(`${ns}/`)).map((s) => [s.service, s.after]));
  const stored = async () => (await k.core.readNamespacedConfigMap({ namespace: METALLB_NS, name: 'config-last-applied' })).data?.['config'];

  /** Predicts, applies, waits for the controller's evidence and compares. Returns the prediction. */
  async function edit(text: string, expected: { code: number; fates: Record<string, string> }): Promise<Prediction> {
    const before = await statuses();
    const p = await predict(kubeconfig, text);
    assert.equal(p.code, expected.code, JSON.stringify(p));
    assert.deepEqual(Object.fromEntries(p.services.filter((s) => s.service.startsWith(`${ns}/`)).map((s) => [s.service, s.fate])), expected.fates);
    for (const s of p.services.filter((x) => x.service.startsWith(`${ns}/`))) assert.deepEqual(s.before, before[s.service], `${s.service}: NOW is its status`);
    await putConfig(k, text);
    if (p.decision.kind === 'refuse') {
      // Evidence: the controller's Warning on the ConfigMap naming this edit's blockers, and config_stale 1.
      const blockers = p.decision.blockers ?? [];
      await eventually(async () => (await eventsFor(k, METALLB_NS, 'ConfigMap', 'config'))
        .some((e) => e.reason === 'ConfigRefused' && blockers.every((b) => (e.message ?? '').includes(b)) && (e.message ?? '').includes(ns)), 20_000, `ConfigRefused naming ${blockers.join(',')}`);
      await eventually(async () => (await c.metric('metallb_k8s_client_config_stale_bool')) === 1, 10_000, 'config_stale_bool 1');
      assert.deepEqual(await statuses(), predicted(p), 'a refused config moves nothing');
    } else {
      // Evidence: the controller persisted the config it applied (last-applied store) and is not stale.
      await eventually(async () => (await stored()) === text, 20_000, 'the last-applied store holds the edit');
      await eventually(async () => (await c.metric('metallb_k8s_client_config_stale_bool')) === 0, 10_000, 'config_stale_bool 0');
      await eventually(async () => JSON.stringify(await statuses()) === JSON.stringify(predicted(p)), 20_000, `statuses reach the prediction ${JSON.stringify(predicted(p))}`);
    }
    return p;
  }
  const keep2 = { [`${ns}/s1`]: 'keep', [`${ns}/s2`]: 'keep' };
  const withExtra = [...base, { name: 'extra', addresses: ['203.0.113.0/30'], autoAssign: false }];

  // Add a pool: the waiting Service gains its address, the others keep theirs (exit 3).
  const added = await edit(layer2Config(withExtra), { code: 3, fates: { [`${ns}/pinned`]: 'gain', ...keep2 } });
  assert.deepEqual(predicted(added)[`${ns}/pinned`], ['203.0.113.0']);
  // Change protocol: no address moves (exit 0).
  const bgp = `peers:\n- peer-address: 203.0.113.254\n  peer-asn: 64500\n  my-asn: 64501\n${layer2Config(withExtra).split('protocol: layer2').join('protocol: bgp')}`;
  await edit(bgp, { code: 0, fates: { [`${ns}/pinned`]: 'keep', ...keep2 } });
  // Remove an in-use pool: refused, blocked by the Service in it (exit 4); put the running config back.
  const removed = await edit(layer2Config(base), { code: 4, fates: { [`${ns}/pinned`]: 'keep', ...keep2 } });
  assert.deepEqual(removed.decision.blockers, [`${ns}/pinned`]);
  await putConfig(k, bgp);
  await eventually(async () => (await c.metric('metallb_k8s_client_config_stale_bool')) === 0, 10_000, 'config_stale_bool 0 after restoring');
  // Shrink a range under s2's address: refused (exit 4); shrink around both addresses: applies unchanged (exit 0).
  const shrunk = (cidr: string) => bgp.replace('198.51.100.0/29', cidr);
  const narrowed = await edit(shrunk('198.51.100.0/32'), { code: 4, fates: { [`${ns}/pinned`]: 'keep', ...keep2 } });
  assert.deepEqual(narrowed.decision.blockers, [`${ns}/s2`]);
  await putConfig(k, bgp);
  await eventually(async () => (await c.metric('metallb_k8s_client_config_stale_bool')) === 0, 10_000, 'config_stale_bool 0 after restoring');
  await edit(shrunk('198.51.100.0/31'), { code: 0, fates: { [`${ns}/pinned`]: 'keep', ...keep2 } });
  // Rename the pool a Service names: its address stays in a pool (not refused) but it loses it (exit 3).
  await edit(shrunk('198.51.100.0/31').replace('name: extra', 'name: extra2'), { code: 3, fates: { [`${ns}/pinned`]: 'lose', ...keep2 } });

  assertHealthy(c);
  await c.stop();
  await cleanup(cluster, ns);
});
