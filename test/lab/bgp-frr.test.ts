// The native BGP speaker end to end against FRR 8 (issue 10): `lab up --config examples/lab-bgp.yaml --router frr`
// runs the real apiserver, the controller and three speakers (the manifests' ServiceAccount tokens) with zebra and
// bgpd in the router namespace; both sessions are signed with TCP-MD5. Checked from FRR's side: each prefix from the
// three nodes (IPv4 and IPv6), with the nodes as next hops, AS path 64513 and the community, all multipath; a
// three-way ECMP route in the router's kernel (through zebra); the external host reaches the demo through the router;
// a wrong password gives no session and a Warning Event; a speaker SIGKILLed and restarted keeps its paths (stale)
// until its End-of-RIB while a client connects every 20 ms without a failure; a peer removed from the config gets a
// Cease; both families over the IPv4 session with the aggregates (lab-bgp-mp.yaml) and iBGP with LOCAL_PREF
// (lab-ibgp.yaml). One lab for the file; needs root, BIRD (the lab's prerequisite) and FRR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BGP_NODES as NODES, bgpLab, bgpLabPrerequisites, eventually, example, hostPrefix, sh, signedBgpConnections, stepClock, wrongIpv6Password, type ClientLoop,
  assertNoFailedConnects,
} from './bgp-lab.js';

const L = bgpLab(process.env.METALLB_TS_BGP_FRR_TEST_PREFIX ?? 'bgf-');
const vtysh = (...commands: string[]) => sh('vtysh', ['--vty_socket', join(L.dir, 'frr'), ...commands.flatMap((c) => ['-c', c])]).stdout;

interface FrrPath { nextHop: string; asPath: string; community: string; localPref: number | undefined; multipath: boolean; stale: boolean }
/** FRR's paths for one prefix (`show bgp <afi> unicast <prefix> json`), sorted by next hop. */
function frrPaths(prefix: string): FrrPath[] {
  const afi = prefix.includes(':') ? 'ipv6' : 'ipv4';
  let parsed: { paths?: Array<{ nexthops?: { ip?: string }[]; aspath?: { string?: string }; community?: { string?: string }; locPrf?: number; multipath?: boolean; bestpath?: unknown; stale?: boolean }> };
  try { parsed = JSON.parse(vtysh(`show bgp ${afi} unicast ${prefix} json`)); } catch { return []; }
  return (parsed.paths ?? []).map((p) => ({
    // An empty AS path (iBGP) prints as "Local".
    nextHop: p.nexthops?.[0]?.ip ?? '', asPath: p.aspath?.string === 'Local' ? '' : p.aspath?.string ?? '', community: p.community?.string ?? '',
    localPref: p.locPrf,
    // FRR marks the best path `bestpath`, the others that share the ECMP set `multipath`.
    multipath: p.multipath === true || p.bestpath !== undefined, stale: p.stale === true,
  })).sort((a, b) => a.nextHop.localeCompare(b.nextHop));
}

type Neighbors = Record<string, { lastNotificationReason?: string; lastResetDueTo?: string; bgpState?: string }>;
function neighbors(): Neighbors | undefined {
  try { return JSON.parse(vtysh('show bgp neighbors json')) as Neighbors; } catch { return undefined; }
}
const established = (address: string) => neighbors()?.[address]?.bgpState === 'Established';

/**
 * Waits until FRR's paths for prefix are exactly `want` (sorted by next hop). A want without localPref (eBGP: we
 * send none) leaves FRR's own default for the received path out of the comparison.
 */
async function expectPaths(prefix: string, want: FrrPath[]): Promise<void> {
  const sorted = [...want].sort((a, b) => a.nextHop.localeCompare(b.nextHop));
  const got = () => frrPaths(prefix).map((p, i) => (sorted[i]?.localPref === undefined ? { ...p, localPref: undefined } : p));
  await eventually(`FRR to have ${prefix} from the three nodes`, () => (JSON.stringify(got()) === JSON.stringify(sorted) ? true : undefined))
    .catch((err: Error) => { throw new Error(`${err.message}; FRR has ${JSON.stringify(frrPaths(prefix))}`); });
}

const path = (nextHop: string, o: Partial<FrrPath> = {}): FrrPath => ({ nextHop, asPath: '64513', community: '64512:100', localPref: undefined, multipath: true, stale: false, ...o });

test('native BGP against FRR: TCP-MD5, ECMP over IPv4 and IPv6, wrong password, graceful restart, Cease, MP, iBGP', { timeout: 900_000 }, async (t) => {
  if (!bgpLabPrerequisites(t, 'frr')) return;
  let loop: ClientLoop | undefined;
  const step = stepClock(t);
  try {
    await L.up('frr');
    const { v4, v6 } = L.demoIps();
    step('lab up');
    for (const ip of [v4, v6]) {
      const want = NODES.map((n) => path(ip.includes(':') ? n.ipv6 : n.ipv4));
      await expectPaths(hostPrefix(ip), want);
      await eventually(`a 3-way ECMP route to ${ip} in the router's kernel`, () => (L.kernelNextHops(ip).length === 3 ? true : undefined));
      assert.deepEqual(L.kernelNextHops(ip), want.map((w) => w.nextHop).sort());
      assert.match(await eventually(`the demo to answer the external host on ${ip}`, () => L.curlFromExt(ip)), /^node[123]$/);
    }
    const signed = signedBgpConnections(L);
    assert.equal(signed.count, 6, `six signed BGP connections:\n${signed.ss}`);
    step('ECMP, attributes, curl, TCP-MD5');

    // A wrong password on the IPv6 peer: no session, a Warning Event per node; then the right one again.
    await wrongIpv6Password(L);
    for (const n of NODES) assert.ok(!established(n.ipv6), `${n.ipv6} has no session with a wrong password`);
    L.kubectl(['apply', '-f', example('lab-bgp.yaml')]);
    await eventually('the IPv6 sessions back with the right password', () => (NODES.every((n) => established(n.ipv6)) ? true : undefined));
    await expectPaths(hostPrefix(v6), NODES.map((n) => path(n.ipv6)));
    step('wrong password: no session, Events');

    // Graceful restart: node1's speaker SIGKILLed; FRR keeps its path as stale (and zebra the 3-way route) until the
    // restarted speaker's End-of-RIB; a client connecting every 20 ms through the router sees no failure.
    loop = L.clientLoop(v4);
    await eventually('the client loop to get answers', () => (loop!.ok() > 10 ? true : undefined));
    process.kill(L.speakerPid('node1'), 'SIGKILL');
    await eventually('FRR to see node1 go down', () => (!established(NODES[0]!.ipv4) ? true : undefined));
    const during = frrPaths(hostPrefix(v4));
    assert.deepEqual(during.map((p) => [p.nextHop, p.stale]), [['192.0.2.11', true], ['192.0.2.12', false], ['192.0.2.13', false]], 'node1\'s path kept as stale');
    assert.equal(L.kernelNextHops(v4).length, 3, 'the kernel keeps the 3-way route');
    const restarted = await L.lab('restart-speaker', 'node1');
    assert.equal(restarted.code, 0, restarted.output);
    await eventually('node1 Established again', () => (established(NODES[0]!.ipv4) ? true : undefined));
    await expectPaths(hostPrefix(v4), NODES.map((n) => path(n.ipv4)));
    await assertNoFailedConnects(t, loop);
    step('graceful restart');

    // The IPv6 peer removed from the config: FRR hears a Cease (Peer De-configured) from each node.
    const base = readFileSync(example('lab-bgp.yaml'), 'utf8');
    const withoutV6 = base.replace(/    - peer-address: 2001:db8::1\n(      .*\n)+?(?=    bgp-communities:)/, '');
    assert.notEqual(withoutV6, base);
    L.kubectl(['apply', '-f', '-'], withoutV6);
    await eventually('every IPv6 neighbour to report a received Cease', () => {
      const n = neighbors();
      return n && NODES.every((x) => n[x.ipv6]?.bgpState !== 'Established' && n[x.ipv6]?.lastNotificationReason === 'Cease/Peer De-configured'
        && n[x.ipv6]?.lastResetDueTo === 'BGP Notification received') ? true : undefined;
    });
    await eventually(`${v6} to leave FRR`, () => (frrPaths(hostPrefix(v6)).length === 0 ? true : undefined));
    assert.equal(frrPaths(hostPrefix(v4)).length, 3, 'the IPv4 paths stay');
    step('Cease');

    // Both families over the IPv4 session (the lab activates IPv6 on FRR's IPv4 neighbours): the IPv6 prefix with
    // each node's global IPv6 address as next hop, and the aggregates from every node.
    const mp = await L.lab('config', example('lab-bgp-mp.yaml'));
    assert.equal(mp.code, 0, mp.output);
    await expectPaths(hostPrefix(v6), NODES.map((n) => path(n.ipv6)));
    await expectPaths('198.51.100.0/24', NODES.map((n) => path(n.ipv4, { community: '' })));
    await expectPaths('2001:db8:ffff::/64', NODES.map((n) => path(n.ipv6, { community: '' })));
    await eventually(`a 3-way IPv6 ECMP route to ${v6} through the nodes`, () => (L.kernelNextHops(v6).join() === NODES.map((n) => n.ipv6).join() ? true : undefined));
    assert.match(await eventually(`the demo to answer on ${v6} (IPv6 learned over IPv4)`, () => L.curlFromExt(v6)), /^node[123]$/);
    step('both families over IPv4, aggregation');

    // iBGP: LOCAL_PREF 150 in FRR's table, an empty AS path, multipath (maximum-paths ibgp), ECMP and curl.
    const ibgp = await L.lab('config', example('lab-ibgp.yaml'));
    assert.equal(ibgp.code, 0, ibgp.output);
    for (const ip of [v4, v6]) {
      await expectPaths(hostPrefix(ip), NODES.map((n) => path(ip.includes(':') ? n.ipv6 : n.ipv4, { asPath: '', localPref: 150 })));
      await eventually(`a 3-way ECMP route to ${ip} from iBGP`, () => (L.kernelNextHops(ip).length === 3 ? true : undefined));
      assert.match(await eventually(`the demo to answer on ${ip} over iBGP`, () => L.curlFromExt(ip)), /^node[123]$/);
    }
    step('iBGP, LOCAL_PREF');
  } finally {
    loop?.stop();
    await L.down();
  }
});
