// Issue 9, end to end on the wire: the lab (real apiserver, controller and three speakers with their
// ServiceAccount tokens, the kube-proxy stand-in) and a client on the same L2 segment. The elected node — and only
// it — answers ARP and NDP for the demo's IPv4 and IPv6 addresses, curl reaches the demo through both, a speaker
// restart keeps the owner, and deleting the Service or switching its pool to bgp stops the answers. Issue 13's
// operability in the same lab (the speakers gossip, the manifests' RBAC and admission policy): after a SIGKILL of
// the owner's speaker, `kubectl describe svc`, custom columns and `metallb-ts status` name the new owner and no
// longer the old one; `metallb-ts validate --cluster` predicts exactly what the lab's controller then does for
// each of a set of edits, and a refused one shows its blockers in `status`.
// One lab for the whole file (prefix mlw-, or METALLB_TS_LAB_TEST_PREFIX + 'w-').
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  labPerFile, labTestPrefix, applyService, serviceIps, waitOwner, waitNoOwner, waitArping, waitArpSilent, arpingOnce, ipv6NeighborMac, waitIpv6Neighbor,
  waitCurl, captureAtClient, answerersIn, macOf, speakerLog, type Lab,
} from './lab-harness.js';
import { curlOnce, announcements, ownersOf } from '../../src/lab/observe.js';
import { run, waitFor } from '../../src/testing/cluster/processes.js';
import { speakerPid } from '../../src/testing/failover/lab-faults.js';
import { metallbTs, labStatus, predictEdit, lbStatuses, controllerEvidence, type Prediction } from './operability.js';

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

test('after a SIGKILL of the owner\'s speaker, kubectl describe svc and metallb-ts status name the new owner, not the old one', { timeout: 300_000 }, async (t) => {
  const lab = await theLab.get(t);
  if (!lab) return;
  const [v4] = await serviceIps(lab, 'demo', 2);
  const old = await waitOwner(lab, v4!);
  const key = (node: string) => `announce.metallb.universe.tf/${node}`;
  const columns = ['NAME:.metadata.name', ...lab.nodes.map((n) => `${n.name.toUpperCase()}:.metadata.annotations.${key(n.name).replace(/\./g, '\\.')}`)].join(',');
  // Before the fault the carrier agrees with the speakers' metrics: the owner's key, nobody else's.
  await waitFor(`describe svc demo to name ${old} alone`, 60_000, async () => {
    const d = await lab.cluster.kubectl(['describe', 'service', 'demo', '-n', 'default']);
    return d.includes(`${key(old)}: announcing layer2 on eth0`) && (d.match(/announce\.metallb\.universe\.tf\//g) ?? []).length === 1;
  }, 250);

  process.kill(speakerPid(lab, lab.nodes.find((n) => n.name === old)!), 'SIGKILL');
  let now = '';
  await waitFor(`another node than ${old} to announce ${v4}`, 60_000, async () => {
    const owners = ownersOf(await announcements(lab.nodes.filter((n) => n.name !== old)), v4!, 'layer2');
    now = owners.length === 1 ? owners[0]! : '';
    return now !== '';
  }, 250);
  let described = '';
  await waitFor(`describe svc demo to name ${now} and no longer ${old}`, 60_000, async () => {
    described = await lab.cluster.kubectl(['describe', 'service', 'demo', '-n', 'default']);
    return described.includes(`${key(now)}: announcing layer2 on eth0`) && !described.includes(key(old));
  }, 250).catch((err: Error) => { throw new Error(`${err.message}\n${described}`); });
  assert.equal((described.match(/announce\.metallb\.universe\.tf\//g) ?? []).length, 1, described);
  const cols = await lab.cluster.kubectl(['get', 'service', 'demo', '-n', 'default', '-o', `custom-columns=${columns}`]);
  const [head, row] = cols.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
  const cell = (node: string) => row![head!.indexOf(node.toUpperCase())];
  assert.equal(cell(now), 'announcing layer2 on eth0', cols);
  assert.equal(cell(old), '<none>', cols);

  // status reads the same annotations and the survivors' published gossip views: the old speaker is not alive
  // though its Pod is still Ready (nothing restarts it; the lab has no kubelet).
  const report = await labStatus(lab, (r) => {
    const demo = r.services.find((s) => s.service === 'default/demo');
    return JSON.stringify(demo?.announcedBy.map((a) => a.node)) === JSON.stringify([now]) && r.speakers.some((s) => s.node === old && !s.alive && s.kubernetes);
  });
  assert.deepEqual(report.services.find((s) => s.service === 'default/demo')!.announcedBy, [{ node: now, detail: 'announcing layer2 on eth0' }]);
  const human = await metallbTs(['status', '--kubeconfig', join(lab.dir, 'kubeconfig')]);
  assert.equal(human.code, 0, human.stderr);
  const demoRow = human.stdout.split('\n').find((l) => l.includes('default/demo'));
  assert.match(demoRow ?? '', new RegExp(`│\\s*${now} \\(eth0\\)\\s*│$`), human.stdout);
  assert.doesNotMatch(demoRow ?? '', new RegExp(old), human.stdout);
  assert.match(human.stdout, new RegExp(`not alive \\(1\\): ${old}\\n`), human.stdout);
  // And what the annotation says is true on the wire: the client reaches the new owner.
  assert.equal(await waitCurl(lab, v4!, 80, now), now);

  // Restart it (as a DaemonSet would): the hashring is revertive, and the carrier follows.
  const restarted = await lab.cli('restart-speaker', old);
  assert.equal(restarted.code, 0, restarted.output);
  assert.equal(await waitOwner(lab, v4!, old), old);
  await waitFor(`describe svc demo to name ${old} again, and no longer ${now}`, 120_000, async () => {
    described = await lab.cluster.kubectl(['describe', 'service', 'demo', '-n', 'default']);
    return described.includes(`${key(old)}: announcing layer2 on eth0`) && !described.includes(key(now));
  }, 250).catch((err: Error) => { throw new Error(`${err.message}\n${described}`); });
});

test('validate --cluster predicts exactly what the controller then does: add a pool, change protocol, remove an in-use pool, shrink a range; status shows a refused config\'s blockers', { timeout: 600_000 }, async (t) => {
  const lab = await theLab.get(t);
  if (!lab) return;
  const original = await configText(lab);
  assert.match(original, /- 192\.0\.2\.100-192\.0\.2\.199\n/);
  // A Service that waits for a pool the config does not have yet.
  await applyService(lab, 'pinned', { port: 8090, annotations: { 'metallb.universe.tf/address-pool': 'extra' } });
  await waitFor('the controller to report default/pinned AllocationFailed', 60_000, async () =>
    (await lab.cluster.kubectl(['get', 'events', '-n', 'default', '--field-selector', 'involvedObject.name=pinned,reason=AllocationFailed', '-o', 'name'])).trim() !== '', 250);
  const evidence = await controllerEvidence(lab);
  const withExtra = `${original}- name: extra\n  protocol: layer2\n  auto-assign: false\n  addresses:\n  - 192.0.2.240-192.0.2.247\n`;
  const extraBgp = withExtra.replace(/(- name: extra\n {2}protocol: )layer2/, '$1bgp');
  const figures: string[] = [];
  const edit = async (what: string, text: string, expected: { code: number; fates: Record<string, string>; blockers?: string[] }): Promise<Prediction> => {
    const p = await predictEdit(lab, evidence, text);
    figures.push(`${what}: exit ${p.code}, ${p.decision.kind}${p.decision.blockers?.length ? ` (blockers ${p.decision.blockers.join(', ')})` : ''}, ${p.services.map((s) => `${s.service} ${s.fate}`).join(', ')}`);
    assert.equal(p.code, expected.code, `${what}: ${JSON.stringify(p)}`);
    for (const [svc, fate] of Object.entries(expected.fates)) assert.equal(p.services.find((s) => s.service === svc)?.fate, fate, `${what}: ${svc}`);
    if (expected.blockers) assert.deepEqual(p.decision.blockers, expected.blockers, what);
    return p;
  };
  try {
    // Add a pool: the waiting Service gains an address from it, demo keeps its own (exit 3).
    const added = await edit('add a pool', withExtra, { code: 3, fates: { 'default/pinned': 'gain', 'default/demo': 'keep' } });
    assert.deepEqual(added.services.find((s) => s.service === 'default/pinned')!.after, ['192.0.2.240']);
    // Change protocol: nothing moves (exit 0); the controller applies it.
    await edit('change protocol', extraBgp, { code: 0, fates: { 'default/pinned': 'keep', 'default/demo': 'keep' } });
    // Remove an in-use pool: refused, blocked by the Service in it (exit 4), and status names it.
    await edit('remove an in-use pool', original, { code: 4, fates: { 'default/pinned': 'keep', 'default/demo': 'keep' }, blockers: ['default/pinned'] });
    await evidence.restore(extraBgp);
    // Shrink a range out from under demo's address: refused (exit 4), status names demo; around it: applies (exit 0).
    await edit('shrink a range under an address', extraBgp.replace('192.0.2.100-192.0.2.199', '192.0.2.101-192.0.2.199'),
      { code: 4, fates: { 'default/pinned': 'keep', 'default/demo': 'keep' }, blockers: ['default/demo'] });
    await evidence.restore(extraBgp);
    await edit('shrink a range around the addresses', extraBgp.replace('192.0.2.100-192.0.2.199', '192.0.2.100-192.0.2.149'),
      { code: 0, fates: { 'default/pinned': 'keep', 'default/demo': 'keep' } });
    for (const f of figures) t.diagnostic(f);
  } finally {
    // Back to the lab's own config for the next test: pinned goes first (its address is in no pool of it).
    await lab.cluster.kubectl(['delete', 'service', 'pinned', '-n', 'default', '--ignore-not-found']);
    await evidence.restore(original);
  }
  assert.deepEqual(Object.keys(await lbStatuses(lab)), ['default/demo']);
  await waitOwner(lab, (await serviceIps(lab, 'demo', 2))[0]!);
});

async function configText(lab: Lab): Promise<string> {
  const cm = JSON.parse(await lab.cluster.kubectl(['get', 'configmap', 'config', '-n', 'metallb-system', '-o', 'json'])) as { data: { config: string } };
  return cm.data.config;
}

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
