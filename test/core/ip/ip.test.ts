/** IP math: Go-canonical parse/format, prefix math, range summarisation, and big pools at /29 cost. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addToIp, cidrContains, cidrLast, cidrSize, cidrsOverlap, compareIp, formatCidr, formatIp, indexInCidr,
  makeCidr, nthAddress, parseCidr, parseIp, rangeToCidrs,
} from '../../../src/core/ip/index.js';

const ip = (s: string) => {
  const parsed = parseIp(s);
  assert.ok(parsed, `parseIp(${s})`);
  return parsed;
};
const cidr = (s: string) => {
  const parsed = parseCidr(s);
  assert.ok(parsed, `parseCidr(${s})`);
  return parsed;
};

test('parseIp/formatIp: Go net.ParseIP acceptance and net.IP.String() forms', () => {
  const cases: { input: string; want: string | undefined }[] = [
    { input: '1.2.3.4', want: '1.2.3.4' },
    { input: '0.0.0.0', want: '0.0.0.0' },
    { input: '255.255.255.255', want: '255.255.255.255' },
    { input: '256.1.1.1', want: undefined },
    { input: '1.2.3', want: undefined },
    { input: '1.2.3.4.5', want: undefined },
    { input: '01.2.3.4', want: undefined },
    { input: ' 1.2.3.4', want: undefined },
    { input: '', want: undefined },
    { input: '2001:DB8::1', want: '2001:db8::1' },
    { input: '2001:db8:0:0:1:0:0:1', want: '2001:db8::1:0:0:1' },
    { input: '2001:0:0:1:0:0:0:1', want: '2001:0:0:1::1' },
    { input: '1:0:2:3:4:5:6:7', want: '1:0:2:3:4:5:6:7' },
    { input: '::', want: '::' },
    { input: '::1', want: '::1' },
    { input: '1::', want: '1::' },
    { input: '::ffff:1.2.3.4', want: '1.2.3.4' },
    { input: '::1.2.3.4', want: '::102:304' },
    { input: '1:2:3:4:5:6:1.2.3.4', want: '1:2:3:4:5:6:102:304' },
    { input: '1.2.3.4::', want: undefined },
    { input: '1::2::3', want: undefined },
    { input: '1:2:3:4:5:6:7:8:9', want: undefined },
    { input: '1:2:3:4:5:6:7:8::', want: undefined },
    { input: 'fe80::1%eth0', want: undefined },
    { input: '12345::', want: undefined },
  ];
  for (const c of cases) {
    const parsed = parseIp(c.input);
    assert.equal(parsed ? formatIp(parsed) : undefined, c.want, c.input);
  }
});

test('parseCidr/formatCidr: host bits masked, bad lengths rejected', () => {
  const cases: { input: string; want: string | undefined }[] = [
    { input: '10.20.30.40/24', want: '10.20.30.0/24' },
    { input: '10.0.0.0/8', want: '10.0.0.0/8' },
    { input: '0.0.0.0/0', want: '0.0.0.0/0' },
    { input: '1.2.3.4/32', want: '1.2.3.4/32' },
    { input: '1.2.3.0/33', want: undefined },
    { input: '100.200.300.400/24', want: undefined },
    { input: '1.2.3.4', want: undefined },
    { input: '1.2.3.4/', want: undefined },
    { input: '1.2.3.4/-1', want: undefined },
    { input: '2001:db8::1/64', want: '2001:db8::/64' },
    { input: '2001:db8::/129', want: undefined },
    { input: '::/0', want: '::/0' },
  ];
  for (const c of cases) {
    const parsed = parseCidr(c.input);
    assert.equal(parsed ? formatCidr(parsed) : undefined, c.want, c.input);
  }
});

test('prefix math: size, containment, overlap, n-th address and its inverse', () => {
  const net = cidr('192.168.10.0/24');
  assert.equal(cidrSize(net), 256n);
  assert.equal(formatIp(cidrLast(net)), '192.168.10.255');
  assert.equal(cidrContains(net, ip('192.168.10.77')), true);
  assert.equal(cidrContains(net, ip('192.168.11.0')), false);
  assert.equal(cidrContains(net, ip('::ffff:192.168.10.1')), true, 'IPv4-mapped is IPv4');
  assert.equal(cidrContains(cidr('::/0'), ip('1.2.3.4')), false, 'families never mix');
  const overlaps: [string, string, boolean][] = [
    ['10.0.0.0/8', '10.1.0.0/16', true],
    ['10.1.0.0/16', '10.0.0.0/8', true],
    ['10.0.0.0/24', '10.0.0.0/24', true],
    ['10.0.0.0/25', '10.0.0.128/25', false],
    ['0.0.0.0/0', '::/0', false],
  ];
  for (const [a, b, want] of overlaps) assert.equal(cidrsOverlap(cidr(a), cidr(b)), want, `${a} ~ ${b}`);
  assert.equal(formatIp(nthAddress(net, 5n)!), '192.168.10.5');
  assert.equal(nthAddress(net, 256n), undefined);
  assert.equal(nthAddress(net, -1n), undefined);
  assert.equal(indexInCidr(net, ip('192.168.10.200')), 200n);
  assert.equal(indexInCidr(net, ip('192.168.9.200')), undefined);
  assert.equal(formatCidr(makeCidr(ip('10.1.2.3'), 16)), '10.1.0.0/16');
  assert.equal(formatIp(addToIp(ip('1.2.3.255'), 1n)!), '1.2.4.0');
  assert.equal(addToIp(ip('255.255.255.255'), 1n), undefined);
  assert.equal(addToIp(ip('0.0.0.0'), -1n), undefined);
  assert.ok(compareIp(ip('1.2.3.4'), ip('::1')) < 0, 'IPv4 sorts first');
  assert.ok(compareIp(ip('10.0.0.2'), ip('10.0.0.10')) < 0, 'numeric, not textual');
});

test('rangeToCidrs: minimal ascending prefix cover', () => {
  const cases: { first: string; last: string; want: string[] }[] = [
    { first: '40.0.0.150', last: '40.0.0.200', want: ['40.0.0.150/31', '40.0.0.152/29', '40.0.0.160/27', '40.0.0.192/29', '40.0.0.200/32'] },
    { first: '192.168.1.240', last: '192.168.1.250', want: ['192.168.1.240/29', '192.168.1.248/31', '192.168.1.250/32'] },
    { first: '10.0.0.5', last: '10.0.0.5', want: ['10.0.0.5/32'] },
    { first: '0.0.0.0', last: '255.255.255.255', want: ['0.0.0.0/0'] },
    { first: '10.0.0.0', last: '10.255.255.255', want: ['10.0.0.0/8'] },
    { first: '2001:db8::100', last: '2001:db8::1ff', want: ['2001:db8::100/120'] },
    { first: '2001:db8::1', last: '2001:db8::4', want: ['2001:db8::1/128', '2001:db8::2/127', '2001:db8::4/128'] },
    { first: '::', last: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', want: ['::/0'] },
    { first: '::5', last: '1.2.3.4', want: [] },
    { first: '10.0.0.9', last: '10.0.0.1', want: [] },
  ];
  for (const c of cases) assert.deepEqual(rangeToCidrs(ip(c.first), ip(c.last)).map(formatCidr), c.want, `${c.first}-${c.last}`);
});

test('big pools cost what small ones do: /8 and IPv6 /64 answered exactly without walking addresses', () => {
  const v4 = cidr('10.0.0.0/8');
  assert.equal(cidrSize(v4), 16_777_216n);
  assert.equal(formatIp(nthAddress(v4, 16_777_215n)!), '10.255.255.255');
  const v6 = cidr('2001:db8:ffff::/64');
  assert.equal(cidrSize(v6), 2n ** 64n);
  assert.equal(formatIp(nthAddress(v6, 2n ** 63n)!), '2001:db8:ffff:0:8000::');
  assert.equal(indexInCidr(v6, ip('2001:db8:ffff:0:ffff:ffff:ffff:ffff')), 2n ** 64n - 1n);
  // A range spanning almost a whole /64 summarises to ~2*64 prefixes, not 2^64 steps.
  const pieces = rangeToCidrs(ip('2001:db8:ffff::1'), ip('2001:db8:ffff:0:ffff:ffff:ffff:fffe'));
  assert.equal(pieces.length, 126);
  assert.equal(pieces.reduce((sum, p) => sum + cidrSize(p), 0n), 2n ** 64n - 2n);
});
