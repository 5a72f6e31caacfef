// The speaker's environment checks (issue 13 §3), pure: the strict-ARP rule as kube-proxy and the kernel define it,
// memberlist bind and reachability, announce interfaces, silent BGP peers, and the tracker that reports each
// finding once while it holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FindingTracker, checkAnnounceInterfaces, checkBgpPeers, checkMemberlistBind, checkMemberlistReachable, checkStrictArp,
  type ArpSysctls, type Finding, type StrictArpInput,
} from '../../../src/core/speaker/env-checks.js';

const KERNEL_DEFAULT: ArpSysctls = { arpIgnore: 0, arpAnnounce: 0 };
const STRICT: ArpSysctls = { arpIgnore: 1, arpAnnounce: 2 };

function ipvsNode(all: ArpSysctls, eth0: ArpSysctls = KERNEL_DEFAULT, withIpvs = true): StrictArpInput {
  return {
    interfaces: ['eth0', ...(withIpvs ? ['kube-ipvs0'] : []), 'lo'],
    arpInterfaces: [{ name: 'eth0', ...eth0 }, ...(withIpvs ? [{ name: 'kube-ipvs0', ...KERNEL_DEFAULT }] : [])],
    all,
  };
}

test('strict ARP: IPVS with the kernel defaults is a finding naming the interface and both values', () => {
  const f = checkStrictArp(ipvsNode(KERNEL_DEFAULT));
  assert.equal(f.length, 1);
  assert.equal(f[0]!.reason, 'StrictARPMissing');
  assert.equal(f[0]!.check, 'strictARP');
  assert.match(f[0]!.message, /eth0 \(arp_ignore 0, arp_announce 0\)/);
  assert.match(f[0]!.message, /strictARP: true/);
  assert.doesNotMatch(f[0]!.message, /kube-ipvs0 \(/, 'kube-ipvs0 itself is not checked');
});

test('strict ARP: kube-proxy strictARP (all: arp_ignore=1, arp_announce=2) passes whatever the interface values', () => {
  assert.deepEqual(checkStrictArp(ipvsNode(STRICT)), []);
});

test('strict ARP: the interface value counts too (max of all and the interface)', () => {
  assert.deepEqual(checkStrictArp(ipvsNode(KERNEL_DEFAULT, STRICT)), []);
  assert.deepEqual(checkStrictArp(ipvsNode({ arpIgnore: 1, arpAnnounce: 0 }, { arpIgnore: 0, arpAnnounce: 2 })), []);
});

test('strict ARP: one value short is enough for a finding, and the message names only that one', () => {
  const ignoreOnly = checkStrictArp(ipvsNode({ arpIgnore: 0, arpAnnounce: 2 }));
  assert.match(ignoreOnly[0]!.message, /eth0 \(arp_ignore 0\)/);
  const announceOnly = checkStrictArp(ipvsNode({ arpIgnore: 1, arpAnnounce: 1 }));
  assert.match(announceOnly[0]!.message, /eth0 \(arp_announce 1\)/);
  // arp_ignore 2 (> 1) is stricter still and passes.
  assert.deepEqual(checkStrictArp(ipvsNode({ arpIgnore: 2, arpAnnounce: 2 })), []);
});

test('strict ARP: without kube-ipvs0 (iptables mode, no kube-proxy) nothing is reported', () => {
  assert.deepEqual(checkStrictArp(ipvsNode(KERNEL_DEFAULT, KERNEL_DEFAULT, false)), []);
});

test('strict ARP: an unreadable value counts as the kernel default 0', () => {
  assert.equal(checkStrictArp(ipvsNode({ arpIgnore: undefined, arpAnnounce: 2 })).length, 1);
});

test('memberlist bind: EADDRINUSE is MemberlistPortInUse naming the address; other errors are not this finding', () => {
  const inUse = Object.assign(new Error('bind EADDRINUSE 192.0.2.11:7946'), { code: 'EADDRINUSE' });
  const f = checkMemberlistBind({ error: inUse, addr: '192.0.2.11', port: 7946 });
  assert.equal(f.length, 1);
  assert.equal(f[0]!.reason, 'MemberlistPortInUse');
  assert.match(f[0]!.message, /192\.0\.2\.11:7946/);
  assert.deepEqual(checkMemberlistBind({ error: Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL' }), addr: '192.0.2.11', port: 7946 }), []);
  assert.deepEqual(checkMemberlistBind({ error: undefined, addr: '192.0.2.11', port: 7946 }), []);
});

test('memberlist reachability: a peer missing from gossip for the window is reported, one finding per peer', () => {
  const missing = [{ node: 'node2', sinceMs: 0 }, { node: 'node3', sinceMs: 20_000 }];
  const f = checkMemberlistReachable({ missing, nowMs: 30_000, windowMs: 30_000, port: 7946 });
  assert.deepEqual(f.map((x) => [x.reason, x.subject]), [['MemberlistPortUnreachable', 'node2']]);
  assert.match(f[0]!.message, /node "node2".*port 7946 for 30 s/);
  assert.equal(checkMemberlistReachable({ missing, nowMs: 50_000, windowMs: 30_000, port: 7946 }).length, 2);
  assert.deepEqual(checkMemberlistReachable({ missing: [], nowMs: 50_000, windowMs: 30_000, port: 7946 }), []);
});

test('announce interfaces: a layer2 pool and no ARP/NDP interface is a finding; BGP-only or no config is not', () => {
  const none = [{ name: 'wg0', arp: false, ndp: false }];
  assert.equal(checkAnnounceInterfaces({ layer2InUse: true, interfaces: none })[0]?.reason, 'NoAnnounceInterface');
  assert.equal(checkAnnounceInterfaces({ layer2InUse: true, interfaces: [] }).length, 1);
  assert.deepEqual(checkAnnounceInterfaces({ layer2InUse: false, interfaces: none }), []);
  assert.deepEqual(checkAnnounceInterfaces({ layer2InUse: undefined, interfaces: none }), []);
  assert.deepEqual(checkAnnounceInterfaces({ layer2InUse: true, interfaces: [{ name: 'eth0', arp: false, ndp: true }] }), []);
  assert.deepEqual(checkAnnounceInterfaces({ layer2InUse: true, interfaces: [{ name: 'eth0', arp: true, ndp: false }] }), []);
});

test('BGP: a session never Established for the window is BGPPeerSilent with its last error; an Established one is not', () => {
  const peers = [
    { peer: '192.0.2.1:179', startedAtMs: 0, established: false, lastError: 'connection closed: connect ECONNREFUSED 192.0.2.1:179' },
    { peer: '192.0.2.2:179', startedAtMs: 0, established: true },
    { peer: '192.0.2.3:179', startedAtMs: 10_000, established: false },
  ];
  const f = checkBgpPeers({ peers, nowMs: 30_000, windowMs: 30_000 });
  assert.deepEqual(f.map((x) => [x.reason, x.subject]), [['BGPPeerSilent', '192.0.2.1:179']]);
  assert.match(f[0]!.message, /192\.0\.2\.1:179 has not reached Established in the 30 s since its session started \(last error: connection closed: connect ECONNREFUSED/);
  const passive = checkBgpPeers({ peers: [{ peer: '192.0.2.4:179', startedAtMs: 0, established: false, passive: true }], nowMs: 60_000, windowMs: 30_000 });
  assert.match(passive[0]!.message, /the router must connect to this node/);
});

test('tracker: raised once while it holds (also when its message changes), cleared once; failing flips only on change', () => {
  const t = new FindingTracker();
  const a: Finding = { check: 'bgpPeer', reason: 'BGPPeerSilent', subject: 'p1', message: 'm1' };
  const b: Finding = { check: 'bgpPeer', reason: 'BGPPeerSilent', subject: 'p2', message: 'm2' };
  let c = t.update('bgpPeer', [a]);
  assert.deepEqual([c.raised, c.cleared, [...c.failing]], [[a], [], [['bgpPeer', true]]]);
  c = t.update('bgpPeer', [a]);
  assert.deepEqual([c.raised, c.cleared, [...c.failing]], [[], [], []], 'a holding finding is not raised again');
  c = t.update('bgpPeer', [a, b]);
  assert.deepEqual([c.raised, [...c.failing]], [[b], []]);
  const a2 = { ...a, message: 'm1 longer' };
  c = t.update('bgpPeer', [a2, b]);
  assert.deepEqual([c.raised, c.cleared], [[], []], 'a new last error does not raise the finding again');
  c = t.update('bgpPeer', [b]);
  assert.deepEqual([c.raised, c.cleared, [...c.failing]], [[], [a2], []]);
  c = t.update('bgpPeer', []);
  assert.deepEqual([c.cleared, [...c.failing]], [[b], [['bgpPeer', false]]]);
  c = t.update('strictARP', []);
  assert.deepEqual([c.raised, c.cleared, [...c.failing]], [[], [], []]);
  c = t.update('bgpPeer', [a]);
  assert.deepEqual(c.raised, [a], 'raised again after it cleared');
  assert.deepEqual(t.all(), [a]);
});
