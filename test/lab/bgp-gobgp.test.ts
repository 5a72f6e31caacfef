// The native BGP speaker end to end against GoBGP 3 (issue 10): `lab up --config examples/lab-bgp.yaml --router
// gobgp` runs the real apiserver, the controller and three speakers (the manifests' ServiceAccount tokens) with
// gobgpd in the router namespace, `use-multiple-paths` on and the graceful-restart helper configured. Checked from
// GoBGP's side (gobgpd installs no kernel routes, so its RIB is the view): `gobgp global rib -a ipv4` and `-a ipv6`
// hold the demo's prefix from the three nodes, each with its node's address of the family as next hop, AS path
// 64513 and the community, the same attributes on all three; each family on its own session; graceful restart
// negotiated with End-of-RIB; a speaker SIGKILLed keeps its paths at GoBGP (stale) until it is back; the same
// speaker restarted in passive mode (--bgp-listen=[::]:179) dials nobody and GoBGP dials in, over both families.
// The lab-bgp example without its passwords (the listener sets no TCP-MD5 key; MD5 is proven with BIRD and FRR).
// One lab for the file; needs root, BIRD (the lab's prerequisite) and GoBGP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BGP_NODES, LAB_BGP_CONFIG, bgpLab, bgpLabPrerequisites, eventually, hostPrefix, sh } from './bgp-lab.js';

const lab = bgpLab(process.env.METALLB_TS_BGP_GOBGP_TEST_PREFIX ?? 'bgg-');
const gobgp = (...args: string[]) => sh('gobgp', ['--target', `unix://${join(lab.dir, 'gobgp.sock')}`, ...args]);
const gobgpJson = (...args: string[]): unknown => {
  const r = gobgp(...args, '-j');
  try { return JSON.parse(r.stdout); } catch { return undefined; }
};

/** One path of `gobgp global rib -a <afi> -j`, by the attributes GoBGP decoded. */
interface GobgpPath { neighbor: string; nextHop: string; origin: number; asPath: string; communities: string; stale: boolean }
interface RibAttr { type: number; value?: unknown; nexthop?: string; as_paths?: Array<{ asns?: number[] }>; communities?: number[] }

function ribPaths(prefix: string): GobgpPath[] {
  const afi = prefix.includes(':') ? 'ipv6' : 'ipv4';
  const rib = gobgpJson('global', 'rib', '-a', afi) as Record<string, Array<{ attrs?: RibAttr[]; stale?: boolean; 'neighbor-ip'?: string }>> | undefined;
  return (rib?.[prefix] ?? []).map((p) => {
    const attr = (type: number) => p.attrs?.find((a) => a.type === type);
    return {
      neighbor: p['neighbor-ip'] ?? '',
      // IPv4 NLRI: NEXT_HOP (type 3); IPv6: the next hop of MP_REACH_NLRI (type 14).
      nextHop: attr(3)?.nexthop ?? attr(14)?.nexthop ?? '',
      origin: Number(attr(1)?.value ?? -1),
      asPath: (attr(2)?.as_paths ?? []).flatMap((s) => s.asns ?? []).join(' '),
      communities: (attr(8)?.communities ?? []).map((c) => `${Math.floor(c / 65536)}:${c % 65536}`).join(' '),
      stale: p.stale === true,
    };
  }).sort((a, b) => a.neighbor.localeCompare(b.neighbor));
}

/** Graceful-restart state of one neighbour's families (`gobgp neighbor <addr> -j`). */
function gracefulRestart(address: string): { received: boolean; endOfRib: boolean } | undefined {
  const n = gobgpJson('neighbor', address) as { state?: { session_state?: number }; afi_safis?: Array<{ mp_graceful_restart?: { state?: { received?: boolean; end_of_rib_received?: boolean } } }> } | undefined;
  const gr = n?.afi_safis?.[0]?.mp_graceful_restart?.state;
  return gr === undefined ? undefined : { received: gr.received === true, endOfRib: gr.end_of_rib_received === true };
}

test('native BGP against GoBGP: the three nodes\' paths over IPv4 and IPv6 with the right attributes, graceful restart helped, passive mode', { timeout: 600_000 }, async (t) => {
  if (!bgpLabPrerequisites(t, 'gobgp')) return;
  try {
    const config = join(tmpdir(), `${lab.prefix}lab-bgp-no-md5.yaml`);
    const withoutPasswords = readFileSync(LAB_BGP_CONFIG, 'utf8').replace(/^ +password: .*\n/gm, '');
    assert.doesNotMatch(withoutPasswords, /password:/);
    writeFileSync(config, withoutPasswords);
    const up = await lab.up('gobgp', config);
    assert.match(up, /gobgpd installs no kernel routes/);
    const { v4, v6 } = lab.demoIps();
    const global = gobgpJson('global') as { asn?: number; use_multiple_paths?: boolean } | undefined;
    assert.deepEqual({ asn: global?.asn, multipath: global?.use_multiple_paths }, { asn: 64512, multipath: true });

    // 1. Each family's prefix from the three nodes, over that family's session, same attributes everywhere.
    for (const ip of [v4, v6]) {
      const prefix = hostPrefix(ip);
      const six = ip.includes(':');
      const want = BGP_NODES.map((n) => ({
        neighbor: six ? n.ipv6 : n.ipv4, nextHop: six ? n.ipv6 : n.ipv4, origin: 2, asPath: '64513', communities: '64512:100', stale: false,
      })).sort((a, b) => a.neighbor.localeCompare(b.neighbor));
      await eventually(`GoBGP to have ${prefix} from the three nodes`, () => (ribPaths(prefix).length === 3 ? true : undefined));
      assert.deepEqual(ribPaths(prefix), want);
    }
    // 2. Graceful restart negotiated on every session (GoBGP received our capability) and our End-of-RIB seen.
    for (const n of BGP_NODES) {
      for (const address of [n.ipv4, n.ipv6]) {
        await eventually(`End-of-RIB from ${address}`, () => (gracefulRestart(address)?.endOfRib ? true : undefined));
        assert.deepEqual(gracefulRestart(address), { received: true, endOfRib: true }, address);
      }
    }

    // 3. node1's speaker SIGKILLed (no NOTIFICATION): GoBGP keeps its paths, stale, until the restarted speaker
    //    sends them again and its End-of-RIB.
    const state = JSON.parse(readFileSync(join(lab.dir, 'state.json'), 'utf8')) as { pids: Record<string, number> };
    process.kill(state.pids['speaker-node1']!, 'SIGKILL');
    const node1 = BGP_NODES[0]!;
    await eventually('node1\'s IPv4 path to turn stale at GoBGP', () => (ribPaths(hostPrefix(v4)).find((p) => p.neighbor === node1.ipv4)?.stale ? true : undefined));
    assert.equal(ribPaths(hostPrefix(v4)).length, 3, 'node1\'s path kept (stale) while its speaker is gone');
    const restarted = await lab.lab('restart-speaker', 'node1');
    assert.equal(restarted.code, 0, restarted.output);
    for (const ip of [v4, v6]) {
      await eventually(`all three paths to ${ip} fresh again`, () => {
        const paths = ribPaths(hostPrefix(ip));
        return paths.length === 3 && paths.every((p) => !p.stale) ? true : undefined;
      });
    }

    // 4. Passive mode: node1's speaker restarted with --bgp-listen (METALLB_BGP_LISTEN, as a DaemonSet would set
    //    it): it dials nobody; GoBGP dials node1:179 for both sessions and gets the paths again.
    process.env['METALLB_BGP_LISTEN'] = '[::]:179';
    let passive: { code: number; output: string };
    try {
      passive = await lab.lab('restart-speaker', 'node1');
    } finally {
      delete process.env['METALLB_BGP_LISTEN'];
    }
    assert.equal(passive.code, 0, passive.output);
    const inbound = () => sh('ip', ['netns', 'exec', `${lab.prefix}node1`, 'ss', '-Htn', 'state', 'established', '( sport = :179 )']).stdout;
    // On the dual-stack [::] socket the IPv4 connection shows as ::ffff:192.0.2.x.
    await eventually('GoBGP to dial node1\'s listener for both sessions', () => {
      const out = inbound();
      return /\[?(::ffff:)?192\.0\.2\.11\]?:179\s+\[?(::ffff:)?192\.0\.2\.1\]?:\d+/.test(out) && /\[2001:db8::11\]:179\s+\[2001:db8::1\]:\d+/.test(out) ? true : undefined;
    }).catch((err: Error) => { throw new Error(`${err.message}; node1's inbound :179 connections: ${inbound()}; GoBGP: ${gobgp('neighbor').stdout}`); });
    for (const ip of [v4, v6]) {
      await eventually(`node1's path to ${ip} fresh over the dialled-in session`, () => {
        const paths = ribPaths(hostPrefix(ip));
        return paths.length === 3 && paths.every((p) => !p.stale) ? true : undefined;
      });
    }
    const log = readFileSync(join(lab.dir, 'logs', 'speaker-node1.log'), 'utf8');
    assert.match(log, /bgpListening/);
    // Node1 opened no BGP connection itself: none of its established connections goes to a port 179.
    assert.doesNotMatch(sh('ip', ['netns', 'exec', `${lab.prefix}node1`, 'ss', '-Htn', 'state', 'established', '( dport = :179 )']).stdout, /:179\b/);
  } finally {
    await lab.down();
  }
});
