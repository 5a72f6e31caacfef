// Issue 9, election end to end: 20 Services spread over the lab's three nodes, two Services sharing one IP have
// one owner, externalTrafficPolicy Local follows the endpoint from node to node, and a Service whose status IP
// is garbage or outside every pool is skipped with its reason while the speakers keep running.
// One lab for the whole file (prefix mle-, or METALLB_TS_LAB_TEST_PREFIX + 'e-').
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  labPerFile, labTestPrefix, applyService, applyServices, firstIps, waitOwners, serviceIps, waitOwner, waitArping, waitCurl, macOf, speakerLog, arpingOnce,
} from './lab-harness.js';
import { writePod, deletePod } from '../../src/lab/kubelet.js';
import { announcements } from '../../src/lab/observe.js';
import { electOwner } from '../../src/core/election/index.js';
import { isAlive, stopPid, waitFor } from '../../src/testing/cluster/processes.js';

const theLab = labPerFile(labTestPrefix('e-'));
const t0 = Date.now();
after(async () => {
  const lab = theLab.started();
  await theLab.down();
  process.stderr.write(`# layer2-election: lab up ${lab?.upSeconds.toFixed(1) ?? '-'} s, file ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}, { timeout: 60_000 });

test('20 Services spread over the 3 nodes, each IP with one owner that answers ARP and curl', { timeout: 300_000 }, async (t) => {
  const lab = await theLab.get(t);
  if (!lab) return;
  const names = Array.from({ length: 20 }, (_, i) => `spread-${i}`);
  await applyServices(lab, names, { port: 9000 });
  const ips = [...(await firstIps(lab, names)).values()];
  assert.equal(new Set(ips).size, 20, `twenty distinct IPs: ${ips.join(' ')}`);
  const owners = await waitOwners(lab, ips);
  const perNode = new Map<string, number>();
  for (const node of owners.values()) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  t.diagnostic(`IPs per node: ${[...perNode].map(([n, c]) => `${n}=${c}`).join(' ')}`);
  for (const node of lab.nodes) assert.ok((perNode.get(node.name) ?? 0) >= 1, `${node.name} owns none of 20: ${JSON.stringify([...perNode])}`);
  for (const [ip, node] of owners) {
    assert.equal(await waitArping(lab, ip), macOf(lab, node), `ARP for ${ip}`);
    assert.equal(await waitCurl(lab, ip, 9000), node, `curl ${ip}`);
  }
});

test('two Services sharing one IP have one owner', { timeout: 300_000 }, async (t) => {
  const lab = await theLab.get(t);
  if (!lab) return;
  const shared = '192.0.2.180';
  const annotations = { 'metallb.universe.tf/allow-shared-ip': 'share-key' };
  await applyService(lab, 'share-a', { port: 8001, loadBalancerIP: shared, annotations });
  await applyService(lab, 'share-b', { port: 8002, loadBalancerIP: shared, annotations });
  assert.deepEqual(await serviceIps(lab, 'share-a'), [shared]);
  assert.deepEqual(await serviceIps(lab, 'share-b'), [shared]);
  const owner = await waitOwner(lab, shared);
  // Both Services are announced, both from that one node.
  await waitFor('both sharing Services announced', 60_000, async () => {
    const all = (await announcements(lab.nodes)).filter((a) => a.ip === shared);
    return new Set(all.map((a) => a.service)).size === 2 && all.every((a) => a.node === owner);
  }, 250);
  assert.equal(await waitArping(lab, shared), macOf(lab, owner));
  assert.equal(await waitCurl(lab, shared, 8001), owner);
  assert.equal(await waitCurl(lab, shared, 8002), owner);
});

test('externalTrafficPolicy Local moves the owner to the node with the endpoint, and back', { timeout: 300_000 }, async (t) => {
  const lab = await theLab.get(t);
  if (!lab) return;
  const labels = { app: 'local-backend' };
  await applyService(lab, 'local', { port: 8003, selector: labels, externalTrafficPolicy: 'Local' });
  const [ip] = await serviceIps(lab, 'local');
  // Move between the two nodes that would NOT own this IP under Cluster policy, so each move is the policy's doing.
  const clusterOwner = electOwner(ip!, lab.nodes.map((n) => n.name));
  const [first, second] = lab.nodes.filter((n) => n.name !== clusterOwner);
  for (const node of [first!, second!, first!]) {
    await writePod(lab.cluster, { name: 'local-backend', namespace: 'default', node, labels, containerPort: 8080 });
    assert.equal(await waitOwner(lab, ip!, node.name), node.name);
    assert.equal(await waitArping(lab, ip!, macOf(lab, node.name)), macOf(lab, node.name));
    assert.equal(await waitCurl(lab, ip!, 8003, node.name), node.name);
  }
  // No endpoint anywhere: not announced at all (v0.11).
  await deletePod(lab.cluster, 'default', 'local-backend');
  await waitFor(`no owner for ${ip} without endpoints`, 60_000, async () =>
    (await announcements(lab.nodes)).every((a) => a.ip !== ip), 250);
});

test('a status IP that is garbage or outside every pool is skipped with its reason; the speakers keep running', { timeout: 300_000 }, async (t) => {
  const lab = await theLab.get(t);
  if (!lab) return;
  // The controller would correct these statuses; stop it, as if a foreign controller had written them.
  const state = JSON.parse(readFileSync(join(lab.dir, 'state.json'), 'utf8')) as { pids: Record<string, number> };
  await stopPid(state.pids.controller!, 3000);
  const cases = [
    // The apiserver still accepts an IPv4 with a leading zero (with a warning); MetalLB (Go's ParseIP) does not.
    { name: 'bad-leading-zero', ingress: [{ ip: '192.0.2.010' }], reason: 'invalidIP' },
    { name: 'bad-hostname-only', ingress: [{ hostname: 'lb.example' }], reason: 'invalidIP' },
    { name: 'bad-outside-pools', ingress: [{ ip: '198.51.100.7' }], reason: 'ipNotAllowed' },
  ];
  for (const c of cases) {
    await applyService(lab, c.name, { port: 8010 });
    await lab.cluster.kubectl(['patch', 'service', c.name, '-n', 'default', '--subresource=status', '--type=merge',
      '-p', JSON.stringify({ status: { loadBalancer: { ingress: c.ingress } } })]);
  }
  for (const node of lab.nodes) {
    for (const c of cases) {
      await waitFor(`${node.name}'s speaker to skip default/${c.name} with ${c.reason}`, 60_000, () =>
        speakerLog(lab, node.name).some((l) => l.service === `default/${c.name}` && l.reason === c.reason), 250);
    }
  }
  assert.ok((await announcements(lab.nodes)).every((a) => !cases.some((c) => a.service === `default/${c.name}`)));
  assert.equal(await arpingOnce(lab, '198.51.100.7'), undefined, 'nobody answers for the IP outside the pools');
  // Still alive, and still working: a Service with a good status (written by hand too) is announced.
  const pids = JSON.parse(readFileSync(join(lab.dir, 'state.json'), 'utf8')) as { pids: Record<string, number> };
  for (const node of lab.nodes) assert.ok(isAlive(pids.pids[`speaker-${node.name}`]!), `speaker on ${node.name} exited`);
  await applyService(lab, 'good-after-bad', { port: 8011 });
  await lab.cluster.kubectl(['patch', 'service', 'good-after-bad', '-n', 'default', '--subresource=status', '--type=merge',
    '-p', JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: '192.0.2.190' }] } } })]);
  const owner = await waitOwner(lab, '192.0.2.190');
  assert.equal(await waitCurl(lab, '192.0.2.190', 8011), owner);
});
