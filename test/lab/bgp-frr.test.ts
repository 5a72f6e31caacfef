// The native BGP speaker end to end against FRR 8 (issue 10): `lab up --config examples/lab-bgp.yaml --router frr`
// runs the real apiserver, the controller and three speakers (the manifests' ServiceAccount tokens) with zebra and
// bgpd in the router namespace. Checked from FRR's side: each prefix from the three nodes (IPv4 and IPv6), with the
// nodes as next hops, AS path 64513 and the community, all multipath; a three-way ECMP route in the router's
// kernel (through zebra); the external host reaches the demo through the router; a peer removed from the config
// gets a Cease. One lab for the file; needs root, BIRD (the lab's prerequisite) and FRR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePrerequisite } from '../../src/testing/cluster/test-cluster.js';
import { repoRoot } from '../../src/testing/cluster/binaries.js';
import { waitFor } from '../../src/testing/cluster/processes.js';

const PREFIX = process.env.METALLB_TS_BGP_FRR_TEST_PREFIX ?? 'bgf-';
const DIR = join(tmpdir(), `metallb-ts-lab-${PREFIX}e2e`);
const labMain = join(repoRoot(), 'dist', 'src', 'lab', 'main.js');
const NODES = [
  { ipv4: '192.0.2.11', ipv6: '2001:db8::11' }, { ipv4: '192.0.2.12', ipv6: '2001:db8::12' }, { ipv4: '192.0.2.13', ipv6: '2001:db8::13' },
];
const WAIT_MS = 90_000;

function lab(command: string, ...args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [labMain, command, ...args], {
      env: { ...process.env, METALLB_TS_LAB_DIR: DIR, METALLB_TS_LAB_PREFIX: PREFIX }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => { output += String(d); });
    child.stderr.on('data', (d) => { output += String(d); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

const sh = (cmd: string, args: string[], input?: string) => spawnSync(cmd, args, { encoding: 'utf8', input });
const vtysh = (...commands: string[]) => sh('vtysh', ['--vty_socket', join(DIR, 'frr'), ...commands.flatMap((c) => ['-c', c])]).stdout;
const kubectl = (args: string[], input?: string) => {
  const r = sh(join(DIR, 'bin', 'kubectl'), ['--kubeconfig', join(DIR, 'kubeconfig'), ...args], input);
  assert.equal(r.status, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const eventually = <T>(what: string, probe: () => T | undefined): Promise<T> => {
  let value: T | undefined;
  return waitFor(what, WAIT_MS, () => (value = probe()) !== undefined, 250).then(() => value as T);
};

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

function kernelNextHops(ip: string): string[] {
  const out = sh('ip', ['-n', `${PREFIX}router`, ...(ip.includes(':') ? ['-6'] : []), 'route', 'show', ip]).stdout;
  return [...out.matchAll(/nexthop via (\S+)/g)].map((m) => m[1]!).sort();
}

function curlFromExt(ip: string): string | undefined {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const r = sh('ip', ['netns', 'exec', `${PREFIX}ext`, 'curl', '-gs', '--max-time', '2', `http://${host}/`]);
  return r.status === 0 ? r.stdout.trim() : undefined;
}

test('native BGP against FRR: three-way ECMP over IPv4 and IPv6 with the right attributes, Cease on peer removal', { timeout: 600_000 }, async (t) => {
  if (!requirePrerequisite(t, process.getuid?.() === 0, 'the lab needs root (ip netns)')) return;
  const has = (c: string) => sh('sh', ['-c', `command -v ${c}`]).status === 0;
  if (!requirePrerequisite(t, has('bird') && has('birdc'), 'the lab needs BIRD 2 (apt-get install bird2)')) return;
  if (!requirePrerequisite(t, existsSync('/usr/lib/frr/bgpd') && existsSync('/usr/lib/frr/zebra') && has('vtysh'), 'needs FRR (apt-get install frr)')) return;
  const cleanup = await lab('down');
  assert.equal(cleanup.code, 0, cleanup.output);
  try {
    const up = await lab('up', '--config', join(repoRoot(), 'examples', 'lab-bgp.yaml'), '--router', 'frr');
    assert.equal(up.code, 0, up.output);
    const ips = kubectl(['get', 'service', 'demo', '-n', 'default', '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}']).trim().split(/\s+/);
    const v4 = ips.find((ip) => !ip.includes(':'));
    const v6 = ips.find((ip) => ip.includes(':'));
    assert.ok(v4 && v6, `a dual-stack demo: ${ips.join(' ')}`);
    for (const ip of [v4, v6]) {
      const prefix = ip.includes(':') ? `${ip}/128` : `${ip}/32`;
      const want = NODES.map((n) => ({ nextHop: ip.includes(':') ? n.ipv6 : n.ipv4, asPath: '64513', community: '64512:100', multipath: true }))
        .sort((a, b) => a.nextHop.localeCompare(b.nextHop));
      await eventually(`FRR to have ${prefix} from the three nodes`, () => (frrPaths(prefix).length === 3 ? true : undefined));
      assert.deepEqual(frrPaths(prefix), want);
      await eventually(`a 3-way ECMP route to ${ip} in the router's kernel`, () => (kernelNextHops(ip).length === 3 ? true : undefined));
      assert.deepEqual(kernelNextHops(ip), want.map((w) => w.nextHop).sort());
      assert.match(await eventually(`the demo to answer the external host on ${ip}`, () => curlFromExt(ip)), /^node[123]$/);
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
    if (existsSync(join(DIR, 'state.json'))) await lab('down');
    rmSync(DIR, { recursive: true, force: true });
  }
});
