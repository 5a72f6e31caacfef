/**
 * `metallb-ts status` against the harness's real apiserver: the CLI as a user runs it (admin kubeconfig), over a
 * MetalLB namespace of this test's own (`--namespace`), so other suites' config does not interfere. The speakers'
 * announce annotations are written with the speaker ServiceAccount's token, as the speakers do. Checks the JSON
 * report (config state, pools per family, Services → IPs → pool → protocol → nodes or reasons, speakers alive),
 * the human tables (no colour off a TTY), a refused config with its blockers, and --watch redrawing on change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { getTestCluster, type TestCluster } from '../../src/testing/cluster/test-cluster.js';
import { METALLB_NS, eventually, installMetallb } from '../../src/testing/metallb/process.js';
import { adminClients } from '../../src/testing/metallb/kube.js';
import { loadKubeClients, type KubeClients } from '../../src/adapters/k8s/client.js';
import { createAnnounceWriter } from '../../src/adapters/k8s/announce-writer.js';
import { announceAnnotationKey } from '../../src/core/speaker/announce-annotation.js';
import { MEMBERS_ANNOTATION } from '../../src/core/speaker/members-annotation.js';
import { repoRoot } from '../conformance/vectors.js';
import type { StatusReport } from '../../src/cli/status-report.js';

const N1 = 'op-st-n1';
const N2 = 'op-st-n2';
/** Ready in Kubernetes, but its process died (SIGKILL, no kubelet noticed): N1's published gossip view lacks it. */
const N3 = 'op-st-n3';
// Pool `mine` is this test's; `rest` holds every other documentation range, so no other suite's Service in the
// same cluster makes this config refused.
const APPLIED = `address-pools:
- name: mine
  protocol: layer2
  addresses:
  - 203.0.113.240/28
- name: rest
  protocol: layer2
  addresses:
  - 192.0.2.0/24
  - 198.51.100.0/24
  - 203.0.113.0/25
  - 203.0.113.128/26
  - 203.0.113.192/27
  - 203.0.113.224/28
  - 2001:db8::/32
`;
const REFUSED = 'address-pools:\n- name: other\n  protocol: layer2\n  addresses:\n  - 198.51.100.0/24\n';

const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function status(kubeconfig: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'status', '--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function putConfigMap(k: KubeClients, ns: string, name: string, config: string, source?: string): Promise<void> {
  const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { config, ...(source ? { source } : {}) } };
  try { await k.core.replaceNamespacedConfigMap({ namespace: ns, name, body }); } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
    await k.core.createNamespacedConfigMap({ namespace: ns, body });
  }
}

async function serviceWithIp(k: KubeClients, ns: string, name: string, ip: string | undefined): Promise<void> {
  const svc = await k.core.createNamespacedService({
    namespace: ns,
    body: { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80, protocol: 'TCP' }] } },
  });
  if (ip) await k.core.replaceNamespacedServiceStatus({ namespace: ns, name, body: { ...svc, status: { loadBalancer: { ingress: [{ ip }] } } } });
}

async function nodeAndSpeaker(cluster: TestCluster, ns: string, node: string, podReady: boolean): Promise<void> {
  const now = new Date().toISOString();
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: node } }) });
  await cluster.kubectl(['patch', 'node', node, '--subresource=status', '--type=merge', '-p',
    JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Test', message: 'op status', lastHeartbeatTime: now, lastTransitionTime: now }] } })]);
  await cluster.kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: `speaker-${node}`, namespace: ns, labels: { app: 'metallb', component: 'speaker' } },
      spec: { nodeName: node, terminationGracePeriodSeconds: 0, containers: [{ name: 'speaker', image: 'metallb-ts:test' }] },
    }),
  });
  await cluster.kubectl(['patch', 'pod', `speaker-${node}`, '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: podReady ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: now }] },
  })]);
}

test('status: pools, Services → nodes or reasons, config applied then refused with blockers, speakers alive, --watch', { timeout: 600_000 }, async () => {
  const cluster = await getTestCluster();
  await installMetallb(cluster);
  const admin = await adminClients(cluster);
  const speaker = await loadKubeClients(await cluster.kubeconfigFor(METALLB_NS, 'speaker'));
  const metallbNs = await cluster.createNamespace('op-st-metallb');
  const ns = await cluster.createNamespace('op-st');
  try {
    await putConfigMap(admin, metallbNs, 'config', APPLIED);
    await putConfigMap(admin, metallbNs, 'config-last-applied', APPLIED, `${metallbNs}/config@1`); // as the controller writes it
    await nodeAndSpeaker(cluster, metallbNs, N1, true);
    await nodeAndSpeaker(cluster, metallbNs, N2, false);
    await nodeAndSpeaker(cluster, metallbNs, N3, true);
    // The views the speakers publish on their Pods (memberlist.metallb.universe.tf/alive); N3's is its last, stale one.
    const mergePatch = admin.k8s.setHeaderOptions('Content-Type', admin.k8s.PatchStrategy.MergePatch);
    for (const [node, view] of [[N1, N1], [N3, `${N1},${N3}`]] as const) {
      await admin.core.patchNamespacedPod({ namespace: metallbNs, name: `speaker-${node}`, body: { metadata: { annotations: { [MEMBERS_ANNOTATION]: view } } } }, mergePatch);
    }
    await serviceWithIp(admin, ns, 'web', '203.0.113.241');
    await serviceWithIp(admin, ns, 'db', '203.0.113.242');
    await serviceWithIp(admin, ns, 'pending', undefined);
    const write1 = createAnnounceWriter(speaker, N1);
    const write2 = createAnnounceWriter(speaker, N2);
    assert.ok((await write1(ns, 'web', { [announceAnnotationKey(N1)]: 'announcing layer2 on eth0' })).ok);
    assert.ok((await write1(ns, 'db', { [announceAnnotationKey(N1)]: 'not announcing: noEndpoints' })).ok);
    assert.ok((await write2(ns, 'db', { [announceAnnotationKey(N2)]: 'not announcing: noEndpoints' })).ok);

    const json = status(cluster.adminKubeconfig, ['--namespace', metallbNs, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as StatusReport;
    assert.deepEqual(report.config, { state: 'applied' });
    const mine = report.pools.find((p) => p.name === 'mine')!;
    assert.deepEqual({ v4: mine.ipv4, v6: mine.ipv6 }, { v4: { size: '16', used: 2, free: '14' }, v6: undefined });
    assert.equal(report.pools.find((p) => p.name === 'rest')!.ipv6!.size, (2n ** 96n).toString());
    const svc = (name: string) => report.services.find((s) => s.service === `${ns}/${name}`)!;
    assert.deepEqual(svc('web'), { service: `${ns}/web`, ips: ['203.0.113.241'], pool: 'mine', protocol: 'layer2', announcedBy: [{ node: N1, detail: 'announcing layer2 on eth0' }], reasons: [] });
    assert.deepEqual(svc('db').reasons, ['noEndpoints']);
    assert.deepEqual(svc('db').announcedBy, []);
    // JSON leaves out the undefined pool and protocol.
    assert.deepEqual(svc('pending'), { service: `${ns}/pending`, ips: [], announcedBy: [], reasons: ['noIPAllocated'] });
    assert.deepEqual(report.speakers.filter((s) => s.node.startsWith('op-st-')), [
      { node: N1, alive: true, kubernetes: true, seenBy: 1, reporters: 1, sees: [N1] },
      { node: N2, alive: false, kubernetes: false, seenBy: 0, reporters: 2 },
      { node: N3, alive: false, kubernetes: true, seenBy: 0, reporters: 1, sees: [N1, N3] },
    ]);

    const human = status(cluster.adminKubeconfig, ['--namespace', metallbNs]);
    assert.equal(human.code, 0, human.stderr);
    assert.doesNotMatch(human.stdout, /\x1b\[/, 'no colour off a TTY');
    assert.match(human.stdout, /Config: applied/);
    assert.match(human.stdout, new RegExp(`${ns}/web\\s*│\\s*203\\.0\\.113\\.241\\s*│\\s*mine\\s*│\\s*layer2\\s*│\\s*${N1} \\(eth0\\)`));
    assert.match(human.stdout, new RegExp(`${ns}/db .*not announced: noEndpoints`));
    assert.match(human.stdout, /mine\s*│\s*layer2\s*│\s*203\.0\.113\.240\/28\s*│\s*2\/16\s*│\s*14\s*│/);
    assert.match(human.stdout, new RegExp(`not alive \\(\\d+\\): .*${N2}`));
    assert.match(human.stdout, new RegExp(`${N3}\\s*│\\s*no\\s*│\\s*Ready\\s*│\\s*0/1\\s*│\\s*${N1}, ${N3}`), 'Ready in Kubernetes, unseen by gossip');

    // A config that would leave web and db without a pool: refused, with them among the blockers.
    await putConfigMap(admin, metallbNs, 'config', REFUSED);
    const refused = JSON.parse(status(cluster.adminKubeconfig, ['--namespace', metallbNs, '--json']).stdout) as StatusReport;
    assert.equal(refused.config.state, 'refused');
    if (refused.config.state === 'refused') {
      for (const b of [`${ns}/web`, `${ns}/db`]) assert.ok(refused.config.blockers.includes(b), `${b} in ${refused.config.blockers.join(', ')}`);
      assert.equal(refused.config.running, 'last-applied');
    }
    assert.ok(refused.pools.some((p) => p.name === 'mine'), 'the pools shown are those of the config still running');
    const refusedHuman = status(cluster.adminKubeconfig, ['--namespace', metallbNs]).stdout;
    assert.match(refusedHuman, /Config: REFUSED: .*\n {2}blocked by Services: .*op-st/);

    // --watch: the first report, then a redraw once the owner changes.
    const child = spawn(process.execPath, [cli, 'status', '--kubeconfig', cluster.adminKubeconfig, '--namespace', metallbNs, '--watch', '--interval', '0.5'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    try {
      await eventually(() => out.includes(`${N1} (eth0)`), 60_000, 'the first --watch report');
      assert.ok((await write1(ns, 'web', { [announceAnnotationKey(N1)]: null })).ok);
      assert.ok((await write2(ns, 'web', { [announceAnnotationKey(N2)]: 'announcing layer2 on eth1' })).ok);
      await eventually(() => out.includes(`${N2} (eth1)`), 60_000, 'a redraw naming the new owner');
      const frames = out.split(/^--- /m).filter((f) => f.trim() !== '');
      assert.ok(frames.length >= 2, out);
      assert.doesNotMatch(frames.at(-1)!, new RegExp(`${N1} \\(eth0\\)`), 'the last frame no longer names the old owner');
    } finally {
      child.kill('SIGTERM');
    }
  } finally {
    for (const node of [N1, N2, N3]) await cluster.kubectl(['delete', 'node', node, '--ignore-not-found', '--wait=false']).catch(() => '');
    await cluster.kubectl(['delete', 'namespace', ns, metallbNs, '--wait=false']).catch(() => '');
  }
});
