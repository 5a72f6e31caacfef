/**
 * The announce annotation (issue 13 §1, docs/design/announce-annotations.md) end to end: three real
 * `metallb-ts speaker` processes with the speaker ServiceAccount's token (manifests/metallb.yaml RBAC and its
 * ValidatingAdmissionPolicy), each in a node network namespace of its own lab topology (prefix `op-`), against the
 * harness's apiserver. Proves: the owner's key in `kubectl describe svc` and in custom columns; the reasons
 * when nobody announces; that controller status writes (controller token, the controller's own status writer) and
 * speaker writes never overwrite each other; that the speaker token can change nothing else on a Service; the
 * new owner after a failover with the old key gone; and the write count with 1,000 Services and 3 nodes, counted
 * by a watch: the first start writes one annotation per Service, a restart writes nothing, a node loss writes
 * only the Services that node announced. The speakers run with the Kubernetes-backed membership (`--ml-bindaddr=`
 * turns gossip off): a speaker joining gossip sees itself alone for a moment and claims everything, which is the
 * gossip's start-up churn, not the carrier's cost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DiscoveryV1Api } from '@kubernetes/client-node';
import { getTestCluster, requirePrerequisite } from '../../src/testing/cluster/test-cluster.js';
import { buildTopology, deleteNetns, topologyNames } from '../../src/lab/topology.js';
import { METALLB_NS, eventually, installMetallb, startSpeaker, type SpeakerProcess } from '../../src/testing/metallb/process.js';
import { adminClients } from '../../src/testing/metallb/kube.js';
import { loadKubeClients } from '../../src/adapters/k8s/client.js';
import { createStatusWriter } from '../../src/adapters/k8s/status-writer.js';
import { ANNOUNCE_ANNOTATION_PREFIX } from '../../src/core/speaker/announce-annotation.js';
import { WriteCounter, entries, podName, pool, putConfigMap, read, serviceWithIp, setSpeakerReady, sliceOn, writeNodesAndPods } from '../../src/testing/metallb/announce.js';

const PREFIX = process.env['METALLB_TS_ANNOUNCE_TEST_PREFIX'] ?? 'op-';
const names = topologyNames(PREFIX);
const NODES = ['op-ann-n1', 'op-ann-n2', 'op-ann-n3'];
const SUITE_LABEL = 'metallb-ts.test/suite';
const ML_LABELS = `app=metallb,component=speaker,${SUITE_LABEL}=op-ann`;
const CONFIG = 'op-ann-config';
const BULK = 1000;
const CONFIG_TEXT = [
  'address-pools:', '- name: l2', '  protocol: layer2', '  addresses:', '  - 192.0.2.64/26',
  '- name: bulk', '  protocol: layer2', '  addresses:', '  - 2001:db8:1::/112', '',
].join('\n');

const bulkIp = (i: number) => `2001:db8:1::${(i + 1).toString(16)}`;
const sliceOnAll = (discovery: DiscoveryV1Api, ns: string, service: string) => sliceOn(discovery, ns, service, NODES);

test('announce annotation e2e: owner, reasons, no clobbering, admission policy, failover, 1,000-Service write counts', { timeout: 2_400_000 }, async (t) => {
  if (!requirePrerequisite(t, process.getuid?.() === 0, 'needs root for network namespaces')) return;
  const cluster = await getTestCluster();
  await installMetallb(cluster);
  const speakerKubeconfig = await cluster.kubeconfigFor(METALLB_NS, 'speaker');
  const admin = await adminClients(cluster);
  const asSpeaker = await loadKubeClients(speakerKubeconfig);
  const asController = await loadKubeClients(await cluster.kubeconfigFor(METALLB_NS, 'controller'));
  const discovery = admin.kc.makeApiClient(admin.k8s.DiscoveryV1Api);
  const ns = await cluster.createNamespace('op-ann');
  const bulkNs = await cluster.createNamespace('op-ann-bulk');
  for (const n of [...names.all].reverse()) await deleteNetns(n);
  const speakers = new Map<string, SpeakerProcess>();
  let relay: number | undefined;
  let counter: WriteCounter | undefined;
  const start = async (i: number) => {
    const node = names.nodes[i]!;
    const sp = await startSpeaker(speakerKubeconfig, { nodeName: NODES[i]!, netns: node.netns, host: node.ipv4, mlLabels: ML_LABELS, extraArgs: [`--config=${CONFIG}`, '--log-level=info', '--ml-bindaddr='] });
    speakers.set(NODES[i]!, sp);
    await sp.waitReady(300_000);
  };
  try {
    await buildTopology(PREFIX, () => {});
    relay = await cluster.exposeInNetns(names.nodes.map((n) => n.netns));
    await writeNodesAndPods(cluster, NODES, ML_LABELS);
    await putConfigMap(admin, CONFIG, CONFIG_TEXT);

    // 1,000 layer-2 Services with endpoints on every node, before any speaker runs.
    const bulk = Array.from({ length: BULK }, (_, i) => `bulk-${i}`);
    await pool(bulk, 16, async (name) => { await serviceWithIp(admin, bulkNs, name, bulkIp(bulk.indexOf(name))); await sliceOnAll(discovery, bulkNs, name); });
    counter = await WriteCounter.start(admin, bulkNs);

    for (let i = 0; i < NODES.length; i += 1) await start(i);
    const owners = async (): Promise<Map<string, string[]>> => {
      const list = await admin.core.listNamespacedService({ namespace: bulkNs });
      return new Map(list.items.map((s) => [s.metadata!.name!, Object.keys(entries(s))]));
    };
    await eventually(async () => [...(await owners()).values()].every((o) => o.length === 1), 300_000, 'one announce annotation on each of the 1,000 Services', 1000);
    const firstOwners = await owners();
    const initial = counter.writes.filter((n) => n.startsWith('bulk-')).length;
    const byNode = new Map<string, number>();
    for (const [, [node]] of firstOwners) byNode.set(node!, (byNode.get(node!) ?? 0) + 1);
    t.diagnostic(`first start of 3 speakers: ${initial} annotation writes for ${BULK} Services; owners ${JSON.stringify(Object.fromEntries(byNode))}`);

    // ---- the carrier itself, on a Service of its own
    await serviceWithIp(admin, ns, 'web', '192.0.2.70');
    await sliceOnAll(discovery, ns, 'web');
    let webOwner = '';
    await eventually(async () => {
      const e = entries(await read(admin, ns, 'web'));
      const keys = Object.keys(e);
      if (keys.length !== 1) return false;
      webOwner = keys[0]!;
      return /^announcing layer2 on \S+$/.test(e[webOwner]!);
    }, 60_000, 'exactly one node announcing web, with its interface');
    assert.ok(NODES.includes(webOwner));
    const describe = await cluster.kubectl(['describe', 'service', 'web', '-n', ns]);
    assert.match(describe, new RegExp(`announce\\.metallb\\.universe\\.tf/${webOwner}: announcing layer2 on eth\\w*`), describe);
    const column = `OWNER:.metadata.annotations.announce\\.metallb\\.universe\\.tf/${webOwner}`;
    const columns = await cluster.kubectl(['get', 'service', 'web', '-n', ns, '-o', `custom-columns=NAME:.metadata.name,${column}`]);
    assert.match(columns, /web\s+announcing layer2 on \S+/, columns);
    const managed = (await read(admin, ns, 'web')).metadata?.managedFields ?? [];
    const mine = managed.find((m) => m.manager === `metallb-speaker-${webOwner}`);
    assert.ok(mine && JSON.stringify(mine.fieldsV1).includes(`f:${ANNOUNCE_ANNOTATION_PREFIX}${webOwner}`), JSON.stringify(managed));

    // ---- reasons when nobody announces: no endpoints (every speaker says so), no pool
    await serviceWithIp(admin, ns, 'noeps', '192.0.2.71');
    await serviceWithIp(admin, ns, 'nopool', '203.0.113.9');
    await sliceOnAll(discovery, ns, 'nopool');
    await eventually(async () => {
      const a = entries(await read(admin, ns, 'noeps'));
      const b = entries(await read(admin, ns, 'nopool'));
      return NODES.every((n) => a[n] === 'not announcing: noEndpoints' && b[n] === 'not announcing: noPool');
    }, 60_000, 'noEndpoints and noPool from every speaker');

    // ---- controller status writes and speaker writes never overwrite each other
    const before = await read(admin, ns, 'noeps'); // holds the speakers' keys
    const writeStatus = createStatusWriter(asController);
    // The controller's writer on a copy read before the speakers wrote (no keys, an older resourceVersion).
    const staleCopy = { ...before, metadata: { ...before.metadata, annotations: {}, resourceVersion: String(Number(before.metadata!.resourceVersion) - 1) } };
    const refused = await writeStatus(staleCopy, [{ ip: '192.0.2.72' }]);
    assert.equal(refused.ok, false);
    assert.equal((refused as { status?: number }).status, 409, 'a stale status write is refused, not applied over the speakers');
    const moved = await writeStatus(before, [{ ip: '192.0.2.72' }]);
    assert.ok(moved.ok, JSON.stringify(moved));
    const afterStatus = await read(admin, ns, 'noeps');
    assert.deepEqual(entries(afterStatus), entries(before), 'the controller status write kept every speaker key');
    assert.deepEqual(afterStatus.status?.loadBalancer?.ingress?.map((i) => i.ip), ['192.0.2.72']);
    // The speaker token: its patch of the main resource cannot reach the status…
    const mergePatch = asSpeaker.k8s.setHeaderOptions('Content-Type', asSpeaker.k8s.PatchStrategy.MergePatch);
    await asSpeaker.core.patchNamespacedService({ namespace: ns, name: 'noeps', body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.99' }] } } } }, mergePatch);
    assert.deepEqual((await read(admin, ns, 'noeps')).status?.loadBalancer?.ingress?.map((i) => i.ip), ['192.0.2.72']);
    // …and the admission policy refuses anything but announce annotations.
    for (const body of [{ spec: { externalTrafficPolicy: 'Local' } }, { metadata: { labels: { x: 'y' } } }, { metadata: { annotations: { 'metallb.universe.tf/address-pool': 'l2' } } }]) {
      await assert.rejects(asSpeaker.core.patchNamespacedService({ namespace: ns, name: 'noeps', body }, mergePatch),
        (err: { code?: number; body?: unknown; message?: string }) => (err.code === 403 || err.code === 422) && `${String(err.body)} ${err.message}`.includes('may change only announce.metallb.universe.tf/'), JSON.stringify(body));
    }
    // The admin's own annotations and spec edits are not the policy's business; the speakers' keys survive them.
    await admin.core.patchNamespacedService({ namespace: ns, name: 'noeps', body: { metadata: { annotations: { team: 'db' } } } }, mergePatch);
    const edited = await read(admin, ns, 'noeps');
    assert.equal(edited.metadata?.annotations?.['team'], 'db');
    assert.deepEqual(entries(edited), entries(before));

    // ---- failover: the owner's speaker goes NotReady → a new owner, the old key removed
    await setSpeakerReady(cluster, webOwner, false);
    let newOwner = '';
    await eventually(async () => {
      const keys = Object.keys(entries(await read(admin, ns, 'web')));
      if (keys.length !== 1 || keys[0] === webOwner) return false;
      newOwner = keys[0]!;
      return true;
    }, 60_000, 'web announced by another node, the old owner no longer named');
    const described = await cluster.kubectl(['describe', 'service', 'web', '-n', ns]);
    assert.match(described, new RegExp(`announce\\.metallb\\.universe\\.tf/${newOwner}: announcing layer2`));
    assert.doesNotMatch(described, new RegExp(`announce\\.metallb\\.universe\\.tf/${webOwner}:`));
    await setSpeakerReady(cluster, webOwner, true);
    // Generous: the handback waits for the returning speaker's Pod watch and a make-before-break handoff, which under
    // both cores kept busy (a clean-clone CI run beside a BFD lab and two spin loops) took longer than 60 s.
    await eventually(async () => Object.keys(entries(await read(admin, ns, 'web'))).join() === webOwner, 180_000, 'web back on its first owner');
    await eventually(async () => [...(await owners()).values()].every((o) => o.length === 1), 120_000, 'bulk settled after the failover test');

    // ---- write counts, by the watch: a restart writes nothing; losing a node writes only its Services
    const flush = async (tag: string, alive: readonly string[]) => {
      // A sentinel created after the restarted speaker is ready is queued behind its full resync: once every
      // speaker has written its reason on it, the resync before it is done.
      await serviceWithIp(admin, bulkNs, `sentinel-${tag}`, '2001:db8:1::ffff');
      await eventually(async () => {
        const e = entries(await read(admin, bulkNs, `sentinel-${tag}`));
        return Object.keys(e).sort().join() === [...alive].sort().join() && alive.every((n) => e[n] === 'not announcing: noEndpoints');
      }, 120_000, `sentinel ${tag} annotated by every alive speaker`);
    };
    const bulkWrites = () => counter!.writes.filter((n) => n.startsWith('bulk-'));
    counter.writes.length = 0;
    counter.changes.length = 0;
    for (const node of NODES) { await speakers.get(node)!.stop(); await start(NODES.indexOf(node)); }
    await flush('restart', NODES);
    const restartWrites = bulkWrites().length;
    t.diagnostic(`restart of all 3 speakers, one after the other: ${restartWrites} annotation writes on ${BULK} Services`);
    const sample = counter.changes.filter((c) => c.name.startsWith('bulk-')).slice(0, 4).map((c) => `${c.name}: ${c.from} → ${c.to}`);
    const events = [...speakers].map(([n, sp]) => `${n}: ${JSON.stringify(Object.entries(sp.lines.reduce<Record<string, number>>((m, l) => { const k = String(l['event'] ?? l['msg'] ?? '?'); m[k] = (m[k] ?? 0) + 1; return m; }, {})))}`);
    assert.equal(restartWrites, 0, `a restart rewrote ${bulkWrites().slice(0, 5).join(', ')}…\n${sample.join('\n')}\n${events.join('\n')}`);

    counter.writes.length = 0;
    const lost = NODES[2]!;
    const lostServices = new Set([...firstOwners].filter(([, o]) => o[0] === lost).map(([n]) => n));
    await setSpeakerReady(cluster, lost, false);
    await eventually(async () => [...(await owners())].every(([n, o]) => n.startsWith('sentinel') || (o.length === 1 && o[0] !== lost)), 300_000, `no Service announced by ${lost}`);
    await flush('loss', NODES.filter((n) => n !== lost));
    const lossWrites = bulkWrites();
    t.diagnostic(`speaker ${lost} lost: ${lossWrites.length} annotation writes; it announced ${lostServices.size} of ${BULK} Services`);
    assert.ok(lossWrites.every((n) => lostServices.has(n)), 'only Services the lost node announced were written');
    assert.ok(lossWrites.length <= 2 * lostServices.size, `${lossWrites.length} writes for ${lostServices.size} moved Services`);
    assert.equal(initial, BULK, `the first start wrote ${initial} annotations for ${BULK} Services`);
  } finally {
    counter?.stop();
    for (const sp of speakers.values()) await sp.stop();
    for (const n of [...names.all].reverse()) await deleteNetns(n);
    if (relay !== undefined) { try { process.kill(relay, 'SIGTERM'); } catch { /* already gone */ } }
    for (const node of NODES) {
      await cluster.kubectl(['delete', 'pod', podName(node), '-n', METALLB_NS, '--ignore-not-found', '--grace-period=0', '--force', '--wait=false']).catch(() => '');
      await cluster.kubectl(['delete', 'node', node, '--ignore-not-found', '--wait=false']).catch(() => '');
    }
    await cluster.kubectl(['delete', 'configmap', CONFIG, '-n', METALLB_NS, '--ignore-not-found']).catch(() => '');
    // The Services go before the next file starts: their status IPs would otherwise block that file's configs
    // (fail-static checks every Service in the cluster), and namespace deletion is asynchronous.
    for (const n of [ns, bulkNs]) {
      await cluster.kubectl(['delete', 'services', '--all', '-n', n, '--wait=true', '--timeout=300s']).catch(() => '');
    }
    await cluster.kubectl(['delete', 'namespace', ns, bulkNs, '--wait=false']).catch(() => '');
  }
});
