/**
 * `metallb-ts speaker` end to end: the real CLI with the speaker ServiceAccount's token (the RBAC of
 * manifests/metallb.yaml) against the harness's apiserver, inside a node network namespace of the lab topology
 * (under this file's own prefix) with the real layer-2 announcer, and a client namespace asking with arping.
 * Proves the watches and RBAC (no 403 anywhere), the EndpointSlices and Endpoints sources, `nodeAssigned`, the
 * `metallb_speaker_announced` gauge, a skipped Service, and fail-static on a refused config.
 * The speaker's objects are its own: Node `spk-e2e-node1`, a speaker Pod with an extra label (selected through
 * METALLB_ML_LABELS), ConfigMap `spk-e2e-config` (--config), and Services with hand-written endpoints in a test
 * namespace, so no controller or other suite can interfere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getTestCluster, requirePrerequisite, type TestCluster } from '../../src/testing/cluster/test-cluster.js';
import { run } from '../../src/testing/cluster/processes.js';
import { buildTopology, deleteNetns, topologyNames } from '../../src/lab/topology.js';
import { METALLB_NS, eventually, installMetallb, startSpeaker, type SpeakerProcess } from '../../src/testing/metallb/process.js';
import { adminClients, eventsFor, waitForEvent } from '../../src/testing/metallb/kube.js';
import type { KubeClients } from '../../src/adapters/k8s/client.js';

const PREFIX = process.env['METALLB_TS_SPEAKER_TEST_PREFIX'] ?? 'spk-';
const names = topologyNames(PREFIX);
const node1 = names.nodes[0]!;
const NODE = 'spk-e2e-node1';
const SUITE_LABEL = 'metallb-ts.test/suite';
const ML_LABELS = `app=metallb,component=speaker,${SUITE_LABEL}=spk-e2e`;
const CONFIG = 'spk-e2e-config';
const VIP = '192.0.2.100';

const pools = (cidrs: string[]) => `address-pools:\n- name: l2\n  protocol: layer2\n  addresses:\n${cidrs.map((c) => `  - ${c}\n`).join('')}`;

async function putConfigMap(k: KubeClients, config: string): Promise<void> {
  const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CONFIG, namespace: METALLB_NS }, data: { config } };
  try {
    await k.core.replaceNamespacedConfigMap({ namespace: METALLB_NS, name: CONFIG, body });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
    await k.core.createNamespacedConfigMap({ namespace: METALLB_NS, body });
  }
}

/** Writes the last-applied store `<config>-last-applied` the way the controller does after applying `config`. */
async function putStore(k: KubeClients, config: string): Promise<void> {
  const name = `${CONFIG}-last-applied`;
  const source = `${METALLB_NS}/${CONFIG}@${(await k.core.readNamespacedConfigMap({ namespace: METALLB_NS, name: CONFIG })).metadata?.resourceVersion}`;
  const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: METALLB_NS }, data: { config, source } };
  try {
    await k.core.replaceNamespacedConfigMap({ namespace: METALLB_NS, name, body });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
    await k.core.createNamespacedConfigMap({ namespace: METALLB_NS, body });
  }
}

/** Total `count` of the ConfigRefused Events on the speaker's ConfigMap (repeats are aggregated into one Event). */
async function refusalCount(k: KubeClients): Promise<number> {
  return (await eventsFor(k, METALLB_NS, 'ConfigMap', CONFIG)).filter((e) => e.reason === 'ConfigRefused').reduce((n, e) => n + (e.count ?? 1), 0);
}

/** A selector-less LoadBalancer Service whose status shows `ip` (no controller runs here: the test writes it). */
async function serviceWithIp(k: KubeClients, ns: string, name: string, ip: string): Promise<void> {
  const svc = await k.core.createNamespacedService({
    namespace: ns,
    body: { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80, protocol: 'TCP' }] } },
  });
  await k.core.replaceNamespacedServiceStatus({ namespace: ns, name, body: { ...svc, status: { loadBalancer: { ingress: [{ ip }] } } } });
}

/** A hand-written discovery.k8s.io/v1 EndpointSlice with one ready endpoint on `node`. */
async function sliceOn(cluster: TestCluster, ns: string, service: string, node: string): Promise<void> {
  const slice = {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { name: `${service}-manual`, namespace: ns, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'metallb-ts-test' } },
    endpoints: [{ addresses: ['10.1.0.1'], nodeName: node, conditions: { ready: true } }],
    ports: [{ port: 80, protocol: 'TCP' }],
  };
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(slice) });
}

/** A hand-written v1 Endpoints with one ready address on `node`. */
async function endpointsOn(cluster: TestCluster, ns: string, service: string, node: string): Promise<void> {
  const ep = {
    apiVersion: 'v1', kind: 'Endpoints', metadata: { name: service, namespace: ns },
    subsets: [{ addresses: [{ ip: '10.1.0.2', nodeName: node }], ports: [{ port: 80, protocol: 'TCP' }] }],
  };
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(ep) });
}

/** The Node and the speaker Pod a kubelet would report: Ready, and Running and Ready. */
async function writeNodeAndSpeakerPod(cluster: TestCluster): Promise<void> {
  const now = new Date().toISOString();
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE, labels: { 'kubernetes.io/hostname': NODE } } }) });
  await cluster.kubectl(['patch', 'node', NODE, '--subresource=status', '--type=merge', '-p',
    JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Test', message: 'spk e2e', lastHeartbeatTime: now, lastTransitionTime: now }] } })]);
  const labels = Object.fromEntries(ML_LABELS.split(',').map((kv) => kv.split('=') as [string, string]));
  await cluster.kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'spk-e2e-speaker', namespace: METALLB_NS, labels },
      spec: { nodeName: NODE, hostNetwork: true, terminationGracePeriodSeconds: 0, containers: [{ name: 'speaker', image: 'metallb-ts:test' }] },
    }),
  });
  await cluster.kubectl(['patch', 'pod', 'spk-e2e-speaker', '-n', METALLB_NS, '--subresource=status', '--type=merge', '-p', JSON.stringify({
    status: { phase: 'Running', podIP: node1.ipv4, conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: now }] },
  })]);
}

const announcedLabels = (ns: string, service: string, ip: string) => `service="${ns}/${service}",protocol="layer2",node="${NODE}",ip="${ip}"`;

/** arping from the client: the MACs that answered (lowercase). */
async function arpingMacs(ip: string): Promise<string[]> {
  const r = await run('ip', ['netns', 'exec', names.client, 'arping', '-c', '2', '-w', '4', ip], { timeoutMs: 15_000 });
  // Thomas Habets' arping: "42 bytes from 02:00:00:00:00:11 (192.0.2.100): index=0 time=…".
  return [...r.stdout.matchAll(/bytes from ([0-9A-Fa-f:]+) \(/g)].map((m) => m[1]!.toLowerCase());
}

test('speaker e2e: SA token, real announcer in a node namespace, EndpointSlices and Endpoints, fail-static', { timeout: 300_000 }, async (t) => {
  if (!requirePrerequisite(t, process.getuid?.() === 0, 'needs root for network namespaces')) return;
  const missing = ['arping', 'curl'].filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
  if (!requirePrerequisite(t, missing.length === 0, `missing tools: ${missing.join(', ')}`)) return;

  const cluster = await getTestCluster();
  await installMetallb(cluster);
  const speakerKubeconfig = await cluster.kubeconfigFor(METALLB_NS, 'speaker');
  const admin = await adminClients(cluster);
  const ns = await cluster.createNamespace('spk-e2e');
  for (const n of [...names.all].reverse()) await deleteNetns(n); // leftovers of an interrupted run
  const speakers: SpeakerProcess[] = [];
  let relay: number | undefined;
  try {
    await buildTopology(PREFIX, () => {});
    relay = await cluster.exposeInNetns([node1.netns]);
    await writeNodeAndSpeakerPod(cluster);
    await putConfigMap(admin, pools(['192.0.2.96/28']));
    const start = async (extraArgs: string[] = []) => {
      const sp = await startSpeaker(speakerKubeconfig, { nodeName: NODE, netns: node1.netns, host: node1.ipv4, mlLabels: ML_LABELS, extraArgs: [`--config=${CONFIG}`, ...extraArgs] });
      speakers.push(sp);
      await sp.waitReady(60_000);
      return sp;
    };

    let speaker = await start();
    const source = await speaker.waitForLog((l) => l['event'] === 'endpointsSource');
    assert.equal(source['source'], 'EndpointSlices');
    const sync = await speaker.waitForLog((l) => l['event'] === 'cachesSynced');
    assert.deepEqual(sync['alive'], [NODE], 'only the node with a Ready speaker Pod carrying the labels is alive');

    await t.test('announces a Service with a ready endpoint: gauge, nodeAssigned, and the node answers ARP', async () => {
      await serviceWithIp(admin, ns, 'svc-a', VIP);
      await sliceOn(cluster, ns, 'svc-a', NODE);
      await eventually(async () => (await speaker.metric('metallb_speaker_announced', announcedLabels(ns, 'svc-a', VIP))) === 1, 30_000, 'svc-a announced');
      const event = await waitForEvent(admin, ns, 'Service', 'svc-a', 'nodeAssigned');
      assert.equal(event.type, 'Normal');
      assert.equal(event.message, `announcing from node "${NODE}"`);
      assert.equal(event.source?.component, 'metallb-speaker');
      await eventually(async () => (await arpingMacs(VIP)).includes(node1.mac), 30_000, `arping ${VIP} answered by ${node1.mac}`);
      assert.deepEqual([...new Set(await arpingMacs(VIP))], [node1.mac]);
    });

    await t.test('a Service whose IP is outside every pool is skipped with its reason', async () => {
      await serviceWithIp(admin, ns, 'svc-out', '203.0.113.5');
      await sliceOn(cluster, ns, 'svc-out', NODE);
      const line = await speaker.waitForLog((l) => l['event'] === 'serviceSkipped' && l['service'] === `${ns}/svc-out` && l['reason'] === 'ipNotAllowed');
      assert.equal(line.level, 'warn');
      assert.equal(speaker.child.exitCode, null);
      assert.equal(await speaker.metric('metallb_speaker_announced', announcedLabels(ns, 'svc-out', '203.0.113.5')), undefined);
      // Its address blocks every config change while it is held (fail-static): remove it.
      await admin.core.deleteNamespacedService({ namespace: ns, name: 'svc-out' });
    });

    await t.test('fail-static: a config orphaning the announced IP is refused, also after a restart, and applies once the Service is gone', async () => {
      await putConfigMap(admin, pools(['198.51.100.0/28']));
      await eventually(async () => (await speaker.metric('metallb_k8s_client_config_stale_bool')) === 1, 120_000, 'config stale');
      const refused = await waitForEvent(admin, METALLB_NS, 'ConfigMap', CONFIG, 'ConfigRefused');
      assert.equal(refused.type, 'Warning');
      assert.match(refused.message ?? '', new RegExp(`blocked by services: ${ns}/svc-a`));
      assert.equal(await speaker.metric('metallb_speaker_announced', announcedLabels(ns, 'svc-a', VIP)), 1, 'the last good config keeps announcing');
      assert.ok((await arpingMacs(VIP)).includes(node1.mac), 'still answering ARP');

      // Restarted under the refused config (issue 8, fault 5): the new process has applied nothing, so it runs the
      // config the controller last applied (its last-applied store; no controller runs here, so the test writes the
      // store as the controller does) and keeps announcing what the controller still holds.
      await putStore(admin, pools(['192.0.2.96/28']));
      const refusalsBefore = await refusalCount(admin);
      speaker.kill('SIGKILL');
      await speaker.exited;
      speaker = await start();
      await eventually(async () => (await speaker.metric('metallb_k8s_client_config_stale_bool')) === 1, 120_000, 'the restarted speaker refuses the config too');
      await eventually(async () => (await refusalCount(admin)) > refusalsBefore, 120_000, 'the restarted speaker raises the Warning again');
      await eventually(async () => (await speaker.metric('metallb_speaker_announced', announcedLabels(ns, 'svc-a', VIP))) === 1, 120_000, 'the restarted speaker announces svc-a');
      assert.ok(speaker.lines.some((l) => l['event'] === 'configLoaded' && l['source'] === 'last-applied'), 'it runs the stored config');
      assert.ok((await arpingMacs(VIP)).includes(node1.mac), 'answering ARP after the restart');
      assert.deepEqual(speaker.lines.filter((l) => l['event'] === 'serviceWithdrawn'), [], 'nothing withdrawn by the restarted speaker');

      await admin.core.deleteNamespacedService({ namespace: ns, name: 'svc-a' });
      const withdrawn = await speaker.waitForLog((l) => l['event'] === 'serviceWithdrawn' && l['service'] === `${ns}/svc-a`);
      assert.equal(withdrawn['reason'], 'serviceDeleted');
      await eventually(async () => (await speaker.metric('metallb_k8s_client_config_stale_bool')) === 0, 120_000, 'refused config applied');
      await waitForEvent(admin, METALLB_NS, 'ConfigMap', CONFIG, 'ConfigApplied');
      assert.equal(await speaker.metric('metallb_speaker_announced', announcedLabels(ns, 'svc-a', VIP)), undefined);
      await eventually(async () => (await arpingMacs(VIP)).length === 0, 30_000, 'nobody answers for the withdrawn IP');
    });

    await t.test('--disable-epslices reads v1 Endpoints: a Service with only a slice is not announced, one with Endpoints is', async () => {
      await speaker.stop();
      await putConfigMap(admin, pools(['192.0.2.96/28']));
      speaker = await start(['--disable-epslices']);
      const src = await speaker.waitForLog((l) => l['event'] === 'endpointsSource');
      assert.deepEqual([src['source'], src['reason']], ['Endpoints', '--disable-epslices']);
      await serviceWithIp(admin, ns, 'svc-slice', '192.0.2.101');
      await sliceOn(cluster, ns, 'svc-slice', NODE);
      await serviceWithIp(admin, ns, 'svc-ep', '192.0.2.102');
      await endpointsOn(cluster, ns, 'svc-ep', NODE);
      await eventually(async () => (await speaker.metric('metallb_speaker_announced', announcedLabels(ns, 'svc-ep', '192.0.2.102'))) === 1, 30_000, 'svc-ep announced');
      const skipped = await speaker.waitForLog((l) => l['event'] === 'serviceSkipped' && l['service'] === `${ns}/svc-slice`);
      assert.equal(skipped['reason'], 'serviceDeleted', 'no Endpoints object: handled as deleted, as v0.11');
      assert.equal(await speaker.metric('metallb_speaker_announced', announcedLabels(ns, 'svc-slice', '192.0.2.101')), undefined);
      assert.ok((await eventsFor(admin, ns, 'Service', 'svc-ep')).some((e) => e.reason === 'nodeAssigned'));
    });

    for (const sp of speakers) {
      const forbidden = sp.lines.filter((l) => /\b403\b|forbidden/i.test(String(l['error'] ?? '')));
      assert.deepEqual(forbidden, [], 'the speaker ServiceAccount may do everything the speaker calls');
      assert.deepEqual(sp.nonJson, [], 'every stdout line is JSON');
    }
  } finally {
    for (const sp of speakers) await sp.stop();
    const logDir = process.env['METALLB_TS_SPEAKER_TEST_LOGS'];
    if (logDir) speakers.forEach((sp, i) => writeFileSync(join(logDir, `speaker-${i}.log`), [...sp.lines.map((l) => JSON.stringify(l)), ...sp.stderr].join('\n')));
    for (const n of [...names.all].reverse()) await deleteNetns(n);
    // The relay is this test's: the cluster process that stops at the end of the run does not know about it.
    if (relay !== undefined) { try { process.kill(relay, 'SIGTERM'); } catch { /* already gone */ } }
    await cluster.kubectl(['delete', 'pod', 'spk-e2e-speaker', '-n', METALLB_NS, '--ignore-not-found', '--grace-period=0', '--force', '--wait=false']).catch(() => '');
    await cluster.kubectl(['delete', 'node', NODE, '--ignore-not-found', '--wait=false']).catch(() => '');
    await cluster.kubectl(['delete', 'configmap', CONFIG, `${CONFIG}-last-applied`, '-n', METALLB_NS, '--ignore-not-found']).catch(() => '');
    await cluster.kubectl(['delete', 'namespace', ns, '--wait=false']).catch(() => '');
  }
});
