// Issue 9, end to end on the wire: the lab (real apiserver, controller and three speakers with their
// ServiceAccount tokens, the kube-proxy stand-in) and a client on the same L2 segment. The elected node — and only
// it — answers ARP and NDP for the demo's IPv4 and IPv6 addresses, curl reaches the demo through both, a speaker
// restart keeps the owner, and deleting the Service or switching its pool to bgp stops the answers.
// One lab for the whole file (prefix mlw-, or METALLB_TS_LAB_TEST_PREFIX + 'w-').
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  labPerFile, labTestPrefix, applyService, serviceIps, waitOwner, waitNoOwner, waitArping, waitArpSilent, arpingOnce, ipv6NeighborMac, waitIpv6Neighbor,
  waitCurl, captureAtClient, answerersIn, macOf, speakerLog,
} from './lab-harness.js';
import { curlOnce, announcements, ownersOf } from '../../src/lab/observe.js';
import { run, waitFor } from '../../src/testing/cluster/processes.js';

const theLab = labPerFile(labTestPrefix('w-'));
const t0 = Date.now();
after(async () => {
  const lab = theLab.started();
  await theLab.down();
  process.stderr.write(`# layer2-wire: lab up ${lab?.upSeconds.toFixed(1) ?? '-'} s, file ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}, { timeout: 300_000 });

test('the owner answers ARP and NDP for the demo, curl reaches it over both families, no other node answers', { timeout: 300_000 }, async (t) => {
  const lab = await theLab.get(t);
  if (!lab) return;
  const ips = await serviceIps(lab, 'demo', 2);
  const v4 = ips.find((ip) => !ip.includes(':'))!;
  const v6 = ips.find((ip) => ip.includes(':'))!;
  assert.ok(v4 && v6, `the PreferDualStack demo has one IP per family: ${ips.join(', ')}`);
  // One owner for the Service (elected on its first IP), announcing both of its IPs.
  const owner = await waitOwner(lab, v4);
  assert.equal(await waitOwner(lab, v6), owner);
  const mac = macOf(lab, owner);

  const capture = await captureAtClient(lab);
  assert.equal(await waitArping(lab, v4), mac, `arping ${v4} must get ${owner}'s MAC`);
  for (let i = 0; i < 3; i += 1) assert.equal(await arpingOnce(lab, v4), mac);
  assert.equal(await waitIpv6Neighbor(lab, v6, mac), mac, `the client's neighbour entry for ${v6} must hold ${owner}'s MAC`);
  // ndisc6 sends its own solicitations (and ignores NAs not sourced from the target, FINDINGS.md): only the
  // frames on the wire matter here.
  await run('ip', ['netns', 'exec', lab.client, 'ndisc6', '-r', '2', '-w', '500', v6, 'eth0']);
  assert.equal(await waitCurl(lab, v4), owner);
  assert.equal(await waitCurl(lab, v6), owner);
  const lines = await capture.stop();

  assert.deepEqual([...answerersIn(lines, v4)], [mac], `ARP replies for ${v4} on the wire:\n${lines.join('\n')}`);
  assert.deepEqual([...answerersIn(lines, v6)], [mac], `Neighbor Advertisements for ${v6} on the wire:\n${lines.join('\n')}`);
});

test('lab status names the owner of each IP', { timeout: 300_000 }, async (t) => {
  const lab = await theLab.get(t);
  if (!lab) return;
  const [v4] = await serviceIps(lab, 'demo', 2);
  const owner = await waitOwner(lab, v4!);
  const status = await lab.cli('status');
  assert.equal(status.code, 0, status.output);
  assert.match(status.output, new RegExp(`default/demo\\s+${v4!.replace(/\./g, '\\.')}\\s+${owner}\\n`));
});

test('a speaker restart keeps the owner', { timeout: 300_000 }, async (t) => {
  const lab = await theLab.get(t);
  if (!lab) return;
  const [v4] = await serviceIps(lab, 'demo', 2);
  const owner = await waitOwner(lab, v4!);
  const restarted = await lab.cli('restart-speaker', owner);
  assert.equal(restarted.code, 0, restarted.output);
  assert.match(restarted.output, new RegExp(`speaker: restarted on ${owner}`));
  // The SIGTERM hands the IP to a successor (make-before-break), and the restarted speaker claims it back
  // once its gossip view has a quorum again (the minority rule): wait for that owner, not for the first one.
  assert.equal(await waitOwner(lab, v4!, owner), owner);
  assert.equal(await waitArping(lab, v4!), macOf(lab, owner));
  assert.equal(await waitCurl(lab, v4!), owner);
  // And restarting another node's speaker does not move it either.
  const other = lab.nodes.find((n) => n.name !== owner)!.name;
  const second = await lab.cli('restart-speaker', other);
  assert.equal(second.code, 0, second.output);
  assert.equal(await waitOwner(lab, v4!, owner), owner);
  assert.equal(await waitArping(lab, v4!), macOf(lab, owner));
});

test('deleting the Service stops the answers', { timeout: 300_000 }, async (t) => {
  const lab = await theLab.get(t);
  if (!lab) return;
  await applyService(lab, 'short-lived', { port: 8081 });
  const [ip] = await serviceIps(lab, 'short-lived');
  const owner = await waitOwner(lab, ip!);
  assert.equal(await waitArping(lab, ip!), macOf(lab, owner));
  assert.equal(await waitCurl(lab, ip!, 8081), owner);

  await lab.cluster.kubectl(['delete', 'service', 'short-lived', '-n', 'default']);
  await waitNoOwner(lab, ip!);
  await waitArpSilent(lab, ip!);
  await run('ip', ['-n', lab.client, 'neigh', 'del', ip!, 'dev', 'eth0']);
  assert.equal(await curlOnce(lab.client, ip!, 8081), undefined, 'curl must fail once nobody answers ARP');
});

test('switching the pool to bgp stops the layer-2 answers', { timeout: 300_000 }, async (t) => {
  const lab = await theLab.get(t);
  if (!lab) return;
  const ips = await serviceIps(lab, 'demo', 2);
  const v4 = ips.find((ip) => !ip.includes(':'))!;
  const v6 = ips.find((ip) => ip.includes(':'))!;
  const owner = await waitOwner(lab, v4);
  const cm = JSON.parse(await lab.cluster.kubectl(['get', 'configmap', 'config', '-n', 'metallb-system', '-o', 'json'])) as { data: { config: string } };
  assert.match(cm.data.config, /protocol: layer2/);
  const patch = { data: { config: cm.data.config.replace('protocol: layer2', 'protocol: bgp') } };
  await lab.cluster.kubectl(['patch', 'configmap', 'config', '-n', 'metallb-system', '--type=merge', '-p', JSON.stringify(patch)]);

  // The owner withdraws its layer-2 announcement because the protocol changed (spec §4) ...
  await waitFor(`${owner}'s speaker to withdraw default/demo with protocolChanged`, 60_000, () =>
    speakerLog(lab, owner).some((l) => l.event === 'serviceWithdrawn' && l.service === 'default/demo'
      && l.protocol === 'layer2' && l.reason === 'protocolChanged'), 250);
  await waitNoOwner(lab, v4);
  await waitNoOwner(lab, v6);
  // ... and every node with an endpoint (all three) now announces it over BGP instead (the lab's pool has no peers).
  await waitFor('all three speakers to announce the demo over BGP', 60_000, async () =>
    ownersOf(await announcements(lab.nodes), v4, 'bgp').length === 3, 250);
  // On the wire: no ARP reply, and no NA (a fresh resolution from the client leaves no usable neighbour entry).
  await waitArpSilent(lab, v4);
  assert.equal(await ipv6NeighborMac(lab, v6), undefined);
});
