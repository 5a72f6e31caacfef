/**
 * The BGP speaker's pure decisions (src/core/speaker/bgp.ts): which sessions to stop (with which Cease subcode)
 * and start when the config or the node's labels change, and the routes for the announced Services.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../src/core/config/parse.js';
import type { Config } from '../../../src/core/config/types.js';
import { formatCidr } from '../../../src/core/ip/index.js';
import { adsFor, ceaseSubcodeFor, desiredRoutes, peerFingerprint, peerKey, planSessions } from '../../../src/core/speaker/bgp.js';

function config(yaml: string): Config {
  const r = parseConfig(yaml);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return r.config;
}

const TWO_PEERS = `
peers:
- peer-address: 192.0.2.1
  peer-asn: 64512
  my-asn: 64513
- peer-address: 2001:db8::1
  peer-asn: 64512
  my-asn: 64513
  peer-port: 1179
  node-selectors:
  - match-labels: {rack: a}
address-pools:
- name: p
  protocol: bgp
  addresses: [198.51.100.0/24, 2001:db8:ffff::/64]
  bgp-advertisements:
  - aggregation-length: 32
    aggregation-length-v6: 128
    localpref: 50
    communities: [64512:2, no-export, 64512:1]
  - aggregation-length: 24
    aggregation-length-v6: 64
bgp-communities:
  no-export: 65535:65281
`;

test('peer keys are JoinHostPort(peer-address, peer-port)', () => {
  const c = config(TWO_PEERS);
  assert.deepEqual(c.peers.map(peerKey), ['192.0.2.1:179', '[2001:db8::1]:1179']);
});

test('sessions start for the peers selecting the node; unknown labels select every peer (v0.11)', () => {
  const c = config(TWO_PEERS);
  assert.deepEqual(planSessions(new Map(), c.peers, undefined).start.map((s) => s.key), ['192.0.2.1:179', '[2001:db8::1]:1179']);
  assert.deepEqual(planSessions(new Map(), c.peers, { rack: 'b' }).start.map((s) => s.key), ['192.0.2.1:179']);
});

test('a label change stops a de-selected session with Cease Peer De-configured and starts a selected one', () => {
  const c = config(TWO_PEERS);
  const running = new Map(planSessions(new Map(), c.peers, { rack: 'a' }).start.map((s) => [s.key, s.fingerprint]));
  const off = planSessions(running, c.peers, { rack: 'b' });
  assert.deepEqual(off.stop, [{ key: '[2001:db8::1]:1179', reason: 'filteredByNodeSelector' }]);
  assert.deepEqual(off.start, []);
  assert.equal(ceaseSubcodeFor('filteredByNodeSelector'), 3);
  assert.deepEqual(planSessions(running, c.peers, { rack: 'a' }), { stop: [], start: [], refused: [] }, 'nothing changes: no reset');
});

test('a changed peer is reset alone (Cease Other Configuration Change); a removed one gets Peer De-configured', () => {
  const c = config(TWO_PEERS);
  const running = new Map(planSessions(new Map(), c.peers, undefined).start.map((s) => [s.key, s.fingerprint]));
  const changed = config(TWO_PEERS.replace('  my-asn: 64513\n- peer-address: 2001', '  my-asn: 64513\n  hold-time: 9s\n- peer-address: 2001'));
  const plan = planSessions(running, changed.peers, undefined);
  assert.deepEqual(plan.stop, [{ key: '192.0.2.1:179', reason: 'peerChanged' }]);
  assert.deepEqual(plan.start.map((s) => s.key), ['192.0.2.1:179']);
  assert.equal(ceaseSubcodeFor('peerChanged'), 6);
  assert.notEqual(peerFingerprint(changed.peers[0]!), peerFingerprint(c.peers[0]!));
  const removed = planSessions(running, changed.peers.slice(1), undefined);
  assert.deepEqual(removed.stop.map((s) => [s.key, s.reason]), [['192.0.2.1:179', 'removedFromConfig']]);
  assert.equal(ceaseSubcodeFor('removedFromConfig'), 3);
});

test('editing only a peer\'s node-selectors never resets a session that stays selected', () => {
  const c = config(TWO_PEERS);
  const running = new Map(planSessions(new Map(), c.peers, { rack: 'a' }).start.map((s) => [s.key, s.fingerprint]));
  const edited = config(TWO_PEERS.replace('  - match-labels: {rack: a}', '  - match-labels: {rack: a}\n  - match-labels: {rack: c}'));
  assert.deepEqual(planSessions(running, edited.peers, { rack: 'a' }), { stop: [], start: [], refused: [] });
});

test('a peer with a bfd-profile starts with its BFD parameters (profile values, MetalLB defaults for the rest)', () => {
  const c = config(TWO_PEERS.replace('  my-asn: 64513\n- peer-address: 2001', '  my-asn: 64513\n  bfd-profile: fast\n- peer-address: 2001')
    + 'bfd-profiles:\n- name: fast\n  receive-interval: 100\n  transmit-interval: 150\n');
  const plan = planSessions(new Map(), c.peers, undefined, c.bfdProfiles);
  assert.deepEqual(plan.refused, []);
  assert.deepEqual(plan.start.map((s) => [s.key, s.bfd]), [
    ['192.0.2.1:179', {
      session: { desiredMinTxIntervalUs: 150_000, requiredMinRxIntervalUs: 100_000, detectMult: 3, passive: false },
      multihop: false, port: 3784, minimumReceivedTtl: 255,
    }],
    ['[2001:db8::1]:1179', undefined],
  ]);
});

test('an ebgp-multihop peer gets multihop BFD (port 4784, the profile\'s minimum-ttl); passive-mode is carried', () => {
  const c = config(TWO_PEERS.replace('  my-asn: 64513\n- peer-address: 2001', '  my-asn: 64513\n  ebgp-multihop: true\n  bfd-profile: mh\n- peer-address: 2001')
    + 'bfd-profiles:\n- name: mh\n  minimum-ttl: 64\n  passive-mode: true\n');
  const bfd = planSessions(new Map(), c.peers, undefined, c.bfdProfiles).start[0]!.bfd!;
  assert.deepEqual([bfd.multihop, bfd.port, bfd.minimumReceivedTtl, bfd.session.passive], [true, 4784, 64, true]);
});

test('a bfd-profile with echo-mode refuses the peer with a clear error; editing the profile restarts its session', () => {
  const withProfile = (body: string) => config(TWO_PEERS.replace('  my-asn: 64513\n- peer-address: 2001', '  my-asn: 64513\n  bfd-profile: fast\n- peer-address: 2001')
    + `bfd-profiles:\n- name: fast\n${body}`);
  const echo = withProfile('  echo-mode: true\n');
  const refused = planSessions(new Map(), echo.peers, undefined, echo.bfdProfiles);
  assert.deepEqual(refused.refused.map((r) => [r.key, r.reason]), [['192.0.2.1:179', 'bfdEchoModeNotSupported']]);
  assert.match(refused.refused[0]!.message, /echo-mode is not supported by the native BGP speaker's BFD; set echo-mode: false/);
  assert.deepEqual(refused.start.map((s) => s.key), ['[2001:db8::1]:1179']);

  const slow = withProfile('  receive-interval: 300\n');
  const running = new Map(planSessions(new Map(), slow.peers, undefined, slow.bfdProfiles).start.map((s) => [s.key, s.fingerprint]));
  const fast = withProfile('  receive-interval: 100\n');
  const plan = planSessions(running, fast.peers, undefined, fast.bfdProfiles);
  assert.deepEqual(plan.stop, [{ key: '192.0.2.1:179', reason: 'peerChanged' }]);
  assert.deepEqual(plan.start.map((s) => s.key), ['192.0.2.1:179']);
  // echo-mode turned on for a running peer stops its session (Cease Peer De-configured).
  const stopped = planSessions(running, echo.peers, undefined, echo.bfdProfiles);
  assert.deepEqual(stopped.stop, [{ key: '192.0.2.1:179', reason: 'bfdEchoModeNotSupported' }]);
});

test('ads: one per (IP, advertisement), masked per family, communities (aliases resolved) sorted', () => {
  const pool = config(TWO_PEERS).pools[0]!;
  const ads = adsFor({ ips: ['198.51.100.7', '2001:db8:ffff::7'] }, pool);
  assert.deepEqual(ads.map((a) => [formatCidr(a.prefix), a.localPref, a.communities]), [
    ['198.51.100.7/32', 50, [0xfc000001, 0xfc000002, 0xffffff01]],
    ['198.51.100.0/24', 0, []],
    ['2001:db8:ffff::7/128', 50, [0xfc000001, 0xfc000002, 0xffffff01]],
    ['2001:db8:ffff::/64', 0, []],
  ]);
});

test('desired routes collapse identical prefixes; the first Service by name wins a conflict', () => {
  const pool = config(TWO_PEERS).pools[0]!;
  const table = desiredRoutes(new Map([
    ['ns/b', adsFor({ ips: ['198.51.100.8'] }, pool)],
    ['ns/a', adsFor({ ips: ['198.51.100.7'] }, { ...pool, bgpAdvertisements: [{ ...pool.bgpAdvertisements[1]!, localPref: 7 }] })],
  ]));
  assert.deepEqual([...table.keys()].sort(), ['198.51.100.0/24', '198.51.100.8/32']);
  assert.equal(table.get('198.51.100.0/24')!.attributes.localPref, 7);
});
