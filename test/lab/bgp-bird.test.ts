// The native BGP speaker end to end against BIRD 2 (issue 10): `lab up --config examples/lab-bgp.yaml` runs the
// real apiserver, the controller and three speakers with the manifests' ServiceAccount tokens, each node in its own
// network namespace peering with the BIRD router over IPv4 and IPv6, both sessions signed with TCP-MD5. Checked from
// the router's side: BIRD's table has each prefix from the three nodes with their next hops, AS path and community,
// the router's kernel a three-way ECMP route, the external host behind the router reaches the demo over both
// families; a wrong password gives no session, a log line and a Warning Event; 100 Services added and removed move
// only their prefixes (BIRD's import counters, no session resets) and the speakers' metallb_bgp_* series say so; a
// peer removed from the config gets a Cease, node-selectors follow the Node's labels; a speaker SIGKILLed and
// restarted keeps its paths at BIRD (graceful restart) while a client connects every 20 ms without a failure; both
// families over the IPv4 session (examples/lab-bgp-mp.yaml) with the aggregated prefixes; iBGP with LOCAL_PREF
// (examples/lab-ibgp.yaml); a speaker SIGKILLed and not restarted loses its paths after the Restart Time (15 s),
// a node whose link is cut after the hold time (9 s). One lab for the file; needs root and BIRD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXCLUDE_LB_LABEL } from '../../src/core/speaker/exclude-lb.js';
import {
  BGP_NODES as NODES, RESTART_SECONDS, bgpLab, bgpLabPrerequisites, eventually, example, hostPrefix, metricLabelSets, metricValue, sh, signedBgpConnections, stepClock, wrongIpv6Password, type ClientLoop,
  assertNoFailedConnects,
} from './bgp-lab.js';

const L = bgpLab(process.env.METALLB_TS_BGP_TEST_PREFIX ?? 'bgp-');
const birdc = (...args: string[]) => sh('birdc', ['-s', join(L.dir, 'bird.ctl'), ...args]).stdout;
const kubectl = L.kubectl;
const kernelNextHops = L.kernelNextHops;
const curlFromExt = L.curlFromExt;

/** BIRD's `show route all <prefix>`, one entry per path: the protocol (`node1v4`), next hop, AS path, communities. */
interface BirdPath { protocol: string; nextHop: string; asPath: string; communities: string; localPref: string }
function birdPaths(prefix: string): BirdPath[] {
  const out = birdc('show', 'route', 'all', prefix);
  const paths: BirdPath[] = [];
  for (const block of out.split(/\n(?=\S|\s+unicast)/).filter((b) => /unicast \[/.test(b))) {
    paths.push({
      protocol: /unicast \[(\S+)/.exec(block)?.[1] ?? '',
      nextHop: /BGP\.next_hop: (\S+)/.exec(block)?.[1] ?? '',
      asPath: /BGP\.as_path: ?(.*)/.exec(block)?.[1]?.trim() ?? '',
      communities: /BGP\.community: (.*)/.exec(block)?.[1]?.trim() ?? '',
      localPref: /BGP\.local_pref: (\S+)/.exec(block)?.[1] ?? '',
    });
  }
  return paths.sort((a, b) => a.protocol.localeCompare(b.protocol));
}

/** `Since` of every BGP protocol in BIRD: unchanged = the session was never reset. */
function sessionSince(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of birdc('show', 'protocols').split('\n')) {
    const m = /^(node\dv[46])\s+BGP\s+\S+\s+(\S+)\s+(\S+)\s+(\S+)/.exec(line);
    if (m) out[m[1]!] = `${m[2]} ${m[3]} ${m[4]}`;
  }
  return out;
}

/**
 * Same state and the same `Since` within 0.5 s: BIRD derives the printed time from a monotonic clock, so it can
 * move by a millisecond between two reads; a reset moves it by seconds (connect delay and error wait are 1 s).
 */
function assertNoReset(now: Record<string, string>, before: Record<string, string>, what: string): void {
  const ms = (v: string) => { const m = /(\d+):(\d+):(\d+\.\d+)/.exec(v); return m ? (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000 : NaN; };
  assert.deepEqual(Object.keys(now).sort(), Object.keys(before).sort(), what);
  for (const [p, v] of Object.entries(before)) {
    assert.equal(now[p]!.replace(/\S*:\S*/, ''), v.replace(/\S*:\S*/, ''), `${what}: ${p} ${v} -> ${now[p]}`);
    assert.ok(Math.abs(ms(now[p]!) - ms(v)) < 500, `${what}: ${p} ${v} -> ${now[p]}`);
  }
}

/** BIRD's per-channel import counters of one protocol: prefixes received in updates and in withdrawals. */
function importStats(protocol: string): { updates: number; withdraws: number } {
  const out = birdc('show', 'protocols', 'all', protocol);
  return { updates: Number(/Import updates:\s+(\d+)/.exec(out)?.[1] ?? NaN), withdraws: Number(/Import withdraws:\s+(\d+)/.exec(out)?.[1] ?? NaN) };
}

const established = (p: string) => new RegExp(`^${p}\\s+BGP\\s+\\S+\\s+up\\s+\\S+\\s+Established`, 'm').test(birdc('show', 'protocols'));
const routeCount = () => Number(/Total: (\d+) of \d+ routes/.exec(birdc('show', 'route', 'count'))?.[1] ?? -1);

/** lab-bgp.yaml with other peers (its pool and communities kept). */
function labConfig(peers: string): string {
  const base = readFileSync(example('lab-bgp.yaml'), 'utf8');
  const start = base.indexOf('    peers:\n');
  const end = base.indexOf('    bgp-communities:');
  return base.slice(0, start) + peers + base.slice(end);
}

const V4_PEER = '192.0.2.1:179';
const V6_PEER = '[2001:db8::1]:179';

test('native BGP against BIRD: TCP-MD5, ECMP over IPv4 and IPv6, 100 Services without resets, metrics, Cease, node-selectors, graceful restart, MP, iBGP, timers', { timeout: 1_200_000 }, async (t) => {
  if (!bgpLabPrerequisites(t, 'bird')) return;
  let loop: ClientLoop | undefined;
  const step = stepClock(t);
  try {
    await L.up('bird');
    const { v4, v6 } = L.demoIps();
    step('lab up');

    // 1. The router's view: every prefix from the three nodes, right next hops and attributes, ECMP in the kernel.
    //    Both sessions are signed (lab-bgp.yaml gives each peer a password; the lab gives BIRD the same ones).
    for (const [ip, family] of [[v4, 'ipv4'], [v6, 'ipv6']] as const) {
      const want = NODES.map((n) => ({
        protocol: `${n.name}${family === 'ipv4' ? 'v4' : 'v6'}`, nextHop: family === 'ipv4' ? n.ipv4 : n.ipv6,
        asPath: '64513', communities: '(64512,100)', localPref: '100',
      }));
      await eventually(`BIRD to have ${ip} from the three nodes`, () => (birdPaths(hostPrefix(ip)).length === 3 ? true : undefined));
      assert.deepEqual(birdPaths(hostPrefix(ip)), want);
      await eventually(`a 3-way ECMP route to ${ip} in the router's kernel`, () => (kernelNextHops(ip).length === 3 ? true : undefined));
      assert.deepEqual(kernelNextHops(ip), want.map((w) => w.nextHop).sort());
      const answer = await eventually(`the demo to answer the external host on ${ip}`, () => curlFromExt(ip));
      assert.match(answer, /^node[123]$/);
    }
    // Each family on exactly one session per router: the IPv4 session carries no IPv6 prefix and vice versa.
    assert.doesNotMatch(birdc('show', 'route', 'protocol', 'node1v4'), /2001:db8:ffff/);
    assert.doesNotMatch(birdc('show', 'route', 'protocol', 'node1v6'), /198\.51\.100/);
    // The kernel signs every BGP connection of the router (ss shows `md5` on TCP-MD5 sockets).
    const signed = signedBgpConnections(L);
    assert.equal(signed.count, 6, `six signed BGP connections:\n${signed.ss}`);
    step('ECMP, attributes, curl, TCP-MD5');

    // 2. A wrong password on the IPv6 peer: the kernel drops the unsigned-by-the-right-key SYNs, so no session;
    //    each speaker logs suspectedPasswordMismatch and records a Warning Event on its Node. Then the right one again.
    const mismatch = await wrongIpv6Password(L);
    assert.ok(mismatch.every((e) => e.includes(V6_PEER)), `only the IPv6 peer is suspected: ${mismatch.join('\n')}`);
    for (const n of NODES) assert.ok(!established(`${n.name}v6`), `${n.name}v6 has no session with a wrong password`);
    assert.ok(NODES.every((n) => established(`${n.name}v4`)), 'the IPv4 sessions are untouched');
    const warned = readFileSync(join(L.dir, 'logs', 'speaker-node1.log'), 'utf8').split('\n')
      .filter((l) => l.includes('"event":"suspectedPasswordMismatch"') && l.includes(V6_PEER));
    assert.ok(warned.length >= 1, 'node1\'s speaker logs suspectedPasswordMismatch for the IPv6 peer');
    kubectl(['apply', '-f', example('lab-bgp.yaml')]);
    await eventually('the IPv6 sessions back with the right password', () => (NODES.every((n) => established(`${n.name}v6`)) ? true : undefined));
    await eventually(`${v6} from the three nodes again`, () => (birdPaths(hostPrefix(v6)).length === 3 ? true : undefined));
    step('wrong password: no session, log line, Events');

    // 3. 100 Services added, then removed: only their prefixes move (BIRD's import counters grow by exactly 100
    //    updates and 100 withdrawals on each IPv4 session, nothing on the IPv6 ones), the sessions stay up, and the
    //    speakers' metallb_bgp_* series (v0.11's names and `peer` label) follow.
    const since = sessionSince();
    assert.equal(Object.keys(since).length, 6, JSON.stringify(since));
    const before = Object.fromEntries(Object.keys(since).map((p) => [p, importStats(p)]));
    const metrics0 = L.metrics(NODES[0]!);
    for (const name of ['metallb_bgp_session_up', 'metallb_bgp_updates_total', 'metallb_bgp_announced_prefixes_total', 'metallb_bgp_pending_prefixes_total']) {
      assert.deepEqual(metricLabelSets(metrics0, name), [`peer=${V4_PEER}`, `peer=${V6_PEER}`].sort(), name);
    }
    for (const peer of [V4_PEER, V6_PEER]) {
      assert.equal(metricValue(metrics0, 'metallb_bgp_session_up', { peer }), 1, peer);
      assert.equal(metricValue(metrics0, 'metallb_bgp_announced_prefixes_total', { peer }), 1, peer);
      assert.equal(metricValue(metrics0, 'metallb_bgp_pending_prefixes_total', { peer }), 1, peer);
    }
    const updates0 = { v4: metricValue(metrics0, 'metallb_bgp_updates_total', { peer: V4_PEER })!, v6: metricValue(metrics0, 'metallb_bgp_updates_total', { peer: V6_PEER })! };
    const services = Array.from({ length: 100 }, (_, i) => ({
      apiVersion: 'v1', kind: 'Service', metadata: { name: `many-${i}`, namespace: 'default' },
      spec: { type: 'LoadBalancer', selector: { app: 'demo' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] },
    }));
    kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: services }));
    // 101 IPv4 prefixes (100 + the demo's) and the demo's IPv6 one, each from three nodes.
    await eventually('BIRD to hold 102 prefixes x 3 paths', () => (routeCount() === 306 ? true : undefined));
    const metrics1 = await eventually('node1\'s speaker to count 101 IPv4 prefixes announced', () => {
      const m = L.metrics(NODES[0]!);
      return metricValue(m, 'metallb_bgp_announced_prefixes_total', { peer: V4_PEER }) === 101 ? m : undefined;
    });
    assert.equal(metricValue(metrics1, 'metallb_bgp_pending_prefixes_total', { peer: V4_PEER }), 101);
    assert.equal(metricValue(metrics1, 'metallb_bgp_announced_prefixes_total', { peer: V6_PEER }), 1);
    kubectl(['delete', 'service', ...services.map((s) => s.metadata.name), '-n', 'default']);
    await eventually('the 100 prefixes to leave BIRD', () => (routeCount() === 6 ? true : undefined));
    assertNoReset(sessionSince(), since, 'no session was reset by adding and removing Services');
    for (const [p, b] of Object.entries(before)) {
      const now = importStats(p);
      const moved = p.endsWith('v4') ? 100 : 0;
      assert.deepEqual(now, { updates: b.updates + moved, withdraws: b.withdraws + moved }, `${p}: only the changed prefixes were sent`);
    }
    const metrics2 = await eventually('node1\'s speaker back to 1 IPv4 prefix', () => {
      const m = L.metrics(NODES[0]!);
      return metricValue(m, 'metallb_bgp_announced_prefixes_total', { peer: V4_PEER }) === 1 ? m : undefined;
    });
    const sentV4 = metricValue(metrics2, 'metallb_bgp_updates_total', { peer: V4_PEER })! - updates0.v4;
    t.diagnostic(`100 Services added and removed: ${sentV4} UPDATE messages to the IPv4 peer for 200 prefix changes`);
    assert.ok(sentV4 >= 2 && sentV4 <= 200, `UPDATEs for 100 announcements and 100 withdrawals: ${sentV4}`);
    assert.equal(metricValue(metrics2, 'metallb_bgp_updates_total', { peer: V6_PEER }), updates0.v6, 'nothing sent to the IPv6 peer');
    step('100 Services added and removed');

    // 4. The IPv6 peer removed and the IPv4 peer limited to nodes labelled bgp-peer=yes (node1, node2):
    //    the removed and de-selected sessions get a Cease (BIRD: "Received: Peer de-configured").
    kubectl(['label', 'node', 'node1', 'node2', 'bgp-peer=yes']);
    kubectl(['apply', '-f', '-'], labConfig([
      '    peers:', '    - peer-address: 192.0.2.1', '      peer-asn: 64512', '      my-asn: 64513', '      hold-time: 9s',
      '      password: lab-md5-v4', '      node-selectors:', '      - match-labels:', '          bgp-peer: "yes"', '',
    ].join('\n')));
    for (const p of ['node1v6', 'node2v6', 'node3v6', 'node3v4']) {
      await eventually(`${p} to end with a Cease`, () => (/Received: Peer de-configured/.test(birdc('show', 'protocols', 'all', p)) ? true : undefined));
    }
    await eventually('the IPv4 route to go 2-way', () => (kernelNextHops(v4).join() === '192.0.2.11,192.0.2.12' ? true : undefined));
    assertNoReset({ node1v4: sessionSince().node1v4! }, { node1v4: since.node1v4! }, 'node1\'s IPv4 session untouched by the other peer\'s removal');
    await eventually('the IPv6 prefix to leave BIRD', () => (birdPaths(hostPrefix(v6)).length === 0 ? true : undefined));
    const removed = L.metrics(NODES[0]!);
    assert.equal(metricValue(removed, 'metallb_bgp_session_up', { peer: V6_PEER }), undefined, 'a removed peer\'s series are gone');

    // 5. node3 labelled: its Node's labels are re-read and its session comes back.
    kubectl(['label', 'node', 'node3', 'bgp-peer=yes']);
    await eventually('node3 to announce again after its label', () => (kernelNextHops(v4).length === 3 ? true : undefined));
    step('Cease, node-selectors');

    // 5b. --exclude-lb (the lab's speakers run with it): node2 labelled exclude-from-external-load-balancers
    //     withdraws its path, as MetalLB >= 0.14 does; its session stays up. The label removed: the path is back.
    kubectl(['label', 'node', 'node2', `${EXCLUDE_LB_LABEL}=`]);
    await eventually('node2\'s path to leave BIRD once node2 is excluded', () => (birdPaths(hostPrefix(v4)).map((p) => p.protocol).join() === 'node1v4,node3v4' ? true : undefined));
    await eventually('the IPv4 route without node2', () => (kernelNextHops(v4).join() === '192.0.2.11,192.0.2.13' ? true : undefined));
    assert.ok(established('node2v4'), 'excluding a node withdraws its routes, not its session');
    kubectl(['label', 'node', 'node2', `${EXCLUDE_LB_LABEL}-`]);
    await eventually('node2\'s path back once the label is gone', () => (kernelNextHops(v4).length === 3 ? true : undefined));
    step('exclude-from-external-load-balancers');

    // 6. Graceful restart: the IPv4 speaker on node1 SIGKILLed and restarted; BIRD keeps its path (stale) until
    //    the new speaker's End-of-RIB, and a client connecting every 20 ms sees no failure.
    loop = L.clientLoop(v4);
    await eventually('the client loop to get answers', () => (loop!.ok() > 10 ? true : undefined));
    process.kill(L.speakerPid('node1'), 'SIGKILL');
    await eventually('BIRD to see node1v4 go down', () => (!established('node1v4') ? true : undefined));
    const during = birdPaths(hostPrefix(v4)).map((p) => p.protocol);
    assert.deepEqual(during, ['node1v4', 'node2v4', 'node3v4'], 'node1\'s path kept (stale) after the speaker died');
    assert.equal(kernelNextHops(v4).length, 3, 'the kernel keeps the 3-way route');
    const restarted = await L.lab('restart-speaker', 'node1');
    assert.equal(restarted.code, 0, restarted.output);
    await eventually('node1v4 Established again', () => (established('node1v4') ? true : undefined));
    await eventually('node1\'s path fresh again', () => (birdPaths(hostPrefix(v4)).length === 3 && !/stale/i.test(birdc('show', 'route', 'all', hostPrefix(v4))) ? true : undefined));
    await assertNoFailedConnects(t, loop);
    step('graceful restart');

    // 7. Both families over the IPv4 session (lab-bgp-mp.yaml; the lab activates IPv6 on BIRD's IPv4 sessions):
    //    the IPv6 prefix arrives over node*v4 with each node's global IPv6 address as next hop (MP_REACH_NLRI),
    //    and the second advertisement's aggregates 198.51.100.0/24 and 2001:db8:ffff::/64 from every node.
    const mp = await L.lab('config', example('lab-bgp-mp.yaml'));
    assert.equal(mp.code, 0, mp.output);
    const withHops = (family: 4 | 6, communities: string): BirdPath[] => NODES.map((n) => ({
      protocol: `${n.name}v4`, nextHop: family === 4 ? n.ipv4 : n.ipv6, asPath: '64513', communities, localPref: '100',
    }));
    for (const [prefix, family, communities] of [
      [hostPrefix(v4), 4, '(64512,100)'], [hostPrefix(v6), 6, '(64512,100)'], ['198.51.100.0/24', 4, ''], ['2001:db8:ffff::/64', 6, ''],
    ] as const) {
      const want = withHops(family, communities);
      await eventually(`${prefix} over the three IPv4 sessions`, () => (JSON.stringify(birdPaths(prefix)) === JSON.stringify(want) ? true : undefined))
        .catch((err: Error) => { throw new Error(`${err.message}; BIRD has ${JSON.stringify(birdPaths(prefix))}`); });
    }
    await eventually(`a 3-way IPv6 ECMP route to ${v6} through the nodes`, () => (kernelNextHops(v6).join() === NODES.map((n) => n.ipv6).join() ? true : undefined));
    assert.match(await eventually(`the demo to answer on ${v6} (IPv6 learned over IPv4)`, () => curlFromExt(v6)), /^node[123]$/);
    step('both families over IPv4, aggregation');

    // 8. iBGP (lab-ibgp.yaml; the router in AS 64512 too, next hops resolved directly): LOCAL_PREF 150 from the
    //    advertisement, an empty AS path, ECMP and curl as before.
    const ibgp = await L.lab('config', example('lab-ibgp.yaml'));
    assert.equal(ibgp.code, 0, ibgp.output);
    for (const [ip, v] of [[v4, 'v4'], [v6, 'v6']] as const) {
      const want = NODES.map((n) => ({ protocol: `${n.name}${v}`, nextHop: v === 'v4' ? n.ipv4 : n.ipv6, asPath: '', communities: '(64512,100)', localPref: '150' }));
      await eventually(`${ip} over iBGP with local_pref 150`, () => (JSON.stringify(birdPaths(hostPrefix(ip))) === JSON.stringify(want) ? true : undefined))
        .catch((err: Error) => { throw new Error(`${err.message}; BIRD has ${JSON.stringify(birdPaths(hostPrefix(ip)))}`); });
      await eventually(`a 3-way ECMP route to ${ip} from iBGP`, () => (kernelNextHops(ip).length === 3 ? true : undefined));
      assert.match(await eventually(`the demo to answer on ${ip} over iBGP`, () => curlFromExt(ip)), /^node[123]$/);
    }
    step('iBGP, LOCAL_PREF');

    // 9. Timers. node1's speaker SIGKILLed and not restarted: BIRD keeps its path as stale for the Restart Time the
    //    speaker advertised (15 s here), then drops it. The lower bound is the behaviour (the router waited), not a
    //    speed: we see the session down after it went down, so the wait we measure is at most the real one.
    process.kill(L.speakerPid('node1'), 'SIGKILL');
    await eventually('BIRD to see node1v4 go down', () => (!established('node1v4') ? true : undefined));
    const downAt = Date.now();
    assert.ok(birdPaths(hostPrefix(v4)).some((p) => p.protocol === 'node1v4'), 'node1\'s path is kept (stale) at first');
    await eventually('node1\'s path to leave BIRD after the Restart Time', () => (birdPaths(hostPrefix(v4)).every((p) => p.protocol !== 'node1v4') ? true : undefined));
    const kept = (Date.now() - downAt) / 1000;
    t.diagnostic(`stale path kept ${kept.toFixed(1)} s after the session went down (Restart Time ${RESTART_SECONDS} s)`);
    assert.ok(kept >= RESTART_SECONDS - 5, `the stale path stayed only ${kept.toFixed(1)} s, less than the Restart Time`);
    await eventually('the IPv4 route without node1', () => (kernelNextHops(v4).join() === '192.0.2.12,192.0.2.13' ? true : undefined));
    //    node2's link cut: no TCP close reaches BIRD; its hold timer (9 s) expires and the paths leave.
    sh('ip', ['-n', `${L.prefix}node2`, 'link', 'set', 'eth0', 'down']);
    await eventually('BIRD\'s hold timer for node2v4 to expire', () => (/Hold timer expired/.test(birdc('show', 'protocols', 'all', 'node2v4')) ? true : undefined));
    await eventually('node2\'s paths to leave BIRD', () => (birdPaths(hostPrefix(v4)).every((p) => p.protocol !== 'node2v4') ? true : undefined));
    assert.deepEqual(kernelNextHops(v4), [], 'one path left: a plain route, no ECMP');
    assert.match(sh('ip', ['-n', `${L.prefix}router`, 'route', 'show', v4]).stdout, /via 192\.0\.2\.13 /);
    assert.match(await eventually(`the demo to answer on ${v4} through node3 only`, () => curlFromExt(v4)), /^node[123]$/);
    step('Restart Time, hold time');
  } finally {
    loop?.stop();
    await L.down();
  }
});
