import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANNOUNCE_ANNOTATION_PREFIX, announceAnnotationKey, announcementPatch, announcementsOn, formatAnnouncement,
  hasQuorum, interfacesHolding, isJanitor, parseAnnouncement, type NodeAnnouncement,
} from '../../../src/core/speaker/announce-annotation.js';
import { nodeAnnouncementFor, type AnnouncementInput } from '../../../src/speaker/announce.js';
import { endpointsFromSlices, NO_ENDPOINTS } from '../../../src/core/service/endpoints.js';
import type { ServiceObject } from '../../../src/core/k8s/objects.js';

const L2_ETH0: NodeAnnouncement = { kind: 'announcing', protocol: 'layer2', interfaces: ['eth0'] };

test('key: the node name under the prefix; names too long for an annotation are cut and hashed apart', () => {
  assert.equal(announceAnnotationKey('node-a'), 'announce.metallb.universe.tf/node-a');
  const long1 = `${'a'.repeat(60)}.example.com`;
  const long2 = `${'a'.repeat(60)}.example.org`;
  const k1 = announceAnnotationKey(long1);
  const k2 = announceAnnotationKey(long2);
  assert.notEqual(k1, k2);
  for (const k of [k1, k2]) {
    const name = k.slice(ANNOUNCE_ANNOTATION_PREFIX.length);
    assert.ok(name.length <= 63, name);
    assert.match(name, /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/);
  }
});

test('value: format and parse round-trip; hand-written values do not parse', () => {
  const entries: NodeAnnouncement[] = [
    L2_ETH0, { kind: 'announcing', protocol: 'layer2', interfaces: [] }, { kind: 'announcing', protocol: 'bgp', interfaces: ['eth0', 'eth1'] },
    { kind: 'notAnnouncing', reason: 'noEndpoints' }, { kind: 'notAnnouncing', reason: 'staleConfig' },
  ];
  for (const e of entries) assert.deepEqual(parseAnnouncement(formatAnnouncement(e)), e);
  assert.equal(formatAnnouncement(L2_ETH0), 'announcing layer2 on eth0');
  const bgp: NodeAnnouncement = { kind: 'announcing', protocol: 'bgp', interfaces: [], peers: ['192.0.2.1:179', '[2001:db8::1]:179'] };
  assert.equal(formatAnnouncement(bgp), 'announcing bgp to 192.0.2.1:179,[2001:db8::1]:179');
  assert.deepEqual(parseAnnouncement(formatAnnouncement(bgp)), bgp);
  assert.deepEqual(parseAnnouncement('announcing bgp'), { kind: 'announcing', protocol: 'bgp', interfaces: [] });
  assert.equal(formatAnnouncement({ kind: 'notAnnouncing', reason: 'noPool' }), 'not announcing: noPool');
  assert.equal(parseAnnouncement('announcing carrier pigeon'), undefined);
  assert.equal(parseAnnouncement('not announcing: because'), undefined);
  const on = announcementsOn({ 'announce.metallb.universe.tf/a': 'announcing layer2', other: 'x', 'announce.metallb.universe.tf/b': '?' });
  assert.deepEqual([...on.keys()].sort(), ['announce.metallb.universe.tf/a', 'announce.metallb.universe.tf/b']);
  assert.equal(on.get('announce.metallb.universe.tf/b'), undefined);
});

test('patch: nothing when the Service already says it; set, change and remove only this node\'s key', () => {
  const alive = new Set(['b', 'c']);
  const key = announceAnnotationKey('b');
  assert.equal(announcementPatch({ current: { [key]: 'announcing layer2 on eth0', x: 'y' }, myNode: 'b', mine: L2_ETH0, alive }), undefined);
  assert.equal(announcementPatch({ current: { x: 'y' }, myNode: 'c', mine: undefined, alive }), undefined);
  assert.deepEqual(announcementPatch({ current: undefined, myNode: 'c', mine: L2_ETH0, alive }), { [announceAnnotationKey('c')]: 'announcing layer2 on eth0' });
  assert.deepEqual(announcementPatch({ current: { [key]: 'announcing layer2' }, myNode: 'b', mine: L2_ETH0, alive }), { [key]: 'announcing layer2 on eth0' });
  assert.deepEqual(announcementPatch({ current: { [key]: 'announcing layer2' }, myNode: 'b', mine: undefined, alive }), { [key]: null });
});

test('patch: only the first alive node removes the keys of nodes no longer alive', () => {
  const current = { [announceAnnotationKey('a')]: 'announcing layer2 on eth0', [announceAnnotationKey('c')]: 'not announcing: noEndpoints', user: 'keep' };
  const alive = new Set(['b', 'c']);
  assert.equal(isJanitor('b', alive), true);
  assert.equal(isJanitor('c', alive), false);
  assert.deepEqual(announcementPatch({ current, myNode: 'b', mine: L2_ETH0, alive }), { [announceAnnotationKey('b')]: 'announcing layer2 on eth0', [announceAnnotationKey('a')]: null });
  assert.equal(announcementPatch({ current, myNode: 'c', mine: { kind: 'notAnnouncing', reason: 'noEndpoints' }, alive }), undefined);
});

test('quorum: a strict majority of the Kubernetes liveness, or exactly half with its first node', () => {
  const kube = new Set(['a', 'b', 'c']);
  assert.equal(hasQuorum(new Set(['a', 'b', 'c']), kube), true);
  assert.equal(hasQuorum(new Set(['b', 'c']), kube), true);
  assert.equal(hasQuorum(new Set(['a']), kube), false);
  assert.equal(hasQuorum(new Set(['c', 'x', 'y']), kube), false, 'nodes Kubernetes does not list do not count');
  const two = new Set(['a', 'b']);
  assert.equal(hasQuorum(new Set(['a']), two), true, 'the half with the first node');
  assert.equal(hasQuorum(new Set(['b']), two), false, 'the other half');
  assert.equal(hasQuorum(new Set(['a']), new Set()), false);
});

test('patch with gossip: a SIGKILLed node (gone from gossip, still Ready in Kubernetes) loses its key to the janitor', () => {
  const kubernetes = new Set(['a', 'b', 'c']);
  const current = { [announceAnnotationKey('a')]: 'announcing layer2 on eth0' };
  // b and c see a dead: b (first of their view) removes a's key and writes its own where it now owns the Service.
  assert.deepEqual(announcementPatch({ current, myNode: 'b', mine: L2_ETH0, alive: new Set(['b', 'c']), kubernetes }),
    { [announceAnnotationKey('b')]: 'announcing layer2 on eth0', [announceAnnotationKey('a')]: null });
  assert.equal(announcementPatch({ current, myNode: 'c', mine: undefined, alive: new Set(['b', 'c']), kubernetes }), undefined);
});

test('patch with gossip: in a split brain only the majority side writes, so no key flaps', () => {
  const kubernetes = new Set(['a', 'b', 'c']);
  const current = { [announceAnnotationKey('a')]: 'announcing layer2 on eth0' };
  // a is cut off and sees itself alone: it would claim the Service and remove b's and c's keys; it writes nothing.
  const withB = { ...current, [announceAnnotationKey('b')]: 'announcing layer2 on eth0' };
  assert.equal(announcementPatch({ current: withB, myNode: 'a', mine: L2_ETH0, alive: new Set(['a']), kubernetes }), undefined);
  assert.equal(announcementPatch({ current: {}, myNode: 'a', mine: L2_ETH0, alive: new Set(['a']), kubernetes }), undefined);
  // the majority removes a's key once; a does not put it back, so the next sync of either side writes nothing.
  assert.deepEqual(announcementPatch({ current: withB, myNode: 'b', mine: L2_ETH0, alive: new Set(['b', 'c']), kubernetes }), { [announceAnnotationKey('a')]: null });
  const after = { [announceAnnotationKey('b')]: 'announcing layer2 on eth0' };
  assert.equal(announcementPatch({ current: after, myNode: 'b', mine: L2_ETH0, alive: new Set(['b', 'c']), kubernetes }), undefined);
  assert.equal(announcementPatch({ current: after, myNode: 'a', mine: L2_ETH0, alive: new Set(['a']), kubernetes }), undefined);
});

test('interfaces: those whose subnet holds an IP, loopback left out, sorted', () => {
  const ifs = {
    lo: [{ cidr: '127.0.0.1/8', internal: true }],
    eth1: [{ cidr: '198.51.100.2/24', internal: false }, { cidr: '2001:db8::2/64', internal: false }],
    eth0: [{ cidr: '192.0.2.11/24', internal: false }],
  };
  assert.deepEqual(interfacesHolding(['192.0.2.100'], ifs), ['eth0']);
  assert.deepEqual(interfacesHolding(['192.0.2.100', '2001:db8::100'], ifs), ['eth0', 'eth1']);
  assert.deepEqual(interfacesHolding(['203.0.113.1'], ifs), []);
  assert.deepEqual(interfacesHolding(['127.0.0.9'], ifs), []);
});

const lbService = (policy?: string): ServiceObject => ({
  metadata: { namespace: 'ns', name: 's' },
  spec: { type: 'LoadBalancer', ...(policy ? { externalTrafficPolicy: policy } : {}) },
  status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } },
});
const slices = (nodes: string[]) => endpointsFromSlices([{
  metadata: { namespace: 'ns', name: 's-1', labels: { 'kubernetes.io/service-name': 's' } },
  endpoints: nodes.map((n, i) => ({ addresses: [`10.0.0.${i + 1}`], nodeName: n, conditions: { ready: true } })),
}]);

test('entry per sync result: announcing, the Service-wide reasons, and nothing for a mere non-owner', () => {
  const base: AnnouncementInput = {
    service: lbService(), announced: undefined, skipped: undefined, endpoints: slices(['a']), alive: new Set(['a', 'b']),
    configStale: false, interfacesFor: () => ['eth0'],
  };
  assert.deepEqual(nodeAnnouncementFor({ ...base, announced: { protocol: 'layer2', ips: ['192.0.2.1'], pool: 'p' } }), L2_ETH0);
  assert.equal(nodeAnnouncementFor({ ...base, skipped: 'notOwner' }), undefined);
  // BGP: every announcing node says to which peers (its sessions), not on which interface.
  assert.deepEqual(nodeAnnouncementFor({ ...base, announced: { protocol: 'bgp', ips: ['198.51.100.1'], pool: 'b' }, peers: () => ['[2001:db8::1]:179', '192.0.2.1:179'] }),
    { kind: 'announcing', protocol: 'bgp', interfaces: [], peers: ['192.0.2.1:179', '[2001:db8::1]:179'] });
  assert.deepEqual(nodeAnnouncementFor({ ...base, skipped: 'notOwner', endpoints: slices([]) }), { kind: 'notAnnouncing', reason: 'noEndpoints' });
  assert.deepEqual(nodeAnnouncementFor({ ...base, service: lbService('Local'), skipped: 'notOwner', endpoints: slices(['gone']) }), { kind: 'notAnnouncing', reason: 'noEligibleNode' });
  assert.deepEqual(nodeAnnouncementFor({ ...base, skipped: 'serviceDeleted', endpoints: NO_ENDPOINTS }), { kind: 'notAnnouncing', reason: 'noEndpoints' });
  assert.deepEqual(nodeAnnouncementFor({ ...base, skipped: 'ipNotAllowed' }), { kind: 'notAnnouncing', reason: 'noPool' });
  assert.deepEqual(nodeAnnouncementFor({ ...base, skipped: 'ipNotAllowed', configStale: true }), { kind: 'notAnnouncing', reason: 'staleConfig' });
  assert.deepEqual(nodeAnnouncementFor({ ...base, skipped: 'protocolNotImplemented' }), { kind: 'notAnnouncing', reason: 'protocolNotImplemented' });
  assert.equal(nodeAnnouncementFor({ ...base, skipped: 'noLocalEndpoints' }), undefined);
  assert.equal(nodeAnnouncementFor({ ...base, skipped: 'noIPAllocated', service: { ...lbService(), status: {} } }), undefined);
  assert.equal(nodeAnnouncementFor({ ...base, skipped: 'notLoadBalancer', service: { ...lbService(), spec: { type: 'ClusterIP' } } }), undefined);
  assert.equal(nodeAnnouncementFor({ ...base, service: undefined, skipped: 'serviceDeleted' }), undefined);
});
