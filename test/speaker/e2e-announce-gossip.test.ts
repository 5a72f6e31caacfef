/**
 * The announce annotation with memberlist gossip on (issue 13 §1, docs/design/announce-annotations.md): three real
 * `metallb-ts speaker` processes, gossip bound on their node namespace's address (prefix `opg-`), 1,000 layer-2
 * Services, annotation writes counted by a watch. Proves: a first start of the three (as a DaemonSet starts them)
 * writes one annotation per Service, not the churn of each speaker electing alone while gossip converges; a
 * graceful restart of one speaker writes only the Services that moved away and back; a SIGKILLed speaker, whose
 * Pod stays Ready (no kubelet notices), loses its keys to the survivors' gossip view within the detector's time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getTestCluster, requirePrerequisite } from '../../src/testing/cluster/test-cluster.js';
import { buildTopology, deleteNetns, topologyNames } from '../../src/lab/topology.js';
import { METALLB_NS, eventually, installMetallb, startSpeaker, type LogLine, type SpeakerProcess } from '../../src/testing/metallb/process.js';
import { adminClients } from '../../src/testing/metallb/kube.js';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../src/testing/cluster/binaries.js';
import { MEMBERS_ANNOTATION } from '../../src/core/speaker/members-annotation.js';
import type { StatusReport } from '../../src/cli/status-report.js';
import { WriteCounter, entries, podName, pool, putConfigMap, read, serviceWithIp, sliceOn, writeNodesAndPods } from '../../src/testing/metallb/announce.js';

const PREFIX = process.env['METALLB_TS_ANNOUNCE_GOSSIP_TEST_PREFIX'] ?? 'opg-';
const names = topologyNames(PREFIX);
const NODES = ['op-gos-n1', 'op-gos-n2', 'op-gos-n3'];
const SUITE_LABEL = 'metallb-ts.test/suite';
const ML_LABELS = `app=metallb,component=speaker,${SUITE_LABEL}=op-gos`;
const CONFIG = 'op-gos-config';
const BULK = 1000;
const CONFIG_TEXT = ['address-pools:', '- name: bulk', '  protocol: layer2', '  addresses:', '  - 2001:db8:2::/112', ''].join('\n');
const bulkIp = (i: number) => `2001:db8:2::${(i + 1).toString(16)}`;

const membershipLines = (sp: SpeakerProcess): string[] => sp.lines
  .filter((l: LogLine) => ['memberJoined', 'memberFailed', 'memberLeft', 'refuted', 'memberlistJoin', 'cachesSynced', 'announcePublishing'].includes(String(l['event'])))
  .map((l) => `${String(l['event'])}${l['node'] ? ` ${String(l['node'])}` : ''}${l['alive'] ? ` ${JSON.stringify(l['alive'])}` : ''}`);

test('announce annotation with gossip: first start, restart and SIGKILL write only what changed', { timeout: 2_400_000 }, async (t) => {
  if (!requirePrerequisite(t, process.getuid?.() === 0, 'needs root for network namespaces')) return;
  const cluster = await getTestCluster();
  await installMetallb(cluster);
  const speakerKubeconfig = await cluster.kubeconfigFor(METALLB_NS, 'speaker');
  const admin = await adminClients(cluster);
  const discovery = admin.kc.makeApiClient(admin.k8s.DiscoveryV1Api);
  const bulkNs = await cluster.createNamespace('op-gos-bulk');
  for (const n of [...names.all].reverse()) await deleteNetns(n);
  const speakers = new Map<string, SpeakerProcess>();
  let relay: number | undefined;
  let counter: WriteCounter | undefined;
  const start = async (i: number) => {
    const node = names.nodes[i]!;
    const sp = await startSpeaker(speakerKubeconfig, { nodeName: NODES[i]!, netns: node.netns, host: node.ipv4, mlLabels: ML_LABELS, extraArgs: [`--config=${CONFIG}`, '--log-level=info'] });
    speakers.set(NODES[i]!, sp);
    await sp.waitReady(300_000);
  };
  const owners = async (): Promise<Map<string, string[]>> => {
    const list = await admin.core.listNamespacedService({ namespace: bulkNs });
    return new Map(list.items.filter((s) => s.metadata!.name!.startsWith('bulk-')).map((s) => [s.metadata!.name!, Object.keys(entries(s)).sort()]));
  };
  // A sentinel created now is queued behind every speaker's pending work: once each alive speaker has written its
  // reason on it, what the speakers had to write before is written.
  const flush = async (tag: string, alive: readonly string[]) => {
    await serviceWithIp(admin, bulkNs, `sentinel-${tag}`, '2001:db8:2::ffff');
    await eventually(async () => {
      const e = entries(await read(admin, bulkNs, `sentinel-${tag}`));
      return Object.keys(e).sort().join() === [...alive].sort().join() && alive.every((n) => e[n] === 'not announcing: noEndpoints');
    }, 120_000, `sentinel ${tag} annotated by every alive speaker`);
  };
  const bulkWrites = () => counter!.writes.filter((n) => n.startsWith('bulk-'));
  try {
    await buildTopology(PREFIX, () => {});
    relay = await cluster.exposeInNetns(names.nodes.map((n) => n.netns));
    await writeNodesAndPods(cluster, NODES, ML_LABELS, names.nodes.map((n) => n.ipv4));
    await putConfigMap(admin, CONFIG, CONFIG_TEXT);
    const bulk = Array.from({ length: BULK }, (_, i) => `bulk-${i}`);
    await pool(bulk, 16, async (name) => { await serviceWithIp(admin, bulkNs, name, bulkIp(bulk.indexOf(name))); await sliceOn(discovery, bulkNs, name, NODES); });
    counter = await WriteCounter.start(admin, bulkNs);

    // ---- first start: the three together, as a DaemonSet rollout starts them
    const t0 = Date.now();
    await Promise.all(NODES.map((_, i) => start(i)));
    await eventually(async () => [...(await owners()).values()].every((o) => o.length === 1), 300_000, 'one announce annotation on each of the 1,000 Services', 1000);
    await flush('first', NODES);
    const firstOwners = await owners();
    const initial = bulkWrites().length;
    const byNode = new Map<string, number>();
    for (const [, [node]] of firstOwners) byNode.set(node!, (byNode.get(node!) ?? 0) + 1);
    t.diagnostic(`first start of 3 gossiping speakers: ${initial} annotation writes for ${BULK} Services in ${((Date.now() - t0) / 1000).toFixed(1)} s; owners ${JSON.stringify(Object.fromEntries(byNode))}`);
    for (const [node, sp] of speakers) t.diagnostic(`${node}: ${membershipLines(sp).join('; ')}`);
    // After it publishes, a speaker writes only when ownership really moves: gossip under load may still find a
    // busy peer dead for a moment, and each Service that then left a node (serviceWithdrawn) may cost the new
    // owner's write and the old key's removal. Checked at the end, so one run reports every figure.
    const moves = [...speakers.values()].reduce((n, sp) => {
      const from = sp.lines.findIndex((l) => l['event'] === 'announcePublishing');
      return n + sp.lines.slice(from).filter((l) => l['event'] === 'serviceWithdrawn').length;
    }, 0);
    t.diagnostic(`first start: ${moves} Services moved between nodes after the speakers began publishing`);
    const problems: string[] = [];
    if (initial > BULK + 2 * moves) problems.push(`the first start wrote ${initial} annotations for ${BULK} Services and ${moves} moves`);

    // ---- graceful restart of one speaker: its Services move away (gossip leave) and back, nothing else is written
    const restarted = NODES[1]!;
    const itsServices = new Set([...firstOwners].filter(([, o]) => o[0] === restarted).map(([n]) => n));
    counter.writes.length = 0;
    await speakers.get(restarted)!.stop();
    await start(1);
    await eventually(async () => {
      const now = await owners();
      return [...firstOwners].every(([n, o]) => now.get(n)?.join() === o.join());
    }, 300_000, 'every Service back on its first owner after the restart', 1000);
    await flush('restart', NODES);
    const restartWrites = bulkWrites();
    t.diagnostic(`graceful restart of ${restarted}: ${restartWrites.length} annotation writes; it announced ${itsServices.size} of ${BULK} Services`);
    const strangers = restartWrites.filter((n) => !itsServices.has(n));
    if (strangers.length > 0) problems.push(`the restart of ${restarted} wrote ${strangers.length} Services it did not announce (${strangers.slice(0, 3).join(', ')}…)`);
    if (restartWrites.length > 4 * itsServices.size) problems.push(`the restart wrote ${restartWrites.length} times for ${itsServices.size} Services moved away and back`);

    // ---- SIGKILL: no leave, the Pod stays Ready (no kubelet notices); the survivors' gossip removes its keys
    const killed = NODES[2]!;
    const killedServices = new Set([...firstOwners].filter(([, o]) => o[0] === killed).map(([n]) => n));
    counter.writes.length = 0;
    speakers.get(killed)!.kill('SIGKILL');
    await eventually(async () => [...(await owners()).values()].every((o) => o.length === 1 && o[0] !== killed), 120_000, `no Service names ${killed} any more`, 500);
    const killWrites = bulkWrites();
    t.diagnostic(`SIGKILL of ${killed}: ${killWrites.length} annotation writes; it announced ${killedServices.size} of ${BULK} Services`);
    assert.ok(killWrites.every((n) => killedServices.has(n)), 'only Services the killed node announced were written');
    assert.ok(killWrites.length <= 2 * killedServices.size, `${killWrites.length} writes for ${killedServices.size} moved Services`);
    // Each survivor publishes what its membership has alive on its own Pod (speaker token, through the admission
    // policy); `metallb-ts status` reads those views and calls the killed speaker not alive though its Pod is Ready.
    const survivors = NODES.filter((n) => n !== killed);
    await eventually(async () => {
      for (const n of survivors) {
        const pod = await admin.core.readNamespacedPod({ namespace: METALLB_NS, name: podName(n) });
        if (pod.metadata?.annotations?.[MEMBERS_ANNOTATION] !== survivors.join(',')) return false;
      }
      return true;
    }, 60_000, 'the survivors publish their alive view on their Pods');
    // Gossip under this machine's load may find a busy survivor dead for a moment; status follows, so poll it.
    let report: StatusReport | undefined;
    let speakerRows: StatusReport['speakers'] = [];
    await eventually(() => {
      const r = spawnSync(process.execPath, [join(repoRoot(), 'dist', 'src', 'cli', 'main.js'), 'status', '--kubeconfig', cluster.adminKubeconfig, '--json'], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      report = JSON.parse(r.stdout) as StatusReport;
      speakerRows = report.speakers.filter((s) => NODES.includes(s.node));
      return JSON.stringify(speakerRows.map((s) => [s.node, s.alive, s.kubernetes])) === JSON.stringify(NODES.map((n) => [n, n !== killed, true]));
    }, 120_000, `status: ${killed} not alive though its Pod is Ready, the survivors alive`, 2000);
    t.diagnostic(`status speakers: ${JSON.stringify(speakerRows)}`);
    const sample = [...killedServices][0]!;
    const svcRow = report!.services.find((s) => s.service === `${bulkNs}/${sample}`);
    assert.ok(svcRow && svcRow.announcedBy.length === 1 && survivors.includes(svcRow.announcedBy[0]!.node), JSON.stringify(svcRow));
    assert.deepEqual(problems, []);
  } catch (err) {
    const dist = new Map<string, number>();
    for (const o of (await owners().catch(() => new Map<string, string[]>())).values()) dist.set(o.join('+') || '(none)', (dist.get(o.join('+') || '(none)') ?? 0) + 1);
    t.diagnostic(`owners at failure: ${JSON.stringify(Object.fromEntries(dist))}; writes counted ${counter?.writes.length ?? 0}`);
    for (const [node, sp] of speakers) t.diagnostic(`${node}: ${membershipLines(sp).join('; ')} | ${sp.tail(3)}`);
    throw err;
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
    await cluster.kubectl(['delete', 'services', '--all', '-n', bulkNs, '--wait=true', '--timeout=300s']).catch(() => '');
    await cluster.kubectl(['delete', 'namespace', bulkNs, '--wait=false']).catch(() => '');
  }
});
