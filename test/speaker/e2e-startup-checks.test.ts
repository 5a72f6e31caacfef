/**
 * The speaker's environment checks end to end (issue 13 §3): the real `metallb-ts speaker` CLI with the speaker
 * ServiceAccount's token (the RBAC of manifests/metallb.yaml) against the harness's apiserver, in a node network
 * namespace of this file's own (prefix METALLB_TS_CHECKS_E2E_PREFIX, default `chke-`) holding a veth named
 * `kube-ipvs0` (kube-proxy's IPVS interface; this kernel has no `dummy`) and an `eth0` that answers ARP.
 * Each finding shows where users look: a Warning Event on the Node (`kubectl describe node` lists it), a warn log
 * line and `metallb_speaker_startup_check_failed{check}`; fixing the cause brings the gauge back to 0.
 * - StrictARPMissing: conf/all arp_ignore=0/arp_announce=0, then 1/2 (kube-proxy's strictARP).
 * - MemberlistPortInUse: another process holds UDP 127.0.0.1:7946 when the speaker starts; the speaker waits
 *   (not ready) and starts gossip once the holder is gone.
 * - MemberlistPortUnreachable: a second speaker Pod, Running and Ready, whose address nobody answers gossip on.
 * - BGPPeerSilent: a configured BGP peer at an address nothing listens on (connections refused).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getTestCluster, requirePrerequisite, type TestCluster } from '../../src/testing/cluster/test-cluster.js';
import { run, runOk } from '../../src/testing/cluster/processes.js';
import { METALLB_NS, eventually, installMetallb, startSpeaker, type SpeakerProcess } from '../../src/testing/metallb/process.js';
import { adminClients, eventsFor, waitForEvent } from '../../src/testing/metallb/kube.js';
import type { KubeClients } from '../../src/adapters/k8s/client.js';
import { cidrContains, parseCidr, parseIp } from '../../src/core/ip/index.js';

const NS = `${process.env['METALLB_TS_CHECKS_E2E_PREFIX'] ?? 'chke-'}node1`;
const NODE = 'chk-e2e-node1';
const PEER_NODE = 'chk-e2e-node2';
const SUITE_LABEL = 'metallb-ts.test/suite';
const ML_LABELS = `app=metallb,component=speaker,${SUITE_LABEL}=chk-e2e`;
const CONFIG = 'chk-e2e-config';
/** Nothing listens there: lo answers 127.0.0.0/8 with RST. */
const SILENT_PEER = '127.0.0.2';
const SILENT_PORT = 17900;
const POOL_CIDR = '198.51.100.0/28';
const CONFIG_TEXT = `peers:
- peer-address: ${SILENT_PEER}
  peer-port: ${SILENT_PORT}
  peer-asn: 64500
  my-asn: 64501
address-pools:
- name: bgp
  protocol: bgp
  addresses:
  - ${POOL_CIDR}
`;

/**
 * The suites share one cluster, and Services other suites left behind (or whose namespace is still terminating)
 * hold addresses outside this suite's pool; the speaker's fail-static rule would then refuse this config and start
 * no BGP session. A layer-2 pool holding exactly those addresses keeps the config applicable whatever ran before.
 */
function configText(leftovers: readonly string[]): string {
  if (leftovers.length === 0) return CONFIG_TEXT;
  return `${CONFIG_TEXT}- name: leftovers
  protocol: layer2
  addresses:
${leftovers.map((ip) => `  - ${ip}/${ip.includes(':') ? 128 : 32}\n`).join('')}`;
}

/** Addresses outside POOL_CIDR held by any Service in the cluster. */
async function leftoverAddresses(k: KubeClients): Promise<string[]> {
  const pool = parseCidr(POOL_CIDR)!;
  const list = await k.core.listServiceForAllNamespaces();
  const ips = list.items.flatMap((s) => (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => ip !== undefined));
  return [...new Set(ips.filter((ip) => { const a = parseIp(ip); return a !== undefined && !cidrContains(pool, a); }))].sort();
}

async function putConfigMap(k: KubeClients): Promise<void> {
  const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CONFIG, namespace: METALLB_NS }, data: { config: configText(await leftoverAddresses(k)) } };
  try {
    await k.core.replaceNamespacedConfigMap({ namespace: METALLB_NS, name: CONFIG, body });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
    await k.core.createNamespacedConfigMap({ namespace: METALLB_NS, body });
  }
}

/** A Ready Node and its Running and Ready speaker Pod (what a kubelet would report). */
async function nodeWithSpeakerPod(cluster: TestCluster, node: string, podIp: string): Promise<void> {
  const now = new Date().toISOString();
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: node, labels: { 'kubernetes.io/hostname': node } } }) });
  await cluster.kubectl(['patch', 'node', node, '--subresource=status', '--type=merge', '-p',
    JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Test', message: 'chk e2e', lastHeartbeatTime: now, lastTransitionTime: now }] } })]);
  const labels = Object.fromEntries(ML_LABELS.split(',').map((kv) => kv.split('=') as [string, string]));
  const pod = `${node}-speaker`;
  await cluster.kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, namespace: METALLB_NS, labels },
      spec: { nodeName: node, hostNetwork: true, terminationGracePeriodSeconds: 0, containers: [{ name: 'speaker', image: 'metallb-ts:test' }] },
    }),
  });
  await cluster.kubectl(['patch', 'pod', pod, '-n', METALLB_NS, '--subresource=status', '--type=merge', '-p', JSON.stringify({
    status: { phase: 'Running', podIP: podIp, conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: now }] },
  })]);
}

async function sysctl(key: string, value: number): Promise<void> {
  await runOk('ip', ['netns', 'exec', NS, 'sysctl', '-q', '-w', `net.ipv4.conf.${key}=${value}`]);
}

/** A process in the namespace holding UDP 127.0.0.1:7946 (as a second speaker or another memberlist user would). */
async function holdMemberlistPort(): Promise<ChildProcess> {
  const script = "const s = require('dgram').createSocket('udp4'); s.bind(7946, '127.0.0.1', () => console.log('bound'));";
  const child = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('bound')) resolve(); });
    child.on('exit', (code) => reject(new Error(`the port holder exited (${code})`)));
  });
  return child;
}

const failed = (sp: SpeakerProcess, check: string) => sp.metric('metallb_speaker_startup_check_failed', `check="${check}"`);

test('speaker e2e: environment checks as Warning Events on the Node, log lines and metrics', { timeout: 600_000 }, async (t) => {
  if (!requirePrerequisite(t, process.getuid?.() === 0, 'needs root for a network namespace')) return;
  const cluster = await getTestCluster();
  await installMetallb(cluster);
  const speakerKubeconfig = await cluster.kubeconfigFor(METALLB_NS, 'speaker');
  const admin = await adminClients(cluster);
  let relay: number | undefined;
  let holder: ChildProcess | undefined;
  let speaker: SpeakerProcess | undefined;
  await run('ip', ['netns', 'del', NS]);
  try {
    await runOk('ip', ['netns', 'add', NS]);
    await runOk('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    await runOk('ip', ['-n', NS, 'link', 'add', 'kube-ipvs0', 'type', 'veth', 'peer', 'name', 'eth0']);
    await runOk('ip', ['-n', NS, 'link', 'set', 'eth0', 'address', '02:00:00:00:c4:11', 'up']);
    for (const key of ['all', 'eth0']) { await sysctl(`${key}.arp_ignore`, 0); await sysctl(`${key}.arp_announce`, 0); }
    relay = await cluster.exposeInNetns([NS]);
    await nodeWithSpeakerPod(cluster, NODE, '127.0.0.1');
    // A second speaker, Running and Ready, that never answers gossip (nothing listens on 127.0.0.3:7946).
    await nodeWithSpeakerPod(cluster, PEER_NODE, '127.0.0.3');
    await putConfigMap(admin);
    holder = await holdMemberlistPort();

    speaker = await startSpeaker(speakerKubeconfig, { nodeName: NODE, netns: NS, host: '127.0.0.1', mlLabels: ML_LABELS, extraArgs: [`--config=${CONFIG}`] });
    const sp = speaker;

    await t.test('memberlist port in use: Warning Event on the Node, log line, metric; the speaker waits, then starts gossip', async () => {
      const event = await waitForEvent(admin, 'default', 'Node', NODE, 'MemberlistPortInUse', 60_000);
      assert.equal(event.type, 'Warning');
      assert.equal(event.source?.component, 'metallb-speaker');
      assert.match(event.message ?? '', /127\.0\.0\.1:7946 .*already in use/);
      const line = await sp.waitForLog((l) => l['event'] === 'startupCheckFailed' && l['reason'] === 'MemberlistPortInUse', 60_000);
      assert.equal(line['level'], 'warn');
      assert.equal(line['error'], event.message);
      await eventually(async () => (await failed(sp, 'memberlistPort')) === 1, 30_000, 'metric memberlistPort 1');
      assert.equal(sp.child.exitCode, null, 'the speaker keeps running');
      assert.ok(!sp.lines.some((l) => l['event'] === 'memberlistStarted'), 'no gossip while the port is held');

      holder!.kill('SIGKILL');
      await sp.waitForLog((l) => l['event'] === 'memberlistStarted', 60_000);
      await eventually(async () => (await failed(sp, 'memberlistPort')) === 0, 30_000, 'metric memberlistPort back to 0');
      await sp.waitReady(60_000);
    });

    await t.test('kube-ipvs0 without strict ARP: StrictARPMissing on the Node (kubectl describe node), cleared by strictARP', async () => {
      const event = await waitForEvent(admin, 'default', 'Node', NODE, 'StrictARPMissing', 30_000);
      assert.equal(event.type, 'Warning');
      assert.equal(event.involvedObject.namespace ?? '', '', 'a Node Event has no involvedObject namespace');
      assert.match(event.message ?? '', /eth0 \(arp_ignore 0, arp_announce 0\)/);
      assert.equal(await failed(sp, 'strictARP'), 1);
      const described = await cluster.kubectl(['describe', 'node', NODE]);
      assert.match(described, /Warning\s+StrictARPMissing\s+.*metallb-speaker/, `kubectl describe node lists it:\n${described.slice(-1500)}`);
      assert.match(described, /MemberlistPortInUse/);

      await sysctl('all.arp_ignore', 1);
      await sysctl('all.arp_announce', 2);
      await eventually(async () => (await failed(sp, 'strictARP')) === 0, 60_000, 'metric strictARP back to 0');
      const resolved = await sp.waitForLog((l) => l['event'] === 'startupCheckResolved' && l['reason'] === 'StrictARPMissing', 60_000);
      assert.equal(resolved['level'], 'info');
      assert.equal((await eventsFor(admin, 'default', 'Node', NODE)).filter((e) => e.reason === 'StrictARPMissing').reduce((n, e) => n + (e.count ?? 1), 0), 1,
        'raised once while it held');
    });

    await t.test('a speaker Pod that never answers gossip: MemberlistPortUnreachable naming its node', async () => {
      const event = await waitForEvent(admin, 'default', 'Node', NODE, 'MemberlistPortUnreachable', 120_000);
      assert.match(event.message ?? '', new RegExp(`node "${PEER_NODE}".*port 7946`));
      assert.equal(await failed(sp, 'memberlistReachable'), 1);
    });

    await t.test('a BGP peer nothing listens on: BGPPeerSilent with the connection error', async () => {
      // A refused config starts no session: say so rather than time out on the Event.
      await sp.waitForLog((l) => l['event'] === 'configLoaded', 60_000);
      const event = await waitForEvent(admin, 'default', 'Node', NODE, 'BGPPeerSilent', 120_000);
      assert.match(event.message ?? '', new RegExp(`${SILENT_PEER.replace(/\./g, '\\.')}:${SILENT_PORT} has not reached Established.*ECONNREFUSED`));
      assert.equal(await failed(sp, 'bgpPeer'), 1);
      assert.equal(await sp.metric('metallb_bgp_session_up', `peer="${SILENT_PEER}:${SILENT_PORT}"`), 0);
    });

    const forbidden = sp.lines.filter((l) => /\b403\b|forbidden/i.test(String(l['error'] ?? '')));
    assert.deepEqual(forbidden, [], 'the speaker ServiceAccount may record the Node Events');
    assert.deepEqual(sp.nonJson, [], 'every stdout line is JSON');
  } finally {
    holder?.kill('SIGKILL');
    await speaker?.stop();
    const logDir = process.env['METALLB_TS_SPEAKER_TEST_LOGS'];
    if (logDir && speaker) writeFileSync(join(logDir, 'speaker-checks.log'), [...speaker.lines.map((l) => JSON.stringify(l)), ...speaker.stderr].join('\n'));
    await run('ip', ['netns', 'del', NS]);
    if (relay !== undefined) { try { process.kill(relay, 'SIGTERM'); } catch { /* already gone */ } }
    for (const node of [NODE, PEER_NODE]) {
      await cluster.kubectl(['delete', 'pod', `${node}-speaker`, '-n', METALLB_NS, '--ignore-not-found', '--grace-period=0', '--force', '--wait=false']).catch(() => '');
      await cluster.kubectl(['delete', 'node', node, '--ignore-not-found', '--wait=false']).catch(() => '');
    }
    await cluster.kubectl(['delete', 'configmap', CONFIG, '-n', METALLB_NS, '--ignore-not-found']).catch(() => '');
  }
});
