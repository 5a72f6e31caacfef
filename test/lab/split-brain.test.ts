// Issue 11 end to end: split brain made loud. In the real lab (apiserver with RBAC, the controller and three speakers
// with the DaemonSet's env, so gossip runs on 7946 with the Secret's key; namespaces on a bridge; real ARP), nftables
// in the owner's namespace drops gossip (7946, UDP and TCP) between it and the two other nodes while every node still
// reaches the client. The owner, in the minority (1 of 3), keeps the IP it owns; the two others elect a new owner:
// two nodes answer ARP for one IP. Their probes (an ARP Probe every few seconds per owned IP) find each other: a
// Warning Event `splitBrain` on the Service naming both nodes and the metric metallb_speaker_layer2_split_brain.
// The minority rule shows too: a Service created during the partition is not claimed by the isolated node.
// Then the partition heals and the lab settles (one owner, metric gone). No timing is asserted.
// Own lab dir and netns prefix (METALLB_TS_SPLIT_BRAIN_TEST_PREFIX, default `mlsb-`). Needs root, BIRD and nft.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePrerequisite } from '../../src/testing/cluster/test-cluster.js';
import { runOk, waitFor } from '../../src/testing/cluster/processes.js';
import { topologyNames } from '../../src/lab/topology.js';
import { announcements, curlOnce, ownersOf } from '../../src/lab/observe.js';
import { speakerMetrics } from '../../src/lab/speakers.js';
import { labCli, labKubectl, waitSettled, type Lab } from '../../src/testing/failover/lab-faults.js';

const PREFIX = process.env['METALLB_TS_SPLIT_BRAIN_TEST_PREFIX'] ?? 'mlsb-';
const VIP = '192.0.2.100';
const NEW_VIP = '192.0.2.170';
const TABLE = 'metallb_ts_split_brain';
/** Gossip dropped both ways in the owner's namespace; ARP, the client's TCP and the apiserver pass. */
const PARTITION = `table inet ${TABLE} {
  chain input { type filter hook input priority 0; policy accept; udp dport 7946 drop; tcp dport 7946 drop; udp sport 7946 drop; tcp sport 7946 drop; }
  chain output { type filter hook output priority 0; policy accept; udp dport 7946 drop; tcp dport 7946 drop; udp sport 7946 drop; tcp sport 7946 drop; }
}
`;
const NEW_SERVICE = {
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'split-brain-new', namespace: 'default' },
  spec: {
    type: 'LoadBalancer', loadBalancerIP: NEW_VIP, ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'], selector: { app: 'demo' },
    ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
  },
};

function splitBrainGauge(metrics: string, ip: string, node: string): number {
  const m = new RegExp(`^metallb_speaker_layer2_split_brain\\{ip="${ip.replace(/\./g, '\\.')}",node="${node}"\\}\\s+(\\S+)`, 'm').exec(metrics);
  return m ? Number(m[1]) : 0;
}

interface EventItem { reason?: string; type?: string; message?: string; involvedObject?: { kind?: string; name?: string }; source?: { host?: string } }

test('split brain: gossip blocked between the owner and the others while all reach the client → Event + metric, minority claims nothing new', { timeout: 600_000 }, async (t) => {
  if (!requirePrerequisite(t, process.getuid?.() === 0, 'the lab needs root (ip netns)')) return;
  const hasTools = spawnSync('sh', ['-c', 'command -v bird && command -v birdc && command -v nft']).status === 0;
  if (!requirePrerequisite(t, hasTools, 'the split-brain lab needs BIRD 2 and nftables (apt-get install bird2 nftables; scripts/setup.sh)')) return;
  const lab: Lab = { dir: join(tmpdir(), `metallb-ts-split-brain-e2e-${PREFIX}`), prefix: PREFIX };
  const cleanup = await labCli(lab, ['down']);
  assert.equal(cleanup.code, 0, cleanup.output);
  const t0 = Date.now();
  try {
    const upResult = await labCli(lab, ['up']);
    assert.equal(upResult.code, 0, upResult.output);
    const { nodes, client } = topologyNames(PREFIX);
    const owner = await waitSettled(nodes, client, VIP, 120_000);
    const others = nodes.filter((n) => n !== owner);

    await runOk('ip', ['netns', 'exec', owner.netns, 'nft', '-f', '-'], { input: PARTITION });
    // The majority elects a new owner while the isolated one keeps its IP: two owners.
    let newOwner = '';
    await waitFor(`a second owner of ${VIP} among ${others.map((n) => n.name).join(', ')} while ${owner.name} keeps it`, 60_000, async () => {
      const owners = ownersOf(await announcements(nodes), VIP);
      newOwner = owners.find((n) => n !== owner.name) ?? '';
      return owners.includes(owner.name) && newOwner !== '';
    }, 200);
    t.diagnostic(`partition: ${owner.name} isolated, ${newOwner} took ${VIP} too`);
    // Every node still reaches the client: the client is answered (by whichever owner its ARP cache names).
    assert.ok(await curlOnce(client, VIP, 80, 2) !== undefined, 'the client still reaches the VIP');

    // Both owners' probes find the other: metric on both, naming the other node by its gossip metadata.
    const newNode = nodes.find((n) => n.name === newOwner)!;
    let seen = '';
    await waitFor('the split-brain metric on both owners, each naming the other', 60_000, async () => {
      const [mNew, mOld] = await Promise.all([speakerMetrics(newNode), speakerMetrics(owner)]);
      seen = [mNew, mOld].map((m) => m.split('\n').filter((l) => l.startsWith('metallb_speaker_layer2_split_brain')).join('; ')).join(' | ');
      return splitBrainGauge(mNew, VIP, owner.name) === 1 && splitBrainGauge(mOld, VIP, newOwner) === 1;
    }, 500).catch((err: Error) => { throw new Error(`${err.message}: ${seen}`); });

    // A Warning Event on the Service naming both nodes.
    let events: EventItem[] = [];
    await waitFor('a Warning splitBrain Event on Service demo naming both nodes', 60_000, async () => {
      const out = await labKubectl(lab, ['get', 'events', '-n', 'default', '--field-selector', 'reason=splitBrain', '-o', 'json']);
      events = (JSON.parse(out) as { items: EventItem[] }).items;
      return events.some((e) => e.type === 'Warning' && e.involvedObject?.kind === 'Service' && e.involvedObject.name === 'demo'
        && e.message?.includes(VIP) === true && e.message.includes(`"${owner.name}"`) && e.message.includes(`"${newOwner}"`));
    }, 500);
    t.diagnostic(`events: ${events.map((e) => e.message).join(' / ')}`);

    // The minority rule: a Service created now is taken by the majority, not by the isolated node.
    await labKubectl(lab, ['apply', '-f', '-'], JSON.stringify(NEW_SERVICE));
    await waitFor(`the isolated ${owner.name} to skip the new Service (noQuorum) and one of the others to announce ${NEW_VIP}`, 60_000, async () => {
      const log = readFileSync(join(lab.dir, 'logs', `speaker-${owner.name}.log`), 'utf8');
      const skipped = log.split('\n').some((l) => l.includes('"serviceSkipped"') && l.includes('default/split-brain-new') && l.includes('"noQuorum"'));
      const owners = ownersOf(await announcements(nodes), NEW_VIP);
      return skipped && owners.length === 1 && owners[0] !== owner.name;
    }, 500);
    assert.deepEqual(ownersOf(await announcements([owner]), NEW_VIP), [], `${owner.name} must not announce ${NEW_VIP}`);

    // Heal: one owner again, full gossip, and the metric gone on both.
    await runOk('ip', ['netns', 'exec', owner.netns, 'nft', 'delete', 'table', 'inet', TABLE]);
    await waitSettled(nodes, client, VIP, 120_000);
    await waitFor('the split-brain metric to clear on every node', 60_000, async () => {
      const all = await Promise.all(nodes.map((n) => speakerMetrics(n)));
      return all.every((m) => !/^metallb_speaker_layer2_split_brain\{/m.test(m));
    }, 500);
    t.diagnostic(`wall time with lab up and down: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } catch (err) {
    const kept = join(tmpdir(), `metallb-ts-split-brain-e2e-${PREFIX}logs`);
    if (existsSync(join(lab.dir, 'logs'))) cpSync(join(lab.dir, 'logs'), kept, { recursive: true });
    const down = await labCli(lab, ['down']);
    t.diagnostic(`lab down after the failure: exit ${down.code}; logs copied to ${kept}`);
    throw err;
  }
  const down = await labCli(lab, ['down']);
  assert.equal(down.code, 0, down.output);
  if (existsSync(lab.dir)) rmSync(lab.dir, { recursive: true, force: true });
});
