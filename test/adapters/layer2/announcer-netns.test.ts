/**
 * The layer-2 announcer on real interfaces: the lab topology (src/lab/topology.ts: three nodes, a client, a
 * router on one bridge) under this file's own namespace prefix, an announcer process in each node namespace,
 * and the client asking with real tools (arping, ping, ndisc6, ip neigh, tcpdump). Needs root, arping,
 * ndisc6 and tcpdump. No VIP goes on a node's lo without arp_ignore=1/arp_announce=2 (the topology sets them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { requirePrerequisite } from '../../../src/testing/cluster/test-cluster.js';
import { run, runOk, waitFor } from '../../../src/testing/cluster/processes.js';
import { buildTopology, deleteNetns, topologyNames, netnsPids } from '../../../src/lab/topology.js';
import { AnnouncerProcess, Tcpdump } from '../../../src/testing/layer2-netns.js';

const PREFIX = process.env['METALLB_TS_L2_TEST_PREFIX'] ?? 'l2t-';
const names = topologyNames(PREFIX);
const [node1, node2, node3] = names.nodes as [typeof names.nodes[0], typeof names.nodes[0], typeof names.nodes[0]];
const client = names.client;
const VIP4 = '192.0.2.100';
const VIP6 = '2001:db8::100';

const inNs = (ns: string, cmd: string, ...args: string[]) => run('ip', ['netns', 'exec', ns, cmd, ...args], { timeoutMs: 30_000 });

/** The client's neighbour entry for ip: `{ mac, state }`, or undefined. */
async function neighbour(ip: string): Promise<{ mac: string; state: string } | undefined> {
  const family = ip.includes(':') ? '-6' : '-4';
  const out = (await runOk('ip', ['-n', client, family, 'neigh', 'show', ip, 'dev', 'eth0'])).trim();
  const m = /lladdr (\S+) .*?([A-Z]+)\s*$/.exec(out);
  return m ? { mac: m[1]!, state: m[2]! } : undefined;
}

async function maddr(ns: string): Promise<string> {
  return runOk('ip', ['-n', ns, '-6', 'maddr', 'show', 'dev', 'eth0']);
}

test('layer-2 announcer on real frames in network namespaces', { timeout: 240_000 }, async (t) => {
  if (!requirePrerequisite(t, process.getuid?.() === 0, 'needs root for network namespaces')) return;
  const missing = ['arping', 'ndisc6', 'tcpdump', 'ping'].filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
  if (!requirePrerequisite(t, missing.length === 0, `missing tools: ${missing.join(', ')} (apt-get install arping ndisc6 tcpdump iputils-ping)`)) return;

  for (const ns of [...names.all].reverse()) await deleteNetns(ns); // leftovers of an interrupted run
  const announcers: AnnouncerProcess[] = [];
  const dumps: Tcpdump[] = [];
  try {
    await buildTopology(PREFIX, () => {});
    const [a1, a2, a3] = await Promise.all([node1, node2, node3].map((n) => AnnouncerProcess.start(n.netns)));
    announcers.push(a1!, a2!, a3!);

    await t.test('nothing answers for a VIP nobody owns', async () => {
      const r = await inNs(client, 'arping', '-c', '2', '-w', '2', VIP4);
      assert.match(r.stdout, /2 packets transmitted, 0 packets received/);
    });

    await a2!.setBalancer('default/demo', [VIP4, VIP6]);
    // The owner also has the VIPs on lo (as kube-proxy IPVS does), so pings are answered.
    await runOk('ip', ['-n', node2.netns, 'addr', 'add', `${VIP4}/32`, 'dev', 'lo']);
    await runOk('ip', ['-n', node2.netns, 'addr', 'add', `${VIP6}/128`, 'dev', 'lo']);

    await t.test('arping from the client gets the owner\'s MAC, and only the owner answers', async () => {
      const r = await inNs(client, 'arping', '-c', '3', '-w', '5', VIP4);
      const macs = new Set([...r.stdout.matchAll(/bytes from (\S+) \(/g)].map((m) => m[1]));
      assert.deepEqual([...macs], [node2.mac], r.stdout);
      assert.match(r.stdout, /3 packets transmitted, 3 packets received/);
      // The responder host reports its counters at most every 50 ms.
      await waitFor('the layer2 counters', 10_000, async () => {
        const metrics = await a2!.metrics();
        return new RegExp(`metallb_layer2_requests_received\\{ip="${VIP4}"\\} [3-9]`).test(metrics) &&
          new RegExp(`metallb_layer2_responses_sent\\{ip="${VIP4}"\\} [3-9]`).test(metrics) &&
          new RegExp(`metallb_layer2_gratuitous_sent\\{ip="${VIP4}"\\} \\d`).test(metrics);
      });
      for (const other of [a1!, a3!]) assert.equal((await other.stats()).replies, 0);
    });

    await t.test('the client\'s IPv6 neighbour entry holds the owner\'s MAC after a ping; ndisc6 accepts our NA', async () => {
      const p = await inNs(client, 'ping', '-6', '-c', '1', '-W', '5', VIP6);
      assert.equal(p.code, 0, p.stdout + p.stderr);
      assert.equal((await neighbour(VIP6))?.mac, node2.mac);
      const n = await inNs(client, 'ndisc6', '-1', '-r', '3', VIP6, 'eth0');
      assert.match(n.stdout, new RegExp(`Target link-layer address: ${node2.mac}`, 'i'), n.stdout + n.stderr);
      await waitFor('the IPv6 response counter', 10_000, async () => new RegExp(`metallb_layer2_responses_sent\\{ip="${VIP6}"\\} [1-9]`).test(await a2!.metrics()));
    });

    await t.test('the owner joins the solicited-node group of an owned IPv6 address and leaves it on withdraw', async () => {
      assert.match(await maddr(node2.netns), /ff02::1:ff00:100\b/);
      assert.doesNotMatch(await maddr(node3.netns), /ff02::1:ff00:100\b/);
      await a2!.setBalancer('default/other', ['2001:db8::1:200']);
      assert.match(await maddr(node2.netns), /ff02::1:ff01:200\b/);
      await a2!.deleteBalancer('default/other');
      assert.doesNotMatch(await maddr(node2.netns), /ff02::1:ff01:200\b/);
      assert.match(await maddr(node2.netns), /ff02::1:ff00:100\b/, 'the other owned IP keeps its group');
    });

    await t.test('gratuitous ARP (request and reply) and an unsolicited NA with Override reach the client', async () => {
      const dump = await Tcpdump.start(client, ['-i', 'eth0', '-e', '-vv', 'arp or icmp6']);
      dumps.push(dump);
      await a2!.setBalancer('default/second', ['192.0.2.101', '2001:db8::101']);
      const count = (re: RegExp) => (dump.output.match(re) ?? []).length;
      await waitFor('five gratuitous bursts (ARP request, ARP reply, NA)', 20_000, () =>
        count(/Request who-has 192\.0\.2\.101 (\(\S+\) )?tell 192\.0\.2\.101/g) >= 5 && count(/Reply 192\.0\.2\.101 is-at/g) >= 5 &&
        count(/neighbor advertisement, length 32, tgt is 2001:db8::101/g) >= 5, 200);
      const out = await dump.stop();
      const lines = out.split('\n');
      const req = lines.filter((l) => /Request who-has 192\.0\.2\.101 (\(\S+\) )?tell 192\.0\.2\.101/.test(l));
      const rep = lines.filter((l) => /Reply 192\.0\.2\.101 is-at 02:00:00:00:00:12/.test(l));
      assert.ok(req.every((l) => l.includes(`${node2.mac} > ff:ff:ff:ff:ff:ff`)), out);
      assert.ok(rep.length >= 5, out);
      const na = out.split(/\n(?=\d\d:)/).filter((p) => /neighbor advertisement, length 32, tgt is 2001:db8::101/.test(p));
      assert.ok(na.length >= 5, out);
      for (const p of na) {
        assert.match(p, /2001:db8::101 > ff02::1/);
        assert.match(p, /Flags \[override\]/);
        assert.match(p, /icmp6 sum ok/);
        assert.match(p, new RegExp(`link-address option \\(2\\), length 8 \\(1\\): ${node2.mac}`), 'Target Link-Layer Address option');
      }
      await a2!.deleteBalancer('default/second');
    });

    await t.test('failover: a client holding the old owner\'s MAC as REACHABLE switches to the new owner for IPv4 and IPv6', async () => {
      for (const ip of [VIP4, VIP6]) {
        const p = await inNs(client, 'ping', '-c', '1', '-W', '5', ip);
        assert.equal(p.code, 0, p.stdout + p.stderr);
        const n = await neighbour(ip);
        assert.equal(n?.mac, node2.mac);
        assert.equal(n?.state, 'REACHABLE', `${ip}: ${JSON.stringify(n)}`);
      }
      // node2 withdraws, node3 takes over (the speaker's order: the old owner stops, the new one announces).
      await a2!.deleteBalancer('default/demo');
      await runOk('ip', ['-n', node2.netns, 'addr', 'del', `${VIP4}/32`, 'dev', 'lo']);
      await runOk('ip', ['-n', node2.netns, 'addr', 'del', `${VIP6}/128`, 'dev', 'lo']);
      await runOk('ip', ['-n', node3.netns, 'addr', 'add', `${VIP4}/32`, 'dev', 'lo']);
      await runOk('ip', ['-n', node3.netns, 'addr', 'add', `${VIP6}/128`, 'dev', 'lo']);
      const t0 = performance.now();
      await a3!.setBalancer('default/demo', [VIP4, VIP6]);
      const switched: Record<string, number> = {};
      await waitFor('the client\'s neighbour entries to move to node3', 10_000, async () => {
        for (const ip of [VIP4, VIP6]) {
          if (switched[ip] === undefined && (await neighbour(ip))?.mac === node3.mac) switched[ip] = performance.now() - t0;
        }
        return Object.keys(switched).length === 2;
      }, 5);
      console.log(`failover: client neighbour entries moved after ${JSON.stringify(Object.fromEntries(Object.entries(switched).map(([k, v]) => [k, `${v.toFixed(1)} ms`])))}`);
      for (const ip of [VIP4, VIP6]) {
        const p = await inNs(client, 'ping', '-c', '1', '-W', '5', ip);
        assert.equal(p.code, 0, `${ip} after failover: ${p.stdout}${p.stderr}`);
      }
      assert.doesNotMatch(await maddr(node2.netns), /ff02::1:ff00:100\b/);
      assert.match(await maddr(node3.netns), /ff02::1:ff00:100\b/);
      const r = await inNs(client, 'arping', '-c', '2', '-w', '5', VIP4);
      assert.deepEqual([...new Set([...r.stdout.matchAll(/bytes from (\S+) \(/g)].map((m) => m[1]))], [node3.mac], r.stdout);
    });

    await t.test('a frozen announcer process (SIGSTOP): its responder host stops answering; resumed, it answers again (issue 11)', async () => {
      const macsFor = async (ip: string): Promise<string[]> => {
        const r = ip.includes(':') ? await inNs(client, 'ndisc6', '-m', '-n', '-r', '2', '-w', '1500', ip, 'eth0')
          : await inNs(client, 'arping', '-c', '2', '-w', '3', ip);
        const re = ip.includes(':') ? /Target link-layer address: (\S+)/gi : /bytes from (\S+) \(/g;
        return [...new Set([...r.stdout.matchAll(re)].map((m) => m[1]!.toLowerCase()))];
      };
      assert.deepEqual(await macsFor(VIP4), [node3.mac]);
      a3!.signal('SIGSTOP');
      try {
        // Nobody else owns the VIPs here: the frozen node's host falls silent (after ~1 s; generous deadline).
        let last: string[] = [];
        await waitFor('the frozen node\'s responder host to stop answering for both VIPs', 30_000, async () => {
          last = [...await macsFor(VIP4), ...await macsFor(VIP6)];
          return !last.includes(node3.mac);
        }, 100).catch((err: Error) => { throw new Error(`${err.message}; last answers from ${last.join(', ')}`); });
      } finally {
        a3!.signal('SIGCONT');
      }
      // Resumed: the announcer reads the host's `muted`, resends what it owns (and bursts); both VIPs answered again.
      await waitFor('answers from node3 again for both VIPs', 30_000, async () =>
        (await macsFor(VIP4)).join() === node3.mac && (await macsFor(VIP6)).join() === node3.mac, 100);
      assert.match(await a3!.metrics(), /^metallb_speaker_layer2_responder_muted_total 1$/m);
      assert.match(a3!.stderr, /"event":"responderMuted"/);
      assert.match(a3!.stderr, /"event":"responderUnmuted"/);
    });

    await t.test('interfaces come and go without a restart; one going down under a capture does not stop the others', async () => {
      await a1!.stop();
      const a = await AnnouncerProcess.start(node1.netns, ['eth0', 'l2a']);
      announcers.push(a);
      await a.setBalancer('default/third', ['192.0.2.150']);
      await runOk('ip', ['-n', node1.netns, 'link', 'add', 'l2a', 'type', 'veth', 'peer', 'name', 'l2b']);
      await runOk('ip', ['-n', node1.netns, 'link', 'set', 'l2b', 'up']);
      await runOk('ip', ['-n', node1.netns, 'link', 'set', 'l2a', 'up']);
      await waitFor('a responder on the new interface (ip monitor or the 10 s rescan)', 30_000, async () =>
        (await a.stats()).interfaces.map((i) => i.name).sort().join() === 'eth0,l2a');
      // Past the announcement's 5 s of bursts: from here on only a host restart's replay sends gratuitous frames.
      await new Promise((r) => setTimeout(r, 5500));
      const gratuitous = async () => Number(/^metallb_layer2_gratuitous_sent\{ip="192\.0\.2\.150"\} (\d+)/m.exec(await a.metrics())?.[1] ?? 0);
      const before = await gratuitous();
      const startsBefore = (await a.stats()).hostStarts;
      await runOk('ip', ['-n', node1.netns, 'link', 'del', 'l2a']);
      await waitFor('the responder on l2a to go', 30_000, async () => (await a.stats()).interfaces.map((i) => i.name).join() === 'eth0');
      if ((await a.stats()).hostStarts > startsBefore) {
        // The host died with the interface: the restarted one bursts for what it owns (bursts posted meanwhile were lost).
        await waitFor('a gratuitous burst for the owned IP from the restarted responder host', 30_000, async () => (await gratuitous()) > before);
      }
      await waitFor('answers on eth0 after the interface went away', 30_000, async () =>
        (await inNs(client, 'arping', '-c', '1', '-w', '2', '192.0.2.150')).stdout.includes(`bytes from ${node1.mac}`));
      const s = await a.stats();
      console.log(`responder host starts after an interface was deleted under a capture: ${s.hostStarts}`);
      assert.equal(a.exited, false);
    });

    for (const a of announcers.filter((x) => x !== a1)) assert.equal(a.exited, false, `announcer in ${a.netns} crashed: ${a.stderr.slice(-2000)}`);
  } finally {
    for (const d of dumps) await d.stop().catch(() => {});
    await Promise.all(announcers.map((a) => a.stop().catch(() => {})));
    for (const ns of [...names.all].reverse()) {
      for (const pid of await netnsPids(ns)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      await deleteNetns(ns);
    }
  }
});
