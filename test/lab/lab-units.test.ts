// The lab's pure helpers: what the kube-proxy stand-in puts on a node, and how `lab status` reads owners.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planFor, canonicalIp, vipsOnLo, type ServiceShape } from '../../src/lab/kube-proxy.js';
import { parseAnnounced, ownersOf } from '../../src/lab/observe.js';
import { readFileSync } from 'node:fs';
import { routerSessionsFor } from '../../src/lab/peering.js';
import { birdConfig } from '../../src/lab/router.js';
import { frrBfddConfig, frrBgpdConfig } from '../../src/lab/frr.js';

const lb = (name: string, ips: unknown[], ports: Array<{ port?: number; protocol?: string }> = [{ port: 80 }]): ServiceShape => ({
  metadata: { name, namespace: 'default' },
  spec: { type: 'LoadBalancer', ports },
  status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) as Array<{ ip?: string }> } },
});

test('planFor: every valid LoadBalancer IP, one listener per IP and TCP port', () => {
  const plan = planFor([
    lb('demo', ['192.0.2.100', '2001:DB8::0100']),
    lb('dns', ['192.0.2.101'], [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }]),
    { metadata: { name: 'cip' }, spec: { type: 'ClusterIP', ports: [{ port: 80 }] }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.9' }] } } },
  ]);
  assert.deepEqual([...plan.ips].sort(), ['192.0.2.100', '192.0.2.101', '2001:db8::100']);
  assert.deepEqual([...plan.listeners.keys()].sort(), ['192.0.2.100|80', '192.0.2.101|53', '2001:db8::100|80']);
});

test('planFor: garbage in a status is ignored, nothing throws', () => {
  const plan = planFor([
    lb('garbage', ['not-an-ip', '300.1.1.1', 42, null, '']),
    { metadata: { name: 'empty' } },
    { spec: { type: 'LoadBalancer' } },
    lb('shared-a', ['192.0.2.120'], [{ port: 80 }]),
    lb('shared-b', ['192.0.2.120'], [{ port: 443 }, { protocol: 'TCP' }]),
  ]);
  assert.deepEqual([...plan.ips], ['192.0.2.120']);
  assert.deepEqual([...plan.listeners.keys()].sort(), ['192.0.2.120|443', '192.0.2.120|80']);
});

test('canonicalIp: the form `ip addr` prints, undefined for non-IPs', () => {
  assert.equal(canonicalIp('2001:0db8:0000::0100'), '2001:db8::100');
  assert.equal(canonicalIp('192.0.2.7'), '192.0.2.7');
  assert.equal(canonicalIp('192.0.2.07'), undefined);
  assert.equal(canonicalIp('::ffff:192.0.2.1'), '::ffff:c000:201');
  assert.equal(canonicalIp(undefined), undefined);
  assert.equal(canonicalIp('fe80::1%eth0'), undefined);
});

test('vipsOnLo: everything on lo but loopback, from `ip -j addr show dev lo`', () => {
  const json = JSON.stringify([{ ifname: 'lo', addr_info: [
    { family: 'inet', local: '127.0.0.1', prefixlen: 8 }, { family: 'inet', local: '192.0.2.100', prefixlen: 32 },
    { family: 'inet6', local: '2001:db8::100', prefixlen: 128 }, { family: 'inet6', local: '::1', prefixlen: 128 },
  ] }]);
  assert.deepEqual(vipsOnLo(json), ['192.0.2.100', '2001:db8::100']);
  assert.deepEqual(vipsOnLo('not json'), []);
  assert.deepEqual(vipsOnLo('{}'), []);
});

test('parseAnnounced: the series set to 1, labels in any order; ownersOf per IP and protocol', () => {
  const metrics = [
    '# HELP metallb_speaker_announced Services being announced from this node. This is desired state, it does not guarantee that the routing protocols have converged.',
    '# TYPE metallb_speaker_announced gauge',
    'metallb_speaker_announced{ip="192.0.2.100",node="node2",protocol="layer2",service="default/demo"} 1',
    'metallb_speaker_announced{service="default/demo",protocol="layer2",node="node2",ip="2001:db8::100"} 1',
    'metallb_speaker_announced{service="default/old",protocol="layer2",node="node2",ip="192.0.2.101"} 0',
    'metallb_speaker_announced_other{ip="192.0.2.102"} 1',
  ].join('\n');
  const all = [...parseAnnounced(metrics), { service: 'default/x', protocol: 'layer2', node: 'node1', ip: '192.0.2.100' },
    { service: 'default/y', protocol: 'bgp', node: 'node3', ip: '192.0.2.100' }];
  assert.equal(all.length, 4);
  assert.deepEqual(all[1], { service: 'default/demo', protocol: 'layer2', node: 'node2', ip: '2001:db8::100' });
  assert.deepEqual(ownersOf(all, '192.0.2.100'), ['node1', 'node2', 'node3']);
  assert.deepEqual(ownersOf(all, '192.0.2.100', 'layer2'), ['node1', 'node2']);
  assert.deepEqual(ownersOf(all, '192.0.2.100', 'bgp'), ['node3']);
  assert.deepEqual(ownersOf(all, '192.0.2.101'), []);
});

test('routerSessionsFor: the router\'s side follows each lab example (peers, ASNs, passwords, families)', async () => {
  const { readFileSync } = await import('node:fs');
  const { routerSessionsFor, DEFAULT_SESSIONS } = await import('../../src/lab/peering.js');
  const { birdConfig } = await import('../../src/lab/router.js');
  const { frrBgpdConfig } = await import('../../src/lab/frr.js');
  const { topologyNames } = await import('../../src/lab/topology.js');
  const sessions = (name: string) => {
    const r = routerSessionsFor(readFileSync(new URL(`../../../examples/${name}`, import.meta.url), 'utf8'));
    assert.ok(r.ok, name);
    return r.sessions;
  };
  const brief = (s: readonly { routerAddress: string; ibgp: boolean; password: string | undefined; families: readonly number[] }[]) =>
    s.map((x) => `${x.routerAddress} ${x.ibgp ? 'ibgp' : 'ebgp'} ${x.password ?? '-'} ${x.families.join('+')}`);
  assert.deepEqual(brief(sessions('lab-bgp.yaml')), ['192.0.2.1 ebgp lab-md5-v4 4', '2001:db8::1 ebgp lab-md5-v6 6']);
  assert.deepEqual(brief(sessions('lab-bgp-mp.yaml')), ['192.0.2.1 ebgp - 4+6']);
  assert.deepEqual(brief(sessions('lab-ibgp.yaml')), ['192.0.2.1 ibgp - 4', '2001:db8::1 ibgp - 6']);
  assert.equal(sessions('lab-layer2.yaml'), DEFAULT_SESSIONS);
  const nodes = topologyNames('x-').nodes;
  const bird = birdConfig('/l', nodes, sessions('lab-bgp.yaml'));
  assert.match(bird, /protocol bgp node1v4 from speakers \{ neighbor 192\.0\.2\.11 as 64513; local as 64512; .*password "lab-md5-v4"; ipv4 \{ import all; export none; \}; \}/);
  assert.match(bird, /protocol bgp node3v6 from speakers \{ neighbor 2001:db8::13 as 64513; .*password "lab-md5-v6"; ipv6 \{/);
  assert.match(birdConfig('/l', nodes, sessions('lab-bgp-mp.yaml')), /node2v4 .* ipv4 \{ import all; export none; \}; ipv6 \{ import all; export none; \}; \}/);
  assert.match(birdConfig('/l', nodes, sessions('lab-ibgp.yaml')), /node1v4 .*as 64512; local as 64512; .*direct; ipv4 \{ import all; export none; gateway direct; \}/);
  const frr = frrBgpdConfig('/f', nodes, sessions('lab-bgp-mp.yaml'));
  assert.match(frr, / address-family ipv6 unicast\n {2}neighbor SPEAKERS activate\n/);
  assert.doesNotMatch(frr, /SPEAKERS6/);
  assert.match(frrBgpdConfig('/f', nodes, sessions('lab-bgp.yaml')), / neighbor SPEAKERS6 password lab-md5-v6\n/);
  const { gobgpConfig } = await import('../../src/lab/gobgp.js');
  const gobgp = gobgpConfig(nodes, {}, sessions('lab-bgp.yaml'));
  assert.match(gobgp, /neighbor-address = "2001:db8::12"\n {4}peer-as = 64513\n {4}auth-password = "lab-md5-v6"\n/);
  const gobgpMp = gobgpConfig(nodes, {}, sessions('lab-bgp-mp.yaml'));
  assert.equal(gobgpMp.match(/\[\[neighbors\]\]/g)?.length, 3);
  assert.equal(gobgpMp.match(/afi-safi-name = "ipv6-unicast"/g)?.length, 3);
  const twice = routerSessionsFor('peers:\n- {peer-address: 192.0.2.1, peer-asn: 1, my-asn: 2}\n- {peer-address: 192.0.2.1, peer-asn: 1, my-asn: 2, peer-port: 1790}\n');
  assert.equal(twice.ok, false);
});

test('lab-bgp-bfd.yaml: the router gets BFD with the profile\'s timers and the password (BIRD and FRR)', () => {
  const r = routerSessionsFor(readFileSync(new URL('../../../examples/lab-bgp-bfd.yaml', import.meta.url), 'utf8'));
  assert.ok(r.ok);
  assert.deepEqual(r.sessions.map((s) => [s.routerAddress, s.password, s.bfd]), [
    ['192.0.2.1', 'lab-bfd-secret', { rxMs: 100, txMs: 100, multiplier: 3, multihop: false }],
    ['2001:db8::1', 'lab-bfd-secret', { rxMs: 100, txMs: 100, multiplier: 3, multihop: false }],
  ]);
  const node = [{ name: 'node1', netns: 'x', ipv4: '192.0.2.11', ipv6: '2001:db8::11', mac: '02:00:00:00:00:11' }];
  const bird = birdConfig('/dev/null', node, r.sessions);
  assert.match(bird, /^protocol bfd \{\}$/m);
  assert.match(bird, /neighbor 192\.0\.2\.11 as 64513;.* password "lab-bfd-secret"; bfd on; bfd \{ min rx interval 100 ms; min tx interval 100 ms; multiplier 3; \};/);
  const bgpd = frrBgpdConfig('/tmp', node, r.sessions);
  assert.match(bgpd, /^ neighbor SPEAKERS bfd profile lab4$/m);
  assert.match(bgpd, /^ neighbor SPEAKERS6 bfd profile lab6$/m);
  assert.match(frrBfddConfig('/tmp', r.sessions), / profile lab4\n  receive-interval 100\n  transmit-interval 100\n  detect-multiplier 3\n/);
  // Without a bfd-profile nothing of BFD is written.
  const plain = routerSessionsFor(readFileSync(new URL('../../../examples/lab-bgp.yaml', import.meta.url), 'utf8'));
  assert.ok(plain.ok);
  assert.doesNotMatch(birdConfig('/dev/null', node, plain.sessions), /bfd/);
  assert.doesNotMatch(frrBgpdConfig('/tmp', node, plain.sessions), /bfd/);
});
