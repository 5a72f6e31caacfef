// BFD for the native BGP speaker end to end (issue 12): `lab up --config examples/lab-bgp-bfd.yaml` with BIRD 2 and
// then with FRR 8 (bfdd) as the router, each configured by the lab to match the config's 100 ms x 3 profile and
// TCP-MD5 password. Checked from the router's side, over IPv4 and IPv6: the six BFD sessions Up and the BGP sessions
// Established (so the password matched), a three-way ECMP route in the router's kernel; the speaker's
// metallb_bfd_* metrics; a speaker SIGKILLed and a node's link cut each take that node's next hop out of the
// router's kernel route (the router's BFD says Down), and it comes back. One lab per router, taken down before the
// next; generous waits only (the figures are bench/bfd.ts's). Needs root, BIRD 2 and FRR (bfdd, zebra, bgpd).
import { test, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePrerequisite } from '../../src/testing/cluster/test-cluster.js';
import { repoRoot } from '../../src/testing/cluster/binaries.js';
import { waitFor } from '../../src/testing/cluster/processes.js';
import { runLab } from './lab-harness.js';

const PREFIX = process.env['METALLB_TS_BFD_TEST_PREFIX'] ?? 'bfe-';
const DIR = join(tmpdir(), `metallb-ts-lab-${PREFIX}e2e`);
const CONFIG = join(repoRoot(), 'examples', 'lab-bgp-bfd.yaml');
const NODES = [
  { name: 'node1', ipv4: '192.0.2.11', ipv6: '2001:db8::11' },
  { name: 'node2', ipv4: '192.0.2.12', ipv6: '2001:db8::12' },
  { name: 'node3', ipv4: '192.0.2.13', ipv6: '2001:db8::13' },
];
/** Generous: a loaded 2-core machine runs several helpers' suites at once. */
const WAIT_MS = 90_000;

function lab(command: string, ...args: string[]): Promise<{ code: number; output: string }> {
  return runLab(PREFIX, DIR, [command, ...args]);
}

const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' });
const has = (c: string) => sh('sh', ['-c', `command -v ${c}`]).status === 0;
const kubectl = (args: string[]) => {
  const r = sh(join(DIR, 'bin', 'kubectl'), ['--kubeconfig', join(DIR, 'kubeconfig'), ...args]);
  assert.equal(r.status, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const eventually = (what: string, probe: () => boolean): Promise<void> => waitFor(what, WAIT_MS, probe, 100);

/** Next hops of the router's kernel route for `ip` (ECMP: one per `nexthop via` line; a single path: `via`). */
function kernelNextHops(ip: string): string[] {
  const out = sh('ip', ['-n', `${PREFIX}router`, ...(ip.includes(':') ? ['-6'] : []), 'route', 'show', ip]).stdout;
  const multi = [...out.matchAll(/nexthop via (\S+)/g)].map((m) => m[1]!);
  const single = /^\S+ via (\S+)/m.exec(out)?.[1];
  return (multi.length > 0 ? multi : single ? [single] : []).sort();
}

/** The router's BFD sessions that are Up, by neighbour address. */
type RouterView = { bfdUp(): string[]; established(): number };
const bird: RouterView = {
  bfdUp: () => [...sh('birdc', ['-s', join(DIR, 'bird.ctl'), 'show', 'bfd', 'sessions']).stdout.matchAll(/^(\S+)\s+\S+\s+Up\s/gm)].map((m) => m[1]!).sort(),
  established: () => (sh('birdc', ['-s', join(DIR, 'bird.ctl'), 'show', 'protocols']).stdout.match(/Established/g) ?? []).length,
};
const frr: RouterView = {
  bfdUp: () => {
    try {
      const peers = JSON.parse(sh('vtysh', ['--vty_socket', join(DIR, 'frr'), '-c', 'show bfd peers json']).stdout) as { peer: string; status: string }[];
      return peers.filter((p) => p.status === 'up').map((p) => p.peer).sort();
    } catch { return []; }
  },
  established: () => {
    try {
      const s = JSON.parse(sh('vtysh', ['--vty_socket', join(DIR, 'frr'), '-c', 'show bgp summary json']).stdout) as Record<string, { peers?: Record<string, { state?: string }> }>;
      return Object.values(s).flatMap((af) => Object.values(af.peers ?? {})).filter((p) => p.state === 'Established').length;
    } catch { return 0; }
  },
};

/** The speaker's metrics on `node`, from inside its namespace. */
function speakerMetrics(node: (typeof NODES)[number]): string {
  return sh('ip', ['netns', 'exec', `${PREFIX}${node.name}`, 'curl', '-s', '--max-time', '5', `http://${node.ipv4}:7472/metrics`]).stdout;
}
function sample(metrics: string, name: string, peer: string): number | undefined {
  const m = new RegExp(`^${name}\\{peer="${peer.replace(/\./g, '\\.')}"\\} (\\S+)$`, 'm').exec(metrics);
  return m ? Number(m[1]) : undefined;
}

const ALL_NEIGHBOURS = NODES.flatMap((n) => [n.ipv4, n.ipv6]).sort();

async function exercise(t: TestContext, router: 'bird' | 'frr', view: RouterView): Promise<void> {
  const cleanup = await lab('down');
  assert.equal(cleanup.code, 0, cleanup.output);
  try {
    const t0 = Date.now();
    const up = await lab('up', '--config', CONFIG, '--router', router);
    assert.equal(up.code, 0, up.output);
    t.diagnostic(`lab up with ${router} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // `lab up` waits for the speakers, not for the controller's status write on a loaded machine: poll for both.
    let ips: string[] = [];
    await eventually('a dual-stack demo (an IPv4 and an IPv6 EXTERNAL-IP)', () => {
      ips = kubectl(['get', 'service', 'demo', '-n', 'default', '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}']).trim().split(/\s+/);
      return ips.some((ip) => !ip.includes(':')) && ips.some((ip) => ip.includes(':'));
    });
    const v4 = ips.find((ip) => !ip.includes(':'))!;
    const v6 = ips.find((ip) => ip.includes(':'))!;

    // 1. BFD Up with every node over both families, BGP (with the password) Established, 3-way ECMP in the kernel.
    await eventually(`${router}: six BFD sessions Up`, () => view.bfdUp().join() === ALL_NEIGHBOURS.join());
    await eventually(`${router}: six BGP sessions Established`, () => view.established() === 6);
    const full = (_ip: string, family: 'ipv4' | 'ipv6') => NODES.map((n) => n[family]).sort().join();
    await eventually(`a 3-way IPv4 route to ${v4}`, () => kernelNextHops(v4).join() === full(v4, 'ipv4'));
    await eventually(`a 3-way IPv6 route to ${v6}`, () => kernelNextHops(v6).join() === full(v6, 'ipv6'));

    // 2. The speaker's BFD metrics (MetalLB's names, peer label = the router's address).
    const m = speakerMetrics(NODES[0]!);
    const bfdLines = m.split('\n').filter((l) => l.startsWith('metallb_bfd_')).join('\n');
    for (const peer of ['192.0.2.1', '2001:db8::1']) {
      const v = (name: string) => sample(m, name, peer);
      assert.equal(v('metallb_bfd_session_up'), 1, bfdLines);
      assert.ok(v('metallb_bfd_control_packet_input')! > 0, bfdLines);
      assert.ok(v('metallb_bfd_control_packet_output')! > 0, bfdLines);
      // Up events count every entry into Up; each one but the current came with a Down event.
      assert.ok(v('metallb_bfd_session_up_events')! >= 1, bfdLines);
      assert.equal(v('metallb_bfd_session_down_events'), v('metallb_bfd_session_up_events')! - 1, bfdLines);
      assert.equal(v('metallb_bfd_echo_packet_input'), 0, bfdLines);
      assert.equal(v('metallb_bfd_echo_packet_output'), 0, bfdLines);
    }

    // 3. node1's speaker SIGKILLed: the router's BFD goes Down and its kernel drops node1's next hop (both families).
    const state = JSON.parse(readFileSync(join(DIR, 'state.json'), 'utf8')) as { pids: Record<string, number> };
    process.kill(state.pids['speaker-node1']!, 'SIGKILL');
    await eventually('node1 out of the IPv4 route', () => !kernelNextHops(v4).includes('192.0.2.11') && kernelNextHops(v4).length === 2);
    await eventually('node1 out of the IPv6 route', () => !kernelNextHops(v6).includes('2001:db8::11') && kernelNextHops(v6).length === 2);
    // The killed process's TCP teardown can take the routes out before the router's BFD detection time expires
    // (a BFD-gated session advertises no graceful restart), so wait for BFD Down rather than expect it already.
    await eventually(`${router}: BFD with node1 Down over both families`, () => !view.bfdUp().includes('192.0.2.11') && !view.bfdUp().includes('2001:db8::11'));
    const restarted = await lab('restart-speaker', 'node1');
    // Under heavy load the new speaker may take longer than `lab restart-speaker`'s 20 s readiness wait; it keeps
    // running then (its pid is recorded first), and the routes coming back below are what counts.
    if (restarted.code !== 0) assert.match(restarted.output, /timed out after \d+ ms waiting for the speaker on node1 to serve \/metrics/, restarted.output);
    await eventually('node1 back in both routes', () => kernelNextHops(v4).length === 3 && kernelNextHops(v6).length === 3);

    // 4. node2's link cut at the fabric (the node itself notices nothing): the router drops node2, then takes it back.
    const downsBefore = sample(speakerMetrics(NODES[1]!), 'metallb_bfd_session_down_events', '192.0.2.1') ?? 0;
    assert.equal(sh('ip', ['-n', `${PREFIX}fabric`, 'link', 'set', 'p-node2', 'down']).status, 0);
    await eventually('node2 out of both routes after its link is cut', () =>
      kernelNextHops(v4).join() === '192.0.2.11,192.0.2.13' && kernelNextHops(v6).join() === '2001:db8::11,2001:db8::13');
    await eventually('node2\'s speaker to count its BFD Down', () => (sample(speakerMetrics(NODES[1]!), 'metallb_bfd_session_down_events', '192.0.2.1') ?? 0) > downsBefore);
    assert.equal(sh('ip', ['-n', `${PREFIX}fabric`, 'link', 'set', 'p-node2', 'up']).status, 0);
    await eventually('node2 back in both routes after the link is restored', () => kernelNextHops(v4).length === 3 && kernelNextHops(v6).length === 3);
    await eventually(`${router}: six BFD sessions Up again`, () => view.bfdUp().join() === ALL_NEIGHBOURS.join());
  } finally {
    sh('ip', ['-n', `${PREFIX}fabric`, 'link', 'set', 'p-node2', 'up']);
    if (existsSync(join(DIR, 'state.json'))) await lab('down');
  }
}

function prerequisites(t: TestContext, needFrr: boolean): boolean {
  if (!requirePrerequisite(t, process.getuid?.() === 0, 'the lab needs root (ip netns)')) return false;
  if (!requirePrerequisite(t, has('bird') && has('birdc') && has('curl'), 'the lab needs BIRD 2 and curl (apt-get install bird2 curl)')) return false;
  if (!needFrr) return true;
  return requirePrerequisite(t, ['bfdd', 'bgpd', 'zebra'].every((d) => existsSync(`/usr/lib/frr/${d}`)) && has('vtysh'), 'needs FRR with bfdd (apt-get install frr)');
}

after(() => rmSync(DIR, { recursive: true, force: true }));

test('BFD with BIRD: Up over IPv4 and IPv6 with the password, metrics, SIGKILL and link cut drop the node\'s paths', { timeout: 600_000 }, async (t) => {
  if (!prerequisites(t, false)) return;
  await exercise(t, 'bird', bird);
});

test('BFD with FRR (bfdd): Up over IPv4 and IPv6 with the password, metrics, SIGKILL and link cut drop the node\'s paths', { timeout: 600_000 }, async (t) => {
  if (!prerequisites(t, true)) return;
  await exercise(t, 'frr', frr);
});
