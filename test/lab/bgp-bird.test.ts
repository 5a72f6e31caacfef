// The native BGP speaker end to end against BIRD 2 (issue 10): `lab up --config examples/lab-bgp.yaml` runs the
// real apiserver, the controller and three speakers with the manifests' ServiceAccount tokens, each node in its own
// network namespace peering with the BIRD router over IPv4 and IPv6. Checked from the router's side: BIRD's table
// has each prefix from the three nodes with their next hops, AS path and community, the router's kernel a
// three-way ECMP route, the external host behind the router reaches the demo over both families; Services added and
// removed move only their prefixes (no session resets); a peer removed from the config gets a Cease, node-selectors
// follow the Node's labels; a speaker SIGKILLed and restarted keeps its paths at BIRD (graceful restart) while a
// client connects every 20 ms without a failure. One lab for the file; needs root and BIRD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../src/testing/cluster/binaries.js';
import { BGP_NODES as NODES, bgpLab, bgpLabPrerequisites, eventually, hostPrefix, sh } from './bgp-lab.js';

const lab = bgpLab(process.env.METALLB_TS_BGP_TEST_PREFIX ?? 'bgp-');
const { prefix: PREFIX, dir: DIR, kubectl } = lab;
const birdc = (...args: string[]) => sh('birdc', ['-s', join(DIR, 'bird.ctl'), ...args]).stdout;

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

function applyConfig(yaml: string): void {
  kubectl(['apply', '-f', '-'], yaml);
}

function labConfig(peers: string): string {
  const base = readFileSync(join(repoRoot(), 'examples', 'lab-bgp.yaml'), 'utf8');
  const start = base.indexOf('    peers:\n');
  const end = base.indexOf('    bgp-communities:');
  return base.slice(0, start) + peers + base.slice(end);
}

test('native BGP against BIRD: three-way ECMP over IPv4 and IPv6, no resets, Cease, node-selectors, graceful restart', { timeout: 900_000 }, async (t) => {
  if (!bgpLabPrerequisites(t, 'bird')) return;
  let loop: ChildProcess | undefined;
  try {
    await lab.up('bird');
    const { v4, v6 } = lab.demoIps();

    // 1. The router's view: every prefix from the three nodes, right next hops and attributes, ECMP in the kernel.
    for (const [ip, family] of [[v4, 'ipv4'], [v6, 'ipv6']] as const) {
      const want = NODES.map((n) => ({
        protocol: `${n.name}${family === 'ipv4' ? 'v4' : 'v6'}`, nextHop: family === 'ipv4' ? n.ipv4 : n.ipv6,
        asPath: '64513', communities: '(64512,100)', localPref: '100',
      }));
      await eventually(`BIRD to have ${ip} from the three nodes`, () => (birdPaths(hostPrefix(ip)).length === 3 ? true : undefined));
      assert.deepEqual(birdPaths(hostPrefix(ip)), want);
      await eventually(`a 3-way ECMP route to ${ip} in the router's kernel`, () => (lab.kernelNextHops(ip).length === 3 ? true : undefined));
      assert.deepEqual(lab.kernelNextHops(ip), want.map((w) => w.nextHop).sort());
      const answer = await eventually(`the demo to answer the external host on ${ip}`, () => lab.curlFromExt(ip));
      assert.match(answer, /^node[123]$/);
    }
    // Each family on exactly one session per router: the IPv4 session carries no IPv6 prefix and vice versa.
    assert.doesNotMatch(birdc('show', 'route', 'protocol', 'node1v4'), /2001:db8:ffff/);
    assert.doesNotMatch(birdc('show', 'route', 'protocol', 'node1v6'), /198\.51\.100/);

    // 2. 30 Services added, then removed: their prefixes come and go, the sessions stay up (no reset).
    const since = sessionSince();
    assert.equal(Object.keys(since).length, 6, JSON.stringify(since));
    const services = Array.from({ length: 30 }, (_, i) => ({
      apiVersion: 'v1', kind: 'Service', metadata: { name: `many-${i}`, namespace: 'default' },
      spec: { type: 'LoadBalancer', selector: { app: 'demo' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] },
    }));
    kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: services }));
    const routeCount = () => Number(/Total: (\d+) of \d+ routes/.exec(birdc('show', 'route', 'count'))?.[1] ?? -1);
    // 31 IPv4 prefixes (30 + the demo's) and the demo's IPv6 one, each from three nodes.
    await eventually('BIRD to hold 32 prefixes x 3 paths', () => (routeCount() === 96 ? true : undefined));
    kubectl(['delete', 'service', ...services.map((s) => s.metadata.name), '-n', 'default']);
    await eventually('the 30 prefixes to leave BIRD', () => (routeCount() === 6 ? true : undefined));
    assertNoReset(sessionSince(), since, 'no session was reset by adding and removing Services');

    // 3. The IPv6 peer removed and the IPv4 peer limited to nodes labelled bgp-peer=yes (node1, node2):
    //    the removed and de-selected sessions get a Cease (BIRD: "Received: Peer de-configured").
    kubectl(['label', 'node', 'node1', 'node2', 'bgp-peer=yes']);
    applyConfig(labConfig([
      '    peers:', '    - peer-address: 192.0.2.1', '      peer-asn: 64512', '      my-asn: 64513', '      hold-time: 9s',
      '      node-selectors:', '      - match-labels:', '          bgp-peer: "yes"', '',
    ].join('\n')));
    for (const p of ['node1v6', 'node2v6', 'node3v6', 'node3v4']) {
      await eventually(`${p} to end with a Cease`, () => (/Received: Peer de-configured/.test(birdc('show', 'protocols', 'all', p)) ? true : undefined));
    }
    await eventually('the IPv4 route to go 2-way', () => (lab.kernelNextHops(v4).join() === '192.0.2.11,192.0.2.12' ? true : undefined));
    assertNoReset({ node1v4: sessionSince().node1v4! }, { node1v4: since.node1v4! }, 'node1\'s IPv4 session untouched by the other peer\'s removal');
    await eventually('the IPv6 prefix to leave BIRD', () => (birdPaths(hostPrefix(v6)).length === 0 ? true : undefined));

    // 4. node3 labelled: its Node's labels are re-read and its session comes back.
    kubectl(['label', 'node', 'node3', 'bgp-peer=yes']);
    await eventually('node3 to announce again after its label', () => (lab.kernelNextHops(v4).length === 3 ? true : undefined));

    // 5. Graceful restart: the IPv4 speaker on node1 SIGKILLed and restarted; BIRD keeps its path (stale) until
    //    the new speaker's End-of-RIB, and a client connecting every 20 ms sees no failure.
    loop = spawn('ip', ['netns', 'exec', `${PREFIX}ext`, 'sh', '-c',
      `while :; do if curl -s --max-time 2 -o /dev/null http://${v4}/; then echo ok; else echo FAIL; fi; sleep 0.02; done`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let okCount = 0;
    let failCount = 0;
    loop.stdout!.on('data', (d: Buffer) => {
      for (const w of String(d).split('\n')) { if (w === 'ok') okCount++; else if (w === 'FAIL') failCount++; }
    });
    await eventually('the client loop to get answers', () => (okCount > 10 ? true : undefined));
    const state = JSON.parse(readFileSync(join(DIR, 'state.json'), 'utf8')) as { pids: Record<string, number> };
    process.kill(state.pids['speaker-node1']!, 'SIGKILL');
    await eventually('BIRD to see node1v4 go down', () => (!/node1v4\s+BGP\s+\S+\s+up\s+\S+\s+Established/.test(birdc('show', 'protocols')) ? true : undefined));
    const during = birdPaths(hostPrefix(v4)).map((p) => p.protocol);
    assert.deepEqual(during, ['node1v4', 'node2v4', 'node3v4'], 'node1\'s path kept (stale) after the speaker died');
    assert.equal(lab.kernelNextHops(v4).length, 3, 'the kernel keeps the 3-way route');
    const restarted = await lab.lab('restart-speaker', 'node1');
    assert.equal(restarted.code, 0, restarted.output);
    await eventually('node1v4 Established again', () => (/node1v4\s+BGP\s+\S+\s+up\s+\S+\s+Established/.test(birdc('show', 'protocols')) ? true : undefined));
    await eventually('node1\'s path fresh again', () => (birdPaths(hostPrefix(v4)).length === 3 && !/stale/i.test(birdc('show', 'route', 'all', hostPrefix(v4))) ? true : undefined));
    const seenOk = okCount;
    await eventually('a few more answers after the restart', () => (okCount > seenOk + 10 ? true : undefined));
    loop.kill('SIGTERM');
    t.diagnostic(`graceful restart: ${okCount} connects, ${failCount} failures`);
    assert.equal(failCount, 0, `${failCount} of ${okCount + failCount} connects failed across the speaker restart`);
  } finally {
    loop?.kill('SIGKILL');
    await lab.down();
  }
});
