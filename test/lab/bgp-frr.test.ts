// The native BGP speaker end to end against FRR 8 (issue 10): `lab up --config examples/lab-bgp.yaml --router frr`
// runs the real apiserver, the controller and three speakers (the manifests' ServiceAccount tokens) with zebra and
// bgpd in the router namespace. Checked from FRR's side: each prefix from the three nodes (IPv4 and IPv6), with the
// nodes as next hops, AS path 64513 and the community, all multipath; a three-way ECMP route in the router's
// kernel (through zebra); the external host reaches the demo through the router; a peer removed from the config
// gets a Cease. One lab for the file; needs root, BIRD (the lab's prerequisite) and FRR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../src/testing/cluster/binaries.js';
import { BGP_NODES as NODES, bgpLab, bgpLabPrerequisites, eventually, sh } from './bgp-lab.js';

const lab = bgpLab(process.env.METALLB_TS_BGP_FRR_TEST_PREFIX ?? 'bgf-');
const { kubectl } = lab;
const vtysh = (...commands: string[]) => sh('vtysh', ['--vty_socket', join(lab.dir, 'frr'), ...commands.flatMap((c) => ['-c', c])]).stdout;

interface FrrPath { nextHop: string; asPath: string; community: string; multipath: boolean }
/** FRR's paths for one prefix (`show bgp <afi> unicast <prefix> json`), sorted by next hop. */
function frrPaths(prefix: string): FrrPath[] {
  const afi = prefix.includes(':') ? 'ipv6' : 'ipv4';
  let parsed: { paths?: Array<{ nexthops?: { ip?: string }[]; aspath?: { string?: string }; community?: { string?: string }; multipath?: boolean; bestpath?: unknown }> };
  try { parsed = JSON.parse(vtysh(`show bgp ${afi} unicast ${prefix} json`)); } catch { return []; }
  return (parsed.paths ?? []).map((p) => ({
    nextHop: p.nexthops?.[0]?.ip ?? '', asPath: p.aspath?.string ?? '', community: p.community?.string ?? '',
    // FRR marks the best path `bestpath`, the others that share the ECMP set `multipath`.
    multipath: p.multipath === true || p.bestpath !== undefined,
  })).sort((a, b) => a.nextHop.localeCompare(b.nextHop));
}

test('native BGP against FRR: three-way ECMP over IPv4 and IPv6 with the right attributes, Cease on peer removal', { timeout: 600_000 }, async (t) => {
  if (!bgpLabPrerequisites(t, 'frr')) return;
  try {
    await lab.up('frr');
    const { v4, v6 } = lab.demoIps();
    for (const ip of [v4, v6]) {
      const prefix = ip.includes(':') ? `${ip}/128` : `${ip}/32`;
      const want = NODES.map((n) => ({ nextHop: ip.includes(':') ? n.ipv6 : n.ipv4, asPath: '64513', community: '64512:100', multipath: true }))
        .sort((a, b) => a.nextHop.localeCompare(b.nextHop));
      await eventually(`FRR to have ${prefix} from the three nodes`, () => (frrPaths(prefix).length === 3 ? true : undefined));
      assert.deepEqual(frrPaths(prefix), want);
      await eventually(`a 3-way ECMP route to ${ip} in the router's kernel`, () => (lab.kernelNextHops(ip).length === 3 ? true : undefined));
      assert.deepEqual(lab.kernelNextHops(ip), want.map((w) => w.nextHop).sort());
      assert.match(await eventually(`the demo to answer the external host on ${ip}`, () => lab.curlFromExt(ip)), /^node[123]$/);
    }
    // The IPv6 peer removed from the config: FRR hears a Cease (Peer De-configured) from each node.
    const base = readFileSync(join(repoRoot(), 'examples', 'lab-bgp.yaml'), 'utf8');
    const withoutV6 = base.replace(/    - peer-address: 2001:db8::1\n(      .*\n)+?(?=    bgp-communities:)/, '');
    assert.notEqual(withoutV6, base);
    kubectl(['apply', '-f', '-'], withoutV6);
    await eventually('every IPv6 neighbour to report a received Cease', () => {
      const out = vtysh('show bgp neighbors json');
      let n: Record<string, { lastNotificationReason?: string; lastResetDueTo?: string; bgpState?: string }>;
      try { n = JSON.parse(out); } catch { return undefined; }
      return NODES.every((x) => n[x.ipv6]?.bgpState !== 'Established' && n[x.ipv6]?.lastNotificationReason === 'Cease/Peer De-configured'
        && n[x.ipv6]?.lastResetDueTo === 'BGP Notification received') ? true : undefined;
    });
    await eventually(`${v6} to leave FRR`, () => (frrPaths(`${v6}/128`).length === 0 ? true : undefined));
    assert.equal(frrPaths(`${v4}/32`).length, 3, 'the IPv4 paths stay');
  } finally {
    await lab.down();
  }
});
