/**
 * Rib-out: the fewest UPDATEs from advertised to desired, grouped by identical attributes, packed within
 * 4096 octets, withdrawals batched, End-of-RIB after the initial send (RFC 4724 §2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCidr, parseCidr, parseIp, type IpAddr } from '../../../src/core/ip/index.js';
import {
  decodeMessage, initialUpdates, planUpdates, refreshUpdates, routeTable, type ReceivedUpdate, type RibOutContext, type Route,
} from '../../../src/core/bgp/index.js';

const ip = (s: string): IpAddr => parseIp(s)!;
const route = (p: string, attributes: Route['attributes'] = {}): Route => ({ prefix: parseCidr(p)!, attributes });
const EBGP: RibOutContext = { localAs: 64512, ibgp: false, fourOctetAs: true, families: [4, 6], nextHops: { 4: ip('192.0.2.10'), 6: ip('2001:db8::10') } };
const IBGP: RibOutContext = { ...EBGP, localAs: 64513, ibgp: true };

function decodeAll(frames: Buffer[], ctx = EBGP): ReceivedUpdate[] {
  return frames.map((f) => {
    assert.ok(f.length <= 4096, `UPDATE of ${f.length} octets`);
    const r = decodeMessage(f, { fourOctetAs: ctx.fourOctetAs, ibgp: ctx.ibgp });
    assert.ok(r.ok && r.value.type === 'update', r.ok ? r.value.type : r.error.reason);
    assert.equal(r.value.treatAsWithdraw, undefined);
    return r.value;
  });
}
const announced = (u: ReceivedUpdate) => [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])].map(formatCidr);
const withdrawn = (u: ReceivedUpdate) => [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])].map(formatCidr);

test('prefixes with identical attributes share one UPDATE; different attributes split', () => {
  const desired = routeTable([route('203.0.113.2/32'), route('203.0.113.1/32'), route('203.0.113.3/32', { communities: [7, 3, 7] })]);
  const plan = planUpdates(new Map(), desired, EBGP);
  const us = decodeAll(plan.frames);
  assert.deepEqual(us.map(announced), [['203.0.113.1/32', '203.0.113.2/32'], ['203.0.113.3/32']]);
  assert.deepEqual(us[1]!.attributes.communities, [3, 7], 'sorted, duplicates dropped');
  assert.deepEqual(us[0]!.attributes.asPath, [{ type: 2, asns: [64512] }]);
  assert.equal(us[0]!.attributes.localPref, undefined, 'no LOCAL_PREF to eBGP');
  assert.equal(us[0]!.attributes.origin, 2);
  assert.equal(plan.advertised.size, 3);
});

test('iBGP: empty AS_PATH and LOCAL_PREF always present (0 when unset, as v0.11)', () => {
  const us = decodeAll(planUpdates(new Map(), routeTable([route('203.0.113.1/32'), route('203.0.113.2/32', { localPref: 50 })]), IBGP).frames, IBGP);
  assert.deepEqual(us.map((u) => [u.attributes.localPref, u.attributes.asPath]), [[0, []], [50, []]]);
});

test('1000 prefixes pack into few UPDATEs of at most 4096 octets, each prefix exactly once', () => {
  const routes = Array.from({ length: 1000 }, (_, i) => route(`10.0.${i >> 8}.${i & 255}/32`));
  const plan = planUpdates(new Map(), routeTable(routes), EBGP);
  const got = decodeAll(plan.frames).flatMap(announced);
  // 4073 octets for attributes + NLRI, 20 of attributes, 5 per /32: 810 prefixes per UPDATE.
  assert.equal(plan.frames.length, 2);
  assert.deepEqual(new Set(got), new Set(routes.map((r) => formatCidr(r.prefix))));
  assert.equal(got.length, 1000);
  const v6 = Array.from({ length: 500 }, (_, i) => route(`2001:db8:${i.toString(16)}::1/128`));
  const p6 = planUpdates(new Map(), routeTable(v6), EBGP);
  // 17 octets per /128: 8500 octets of NLRI need 3 UPDATEs.
  assert.equal(p6.frames.length, 3);
  const u6 = decodeAll(p6.frames);
  assert.equal(u6.flatMap(announced).length, 500);
  assert.deepEqual(u6[0]!.attributes.mpReach?.nextHops, [ip('2001:db8::10')]);
  // Withdrawing all of them: batched too.
  const w = planUpdates(p6.advertised, new Map(), EBGP);
  assert.equal(w.frames.length, 3);
  assert.equal(decodeAll(w.frames).flatMap(withdrawn).length, 500);
});

test('only changes are sent: unchanged nothing, changed re-announced, removed withdrawn in one UPDATE', () => {
  const first = planUpdates(new Map(), routeTable([route('203.0.113.1/32'), route('203.0.113.2/32'), route('203.0.113.3/32'), route('2001:db8::1/128')]), EBGP);
  assert.deepEqual(planUpdates(first.advertised, routeTable([...first.advertised.values()]), EBGP).frames, []);
  const next = routeTable([route('203.0.113.1/32', { communities: [1] }), route('203.0.113.2/32')]);
  const us = decodeAll(planUpdates(first.advertised, next, EBGP).frames);
  assert.deepEqual(us.map((u) => [withdrawn(u), announced(u)]), [
    [['203.0.113.3/32'], []],
    [['2001:db8::1/128'], []],
    [[], ['203.0.113.1/32']],
  ]);
});

test('families the session does not carry, or without a next hop, stay pending', () => {
  const desired = routeTable([route('203.0.113.1/32'), route('2001:db8::1/128')]);
  const v4only = planUpdates(new Map(), desired, { ...EBGP, families: [4] });
  assert.deepEqual(v4only.pending.map((r) => formatCidr(r.prefix)), ['2001:db8::1/128']);
  const noV6NextHop = planUpdates(new Map(), desired, { ...EBGP, nextHops: { 4: ip('192.0.2.10') } });
  assert.deepEqual(noV6NextHop.pending.map((r) => formatCidr(r.prefix)), ['2001:db8::1/128']);
  assert.deepEqual([...noV6NextHop.advertised.keys()], ['203.0.113.1/32']);
});

test('initial send ends with an End-of-RIB per family; a route refresh resends one family', () => {
  const desired = routeTable([route('203.0.113.1/32'), route('2001:db8::1/128')]);
  const plan = initialUpdates(desired, EBGP);
  const us = decodeAll(plan.frames);
  assert.deepEqual(us.map((u) => u.endOfRib ?? null), [null, null, { afi: 1, safi: 1 }, { afi: 2, safi: 1 }]);
  const empty = decodeAll(initialUpdates(new Map(), { ...EBGP, families: [6] }).frames);
  assert.deepEqual(empty.map((u) => u.endOfRib), [{ afi: 2, safi: 1 }]);
  assert.deepEqual(decodeAll(refreshUpdates(plan.advertised, 6, EBGP)).map(announced), [['2001:db8::1/128']]);
});
