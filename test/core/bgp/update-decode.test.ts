/**
 * Received UPDATEs under RFC 7606: which malformations reset the session (a NOTIFICATION 3/x), which are
 * treat-as-withdraw, which discard one attribute, each row citing its section.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, type UpdateDecodeContext } from '../../../src/core/bgp/index.js';

const MARKER = 'ff'.repeat(16);
/** An UPDATE frame from hex fields. */
function upd(attrs: string, nlri = '', withdrawn = ''): Buffer {
  const body = Buffer.from(
    (withdrawn.length / 2).toString(16).padStart(4, '0') + withdrawn + (attrs.length / 2).toString(16).padStart(4, '0') + attrs + nlri,
    'hex',
  );
  return Buffer.concat([Buffer.from(`${MARKER}${(19 + body.length).toString(16).padStart(4, '0')}02`, 'hex'), body]);
}

const ORIGIN = '40010102';
const AS_PATH = '400206020100000001'; // AS_SEQUENCE [1], 4-octet
const NEXT_HOP = '400304c0000201';
const GOOD = ORIGIN + AS_PATH + NEXT_HOP;
const NLRI = '18cb0071'; // 203.0.113.0/24
const EBGP: UpdateDecodeContext = { fourOctetAs: true, ibgp: false };
const IBGP: UpdateDecodeContext = { fourOctetAs: true, ibgp: true };

type Want = { reset: [number, number] } | { withdraw: RegExp } | { discard: RegExp } | 'ok';
const cases: { desc: string; frame: Buffer; ctx?: UpdateDecodeContext; want: Want }[] = [
  { desc: 'well-formed', frame: upd(GOOD, NLRI), want: 'ok' },
  { desc: '§7.1 ORIGIN value 3', frame: upd('40010103' + AS_PATH + NEXT_HOP, NLRI), want: { withdraw: /ORIGIN/ } },
  { desc: '§7.1 ORIGIN length 2', frame: upd('4001020200' + AS_PATH + NEXT_HOP, NLRI), want: { withdraw: /ORIGIN/ } },
  { desc: '§7.2 AS_PATH segment count 0', frame: upd(ORIGIN + '4002020200' + NEXT_HOP, NLRI), want: { withdraw: /AS_PATH/ } },
  { desc: '§7.2 AS_PATH segment overrun', frame: upd(ORIGIN + '400206020200000001' + NEXT_HOP, NLRI), want: { withdraw: /AS_PATH/ } },
  { desc: '§7.2 confederation segment from an external peer', frame: upd(ORIGIN + '400206030100000001' + NEXT_HOP, NLRI), want: { withdraw: /confederation/ } },
  { desc: '§7.3 NEXT_HOP length 5', frame: upd(ORIGIN + AS_PATH + '400305c000020100', NLRI), want: { withdraw: /NEXT_HOP/ } },
  { desc: '§3(d) missing NEXT_HOP with IPv4 NLRI', frame: upd(ORIGIN + AS_PATH, NLRI), want: { withdraw: /missing NEXT_HOP/ } },
  { desc: '§3(d) missing ORIGIN', frame: upd(AS_PATH + NEXT_HOP, NLRI), want: { withdraw: /missing ORIGIN/ } },
  { desc: 'missing attributes are fine without NLRI (withdraw only)', frame: upd('', '', NLRI), want: 'ok' },
  { desc: '§7.4 MED length 2', frame: upd(GOOD + '8004020001', NLRI), want: { withdraw: /MULTI_EXIT_DISC/ } },
  { desc: '§7.5 LOCAL_PREF from an external peer is discarded', frame: upd(GOOD + '40050400000064', NLRI), want: { discard: /LOCAL_PREF/ } },
  { desc: '§7.5 LOCAL_PREF length 3 from an internal peer', frame: upd(GOOD + '400503000064', NLRI), ctx: IBGP, want: { withdraw: /LOCAL_PREF/ } },
  { desc: '§7.6 ATOMIC_AGGREGATE length 1 is discarded', frame: upd(GOOD + '40060100', NLRI), want: { discard: /ATOMIC_AGGREGATE/ } },
  { desc: '§7.7 AGGREGATOR length 6 on a 4-octet session is discarded', frame: upd(GOOD + 'c007060001c0000201', NLRI), want: { discard: /AGGREGATOR/ } },
  { desc: '§7.8 COMMUNITIES length 3', frame: upd(GOOD + 'c00803000001', NLRI), want: { withdraw: /COMMUNITIES/ } },
  { desc: '§3(c) COMMUNITIES without the optional bit', frame: upd(GOOD + '40080400000001', NLRI), want: { withdraw: /flags/ } },
  { desc: '§7.14 EXTENDED_COMMUNITIES length 4', frame: upd(GOOD + 'c0100400000001', NLRI), want: { withdraw: /EXTENDED/ } },
  { desc: 'RFC 6793 §6 malformed AS4_PATH is discarded', frame: upd(ORIGIN + '40020402010001' + NEXT_HOP + 'c01103020100', NLRI), ctx: { fourOctetAs: false, ibgp: false }, want: { discard: /AS4_PATH/ } },
  { desc: '§3(g) a repeated attribute: all but the first discarded', frame: upd(GOOD + '40010100', NLRI), want: { discard: /repeated attribute 1/ } },
  { desc: '§3(g) MP_REACH_NLRI twice resets (3/1)', frame: upd(GOOD + '800f03000201' + '800f03000201'), want: { reset: [3, 1] } },
  { desc: '§4 an attribute overrunning the attribute field: treat-as-withdraw', frame: upd(GOOD + 'c00808000000', NLRI), want: { withdraw: /overruns/ } },
  { desc: 'Total Path Attribute Length beyond the message: 3/1', frame: Buffer.from(`${MARKER}001b02000000ff40010102`, 'hex'), want: { reset: [3, 1] } },
  { desc: 'Withdrawn Routes Length beyond the message: 3/1', frame: Buffer.from(`${MARKER}00170200100000`, 'hex'), want: { reset: [3, 1] } },
  { desc: '§5.3 NLRI prefix length 33: 3/10', frame: upd(GOOD, '21cb007101ff'), want: { reset: [3, 10] } },
  { desc: '§5.3 NLRI prefix overrunning the message: 3/10', frame: upd(GOOD, '18cb00'), want: { reset: [3, 10] } },
  { desc: '§7.11 MP_REACH_NLRI with a 4-octet next hop for IPv6: 3/9', frame: upd('800e0900020104c000020100' + '00' + ORIGIN + AS_PATH), want: { reset: [3, 9] } },
  { desc: 'an unrecognized well-known attribute: 3/2', frame: upd(GOOD + '40630100', NLRI), want: { reset: [3, 2] } },
  { desc: 'an unknown optional attribute is ignored', frame: upd(GOOD + 'c0630100', NLRI), want: 'ok' },
  { desc: 'MP_REACH for an AFI/SAFI we do not carry is kept opaque', frame: upd('800e110001800c' + '00'.repeat(13)), want: 'ok' },
];

test('RFC 7606 handling of malformed UPDATEs', () => {
  for (const c of cases) {
    const r = decodeMessage(c.frame, c.ctx ?? EBGP);
    if (typeof c.want === 'object' && 'reset' in c.want) {
      assert.ok(!r.ok, `${c.desc}: expected a session reset`);
      assert.deepEqual([r.error.code, r.error.subcode], c.want.reset, c.desc);
      continue;
    }
    assert.ok(r.ok, `${c.desc}: ${r.ok ? '' : r.error.reason}`);
    assert.ok(r.value.type === 'update', c.desc);
    const u = r.value;
    if (c.want === 'ok') {
      assert.equal(u.treatAsWithdraw, undefined, c.desc);
      assert.deepEqual(u.discarded, [], c.desc);
    } else if ('withdraw' in c.want) {
      assert.match(u.treatAsWithdraw ?? '', c.want.withdraw, c.desc);
    } else {
      assert.equal(u.treatAsWithdraw, undefined, c.desc);
      assert.ok(u.discarded.some((d) => (c.want as { discard: RegExp }).discard.test(d)), `${c.desc}: ${u.discarded.join('; ')}`);
    }
  }
});

test('the unrecognized well-known attribute is echoed as NOTIFICATION data', () => {
  const r = decodeMessage(upd(GOOD + '40630100', NLRI), EBGP);
  assert.ok(!r.ok);
  assert.equal(r.error.data.toString('hex'), '40630100');
});
