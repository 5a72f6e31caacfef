/**
 * Golden bytes for the layer-2 codecs. The reference frames were captured with tcpdump -xx on this machine
 * between two network namespaces: ndisc6's Neighbor Solicitation and the Linux kernel's Neighbor
 * Advertisement for an address it owns (S=1, O=1, source = target), arping's request and the kernel's ARP
 * reply. Our responder must produce the kernel's answers byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  answerFrame, gratuitousFrames, ipBytes, ipv6UpperChecksum, parseEthernet, parseIpv6, parseMac,
  parseNeighborSolicitation, solicitedNodeGroup, formatMac, NEXT_HEADER_ICMPV6,
} from '../../../src/core/layer2/index.js';
import { buildNs } from '../../helpers/ndp-frames.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const macA = parseMac('02:00:00:00:00:0a')!;
const macB = parseMac('02:00:00:00:00:0b')!;

// ndisc6 on A (fe80::ff:fe00:a) soliciting 2001:db8::b, with an SLLA option.
const NS_FROM_NDISC6 = hex(`3333 ff00 000b 0200 0000 000a 86dd 6008 715e 0020 3aff fe80 0000 0000 0000 0000
  00ff fe00 000a ff02 0000 0000 0000 0000 0001 ff00 000b 8700 4c3b 0000 0000 2001
  0db8 0000 0000 0000 0000 0000 000b 0101 0200 0000 000a`);
// The kernel of B answering it.
const NA_FROM_KERNEL = hex(`0200 0000 000a 0200 0000 000b 86dd 6000 0000 0020 3aff 2001 0db8 0000 0000 0000
  0000 0000 000b fe80 0000 0000 0000 0000 00ff fe00 000a 8800 ba85 6000 0000 2001
  0db8 0000 0000 0000 0000 0000 000b 0201 0200 0000 000b`);
// arping on A (padded to 60 bytes by the sender) and the kernel of B answering.
const ARP_REQUEST_FROM_ARPING = hex(`ffff ffff ffff 0200 0000 000a 0806 0001 0800 0604 0001 0200 0000 000a c000 020a
  0000 0000 0000 c000 020b 0000 0000 0000 0000 0000 0000 0000 0000`);
const ARP_REPLY_FROM_KERNEL = hex(`0200 0000 000a 0200 0000 000b 0806 0001 0800 0604 0002 0200 0000 000b c000 020b
  0200 0000 000a c000 020a`);

test('ARP: the reply to arping is the kernel reply, byte for byte', () => {
  const out = answerFrame(ARP_REQUEST_FROM_ARPING, macB, (ip) => ip === '192.0.2.11');
  assert.equal(out.kind, 'reply');
  if (out.kind !== 'reply') return;
  assert.equal(out.ip, '192.0.2.11');
  assert.equal(out.protocol, 'arp');
  assert.equal(out.frame.toString('hex'), ARP_REPLY_FROM_KERNEL.toString('hex'));
});

test('NDP: the ndisc6 solicitation decodes, its checksum verifies, and our NA is the kernel NA byte for byte', () => {
  const ip6 = parseIpv6(parseEthernet(NS_FROM_NDISC6)!.payload)!;
  assert.equal(ip6.hopLimit, 255);
  assert.equal(ipv6UpperChecksum(ip6.src, ip6.dst, NEXT_HEADER_ICMPV6, ip6.payload), 0);
  const ns = parseNeighborSolicitation(ip6);
  assert.ok(typeof ns === 'object');
  assert.equal(formatMac(ns.sourceLla!), '02:00:00:00:00:0a');
  const out = answerFrame(NS_FROM_NDISC6, macB, (ip) => ip === '2001:db8::b');
  assert.equal(out.kind, 'reply');
  if (out.kind !== 'reply') return;
  assert.equal(out.ip, '2001:db8::b');
  assert.equal(out.frame.toString('hex'), NA_FROM_KERNEL.toString('hex'));
});

test('NDP: a corrupted checksum, a hop limit below 255 and a DAD probe are not answered', () => {
  const owns = () => true;
  const badSum = Buffer.from(NS_FROM_NDISC6); badSum.writeUInt8(badSum.readUInt8(0x3a) ^ 1, 0x3a);
  assert.deepEqual(answerFrame(badSum, macB, owns), { kind: 'drop', reason: 'Malformed' });
  const hop = Buffer.from(NS_FROM_NDISC6); hop[0x15] = 254;
  assert.deepEqual(answerFrame(hop, macB, owns), { kind: 'drop', reason: 'Malformed' });
  // DAD: source ::, destination the solicited-node group, no SLLA option (RFC 4862 §5.4.2).
  const dad = buildNs({ src: '::', target: '2001:db8::b', slla: undefined });
  assert.deepEqual(answerFrame(dad, macB, owns), { kind: 'drop', reason: 'NoSourceLL' });
  const withSlla = buildNs({ src: 'fe80::ff:fe00:a', target: '2001:db8::b', slla: macA });
  assert.equal(answerFrame(withSlla, macB, owns).kind, 'reply');
  assert.deepEqual(answerFrame(withSlla, macB, () => false), { kind: 'drop', reason: 'AnnounceIP', ip: '2001:db8::b' });
  assert.deepEqual(answerFrame(withSlla, macA, owns), { kind: 'drop', reason: 'OwnFrame' });
});

test('gratuitous NA: to ff02::1 from the IP itself, Solicited=0 Override=1, TLLA = interface MAC, checksum valid', () => {
  const [na, ...rest] = gratuitousFrames('2001:db8::100', macB);
  assert.equal(rest.length, 0);
  assert.equal(na!.toString('hex'),
    '333300000001' + '02000000000b' + '86dd' + '6000000000203aff' + '20010db8000000000000000000000100' +
    'ff020000000000000000000000000001' + '8800f722' + '20000000' + '20010db8000000000000000000000100' + '0201' + '02000000000b');
  const ip6 = parseIpv6(parseEthernet(na!)!.payload)!;
  assert.equal(ipv6UpperChecksum(ip6.src, ip6.dst, NEXT_HEADER_ICMPV6, ip6.payload), 0);
});

test('solicited-node groups (RFC 4291 §2.7.1)', () => {
  assert.equal(solicitedNodeGroup('2001:db8::100'), 'ff02::1:ff00:100');
  assert.equal(solicitedNodeGroup('2001:db8::1:2345:6789'), 'ff02::1:ff45:6789');
  assert.equal(solicitedNodeGroup('192.0.2.1'), undefined);
  assert.equal(solicitedNodeGroup('nonsense'), undefined);
});

test('a frame of another EtherType, or too short for its header, is dropped with a reason', () => {
  assert.deepEqual(answerFrame(Buffer.alloc(5), macB, () => true), { kind: 'drop', reason: 'Malformed' });
  const ipv4 = Buffer.from(ARP_REQUEST_FROM_ARPING); ipv4[12] = 0x08; ipv4[13] = 0x00;
  assert.deepEqual(answerFrame(ipv4, macB, () => true), { kind: 'drop', reason: 'EtherType' });
  assert.deepEqual(answerFrame(ARP_REQUEST_FROM_ARPING.subarray(0, 30), macB, () => true), { kind: 'drop', reason: 'Malformed' });
});
