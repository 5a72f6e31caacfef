/**
 * Codec and framer: golden bytes (RFC 4271 §4, RFC 4724 §2-3, RFC 2918 §3, RFC 6793), round trips, the
 * header error table of RFC 4271 §6.1 and the framer fed a stream split at every offset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr, parseIp, type Cidr, type IpAddr } from '../../../src/core/ip/index.js';
import {
  AS_TRANS, BgpFramer, decodeMessage, encodeEndOfRib, encodeKeepalive, encodeNotification, encodeOpen, encodeRouteRefresh,
  encodeUpdate, localOpen, SESSION_TIMING_DEFAULTS, type BgpMessage, type Result,
} from '../../../src/core/bgp/index.js';

const ip = (s: string): IpAddr => parseIp(s)!;
const cidr = (s: string): Cidr => parseCidr(s)!;
const MARKER = 'ff'.repeat(16);
const hex = (b: Buffer) => b.toString('hex');

const config = { localAs: 64512, peerAs: 64513, holdTimeSeconds: 90, families: [4, 6] as const, gracefulRestart: { restartTimeSeconds: 120 }, ...SESSION_TIMING_DEFAULTS };
const open = encodeOpen(localOpen(config, Number(ip('192.0.2.10').value)));
const update = encodeUpdate(
  { type: 'update', withdrawn: [cidr('198.51.100.0/24')], nlri: [cidr('203.0.113.7/32'), cidr('203.0.113.0/25')], attributes: { origin: 2, asPath: [{ type: 2, asns: [64512] }], nextHop: ip('192.0.2.10'), communities: [1, 2] } },
  { fourOctetAs: true },
);
const stream = [open, encodeKeepalive(), update, encodeNotification({ code: 6, subcode: 3 }), encodeRouteRefresh({ family: 6 }), encodeEndOfRib(6)];
const whole = Buffer.concat(stream);

function decodeOk(b: Buffer): BgpMessage {
  const r = decodeMessage(b, { fourOctetAs: true, ibgp: false });
  assert.ok(r.ok, r.ok ? '' : r.error.reason);
  return r.value;
}

function errorOf<T>(r: Result<T>): [number, number, string] {
  assert.ok(!r.ok, 'expected an error');
  return [r.error.code, r.error.subcode, hex(r.error.data)];
}

test('golden bytes: KEEPALIVE, NOTIFICATION, ROUTE-REFRESH, End-of-RIB', () => {
  assert.equal(hex(encodeKeepalive()), `${MARKER}001304`);
  assert.equal(hex(encodeNotification({ code: 6, subcode: 3 })), `${MARKER}0015030603`);
  assert.equal(hex(encodeRouteRefresh({ family: 6 })), `${MARKER}00170500020001`);
  assert.equal(hex(encodeEndOfRib(4)), `${MARKER}00170200000000`);
  // MP_UNREACH_NLRI (flags 0x80, type 15, length 3: AFI 2, SAFI 1) and nothing else.
  assert.equal(hex(encodeEndOfRib(6)), `${MARKER}001d0200000006800f03000201`);
});

test('golden bytes: our OPEN carries MP v4+v6, route refresh, graceful restart (R=0, 120 s, F set) and 4-octet AS', () => {
  assert.equal(
    hex(open),
    `${MARKER}003f0104fc00005ac000020a` + '22' + '0220' + '010400010001' + '010400020001' + '0200' + '400a0078' + '00010180' + '00020180' + '41040000fc00',
  );
  const m = decodeOk(open);
  assert.equal(m.type, 'open');
  if (m.type !== 'open') return;
  assert.deepEqual(m.capabilities.gracefulRestart, { restartState: false, restartTimeSeconds: 120, families: [{ afi: 1, safi: 1, forwardingState: true }, { afi: 2, safi: 1, forwardingState: true }] });
  assert.equal(m.capabilities.fourOctetAs, 64512);
  assert.equal(m.capabilities.routeRefresh, true);
  assert.equal(m.bgpIdentifier, Number(ip('192.0.2.10').value));
});

test('a 4-octet local AS travels as AS_TRANS in My AS and, to an old speaker, as AS_TRANS + AS4_PATH', () => {
  const m = localOpen({ ...config, localAs: 4200000000 }, 1);
  assert.equal(m.myAs, AS_TRANS);
  const u = encodeUpdate({ type: 'update', withdrawn: [], nlri: [cidr('203.0.113.1/32')], attributes: { origin: 2, asPath: [{ type: 2, asns: [4200000000] }], nextHop: ip('192.0.2.1') } }, { fourOctetAs: false });
  // ORIGIN, AS_PATH 02 01 5ba0, NEXT_HOP, AS4_PATH c0 11 06 02 01 fa56ea00, NLRI.
  assert.equal(hex(u), `${MARKER}0037020000001b400101024002040201${'5ba0'}400304c0000201c011060201fa56ea0020cb007101`);
  const back = decodeMessage(u, { fourOctetAs: false, ibgp: false });
  assert.ok(back.ok && back.value.type === 'update');
  assert.deepEqual(back.value.attributes.asPath, [{ type: 2, asns: [AS_TRANS] }]);
  assert.deepEqual(back.value.attributes.as4Path, [{ type: 2, asns: [4200000000] }]);
});

test('UPDATE round trip with IPv4 NLRI, withdrawals and MP_REACH for IPv6 with an IPv6 next hop', () => {
  const m = decodeOk(update);
  assert.ok(m.type === 'update');
  assert.deepEqual(m.nlri, [cidr('203.0.113.7/32'), cidr('203.0.113.0/25')]);
  assert.deepEqual(m.withdrawn, [cidr('198.51.100.0/24')]);
  assert.deepEqual(m.attributes.communities, [1, 2]);
  assert.equal(m.treatAsWithdraw, undefined);
  const v6 = encodeUpdate({ type: 'update', withdrawn: [], nlri: [], attributes: { origin: 2, asPath: [], localPref: 100, mpReach: { afi: 2, safi: 1, nextHops: [ip('2001:db8::10')], nlri: [cidr('2001:db8:1::/48'), cidr('2001:db8:2::1/128')] } } }, { fourOctetAs: true });
  const d = decodeMessage(v6, { fourOctetAs: true, ibgp: true });
  assert.ok(d.ok && d.value.type === 'update');
  assert.deepEqual(d.value.attributes.mpReach, { afi: 2, safi: 1, nextHops: [ip('2001:db8::10')], nlri: [cidr('2001:db8:1::/48'), cidr('2001:db8:2::1/128')] });
  assert.equal(d.value.attributes.localPref, 100);
  // MP_REACH_NLRI is the first attribute (RFC 7606 §5.1).
  assert.equal(v6[23], 0x80);
  assert.equal(v6[24], 14);
});

test('End-of-RIB markers decode as such', () => {
  const v4 = decodeOk(encodeEndOfRib(4));
  const v6 = decodeOk(encodeEndOfRib(6));
  assert.ok(v4.type === 'update' && v6.type === 'update');
  assert.deepEqual(v4.endOfRib, { afi: 1, safi: 1 });
  assert.deepEqual(v6.endOfRib, { afi: 2, safi: 1 });
  const notEor = decodeOk(update);
  assert.ok(notEor.type === 'update' && notEor.endOfRib === undefined);
});

test('header and OPEN errors carry RFC 4271 §6.1/§6.2 code, subcode and data', () => {
  const withType = (type: number, len: number, body = '') => Buffer.from(`${MARKER}${len.toString(16).padStart(4, '0')}${type.toString(16).padStart(2, '0')}${body}`, 'hex');
  assert.deepEqual(errorOf(decodeMessage(withType(9, 19))), [1, 3, '09']);
  assert.deepEqual(errorOf(decodeMessage(withType(4, 20, '00'))), [1, 2, '0014']);
  assert.deepEqual(errorOf(decodeMessage(withType(1, 28, '04fc00005a00000001'))), [1, 2, '001c']);
  assert.deepEqual(errorOf(decodeMessage(withType(3, 20, '06'))), [1, 2, '0014']);
  const bad = Buffer.from(whole.subarray(0, 19));
  bad[3] = 0;
  assert.deepEqual(errorOf(decodeMessage(bad)), [1, 1, '']);
  // Version 3: 2/1 with the largest supported version as data.
  assert.deepEqual(errorOf(decodeMessage(withType(1, 29, '03fc00005a0a00000100'))), [2, 1, '0004']);
  // Optional parameter type 1 (authentication, deprecated): 2/4.
  assert.deepEqual(errorOf(decodeMessage(withType(1, 31, '04fc00005a0a000001020100'))), [2, 4, '']);
  // Capability overrunning its parameter: 2/0.
  assert.deepEqual(errorOf(decodeMessage(withType(1, 33, '04fc00005a0a000001' + '04' + '0202' + '4104'))), [2, 0, '']);
  // ROUTE-REFRESH of 24 octets: 7/1 with the whole message as data (RFC 7313 §5).
  const rr = withType(5, 24, '0001000100');
  assert.deepEqual(errorOf(decodeMessage(rr)), [7, 1, hex(rr)]);
});

test('RFC 9072 extended optional parameters are read', () => {
  // Non-Ext OP Len 255, Non-Ext OP Type 255, Ext length 8, one Capabilities parameter with a 2-octet length.
  const body = '04fc00005a0a000001' + 'ff' + 'ff' + '0009' + '02' + '0006' + '41040000fc00';
  const frame = Buffer.from(`${MARKER}${(19 + body.length / 2).toString(16).padStart(4, '0')}01${body}`, 'hex');
  const m = decodeOk(frame);
  assert.ok(m.type === 'open');
  assert.equal(m.capabilities.fourOctetAs, 64512);
});

function frameAll(chunks: Buffer[]): string[] {
  const f = new BgpFramer();
  const out: string[] = [];
  for (const c of chunks) {
    const r = f.push(c);
    assert.equal(r.error, undefined);
    out.push(...r.frames.map(hex));
  }
  assert.equal(f.buffered, 0);
  return out;
}

test('framer: the stream split at every offset, byte by byte and in one chunk yields the same messages', () => {
  const want = stream.map(hex);
  assert.deepEqual(frameAll([whole]), want);
  for (let cut = 0; cut <= whole.length; cut++) assert.deepEqual(frameAll([whole.subarray(0, cut), whole.subarray(cut)]), want, `split at ${cut}`);
  for (let a = 0; a <= whole.length; a += 7) for (let b = a; b <= whole.length; b += 11) {
    assert.deepEqual(frameAll([whole.subarray(0, a), whole.subarray(a, b), whole.subarray(b)]), want, `split at ${a}, ${b}`);
  }
  assert.deepEqual(frameAll([...whole].map((x) => Buffer.from([x]))), want);
  // Two messages in one chunk, then a partial one completed later.
  assert.deepEqual(frameAll([Buffer.concat([stream[1]!, stream[2]!, stream[0]!.subarray(0, 5)]), stream[0]!.subarray(5)]), [stream[1]!, stream[2]!, stream[0]!].map(hex));
});

test('framer: header errors end the stream with 1/1 or 1/2 and the Length field as data', () => {
  const f1 = new BgpFramer();
  const r1 = f1.push(Buffer.from('ffff00', 'hex'));
  assert.deepEqual([r1.error?.code, r1.error?.subcode], [1, 1]);
  assert.deepEqual(f1.push(whole).frames, [], 'nothing after an error');
  const f2 = new BgpFramer();
  const r2 = f2.push(Buffer.concat([encodeKeepalive(), Buffer.from(`${MARKER}0012`, 'hex')]));
  assert.equal(r2.frames.length, 1, 'messages before the error are still delivered');
  assert.deepEqual([r2.error?.code, r2.error?.subcode, hex(r2.error!.data)], [1, 2, '0012']);
  const r3 = new BgpFramer().push(Buffer.from(`${MARKER}1001`, 'hex'));
  assert.deepEqual([r3.error?.code, r3.error?.subcode, hex(r3.error!.data)], [1, 2, '1001']);
});
