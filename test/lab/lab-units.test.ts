// The lab's pure helpers: what the kube-proxy stand-in puts on a node, and how `lab status` reads owners.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planFor, canonicalIp, vipsOnLo, type ServiceShape } from '../../src/lab/kube-proxy.js';
import { parseAnnounced, ownersOf } from '../../src/lab/observe.js';

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
