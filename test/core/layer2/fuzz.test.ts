/**
 * Seeded fuzz of the responders: 10,000 frames, each a seed frame (ARP requests and replies, Neighbor
 * Solicitations with and without SLLA, other ICMPv6, IPv4, our own frames) with 1–3 mutations (bit flips,
 * byte stores, truncation, extension, a recomputed ICMPv6 checksum so mutations reach past the checksum
 * check). Each frame must be answered correctly (checked against the request by an independent reading of
 * RFC 826 / RFC 4861 here) or dropped with one of the known reasons; nothing may throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prng } from '../../helpers/prng.js';
import {
  ARP_REQUEST, ARP_REPLY, DROP_REASONS, answerFrame, encodeArpFrame, gratuitousFrames, ipBytes, ipv6UpperChecksum, parseMac,
  BROADCAST_MAC, type DropReason,
} from '../../../src/core/layer2/index.js';
import { buildNs } from '../../helpers/ndp-frames.js';

const SEED = Number(process.env['METALLB_TS_FUZZ_SEED'] ?? 0x12c9);
const MAC = parseMac('02:00:00:00:00:12')!;
const PEER = parseMac('02:00:00:00:00:50')!;
const OWNED = new Set(['192.0.2.100', '2001:db8::100']);
const owns = (ip: string) => OWNED.has(ip);

function seeds(): Buffer[] {
  const arp = (op: number, dst: Buffer, target: string, src = PEER) => encodeArpFrame({
    ethDst: dst, ethSrc: src, op, senderMac: src, senderIp: ipBytes('192.0.2.50')!, targetMac: Buffer.alloc(6), targetIp: ipBytes(target)!,
  });
  const echo = buildNs({ src: '2001:db8::50', target: '2001:db8::100', slla: PEER, dst: '2001:db8::12' });
  echo[54] = 128; echo.writeUInt16BE(0, 56);
  echo.writeUInt16BE(ipv6UpperChecksum(echo.subarray(22, 38), echo.subarray(38, 54), 58, echo.subarray(54)), 56);
  const ipv4 = Buffer.alloc(60); MAC.copy(ipv4, 0); PEER.copy(ipv4, 6); ipv4.writeUInt16BE(0x0800, 12);
  return [
    arp(ARP_REQUEST, BROADCAST_MAC, '192.0.2.100'), arp(ARP_REQUEST, MAC, '192.0.2.100'), arp(ARP_REQUEST, BROADCAST_MAC, '192.0.2.101'),
    arp(ARP_REPLY, MAC, '192.0.2.100'), arp(ARP_REQUEST, MAC, '192.0.2.100', MAC), ...gratuitousFrames('192.0.2.100', PEER),
    buildNs({ src: 'fe80::50', target: '2001:db8::100', slla: PEER }), buildNs({ src: '2001:db8::50', target: '2001:db8::100', slla: PEER, dst: '2001:db8::100' }),
    buildNs({ src: 'fe80::50', target: '2001:db8::101', slla: PEER }), buildNs({ src: '::', target: '2001:db8::100', slla: undefined }),
    ...gratuitousFrames('2001:db8::100', PEER), echo, ipv4,
  ];
}

/** Recomputes the ICMPv6 checksum when the frame still looks like Ethernet/IPv6/ICMPv6 with a sane length. */
function fixChecksum(f: Buffer): void {
  if (f.length < 58 || f.readUInt16BE(12) !== 0x86dd || f[20] !== 58) return;
  const len = f.readUInt16BE(18);
  if (54 + len > f.length || len < 4) return;
  const m = f.subarray(54, 54 + len);
  m.writeUInt16BE(0, 2);
  m.writeUInt16BE(ipv6UpperChecksum(f.subarray(22, 38), f.subarray(38, 54), 58, m), 2);
}

function mutate(seed: Buffer, rand: () => number): Buffer {
  let f = Buffer.from(seed);
  const n = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < n; i++) {
    const r = rand();
    const at = Math.floor(rand() * Math.max(1, f.length));
    if (r < 0.4 && f.length > 0) f.writeUInt8(f.readUInt8(at) ^ (1 << Math.floor(rand() * 8)), at);
    else if (r < 0.65 && f.length > 0) f.writeUInt8(Math.floor(rand() * 256), at);
    else if (r < 0.8) f = f.subarray(0, Math.floor(rand() * f.length));
    else f = Buffer.concat([f, Buffer.from(Array.from({ length: Math.floor(rand() * 24) }, () => Math.floor(rand() * 256)))]);
  }
  if (rand() < 0.6) fixChecksum(f);
  return f;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Independent check of an ARP answer against its request. */
function checkArpReply(req: Buffer, reply: Buffer, ip: string): void {
  assert.equal(req.readUInt16BE(20), ARP_REQUEST);
  assert.ok(hex(req.subarray(0, 6)) === hex(BROADCAST_MAC) || hex(req.subarray(0, 6)) === hex(MAC));
  assert.equal([...req.subarray(38, 42)].join('.'), ip);
  assert.ok(owns(ip));
  const expected = Buffer.concat([req.subarray(22, 28), MAC, Buffer.from('0806000108000604', 'hex'), Buffer.from([0, 2]),
    MAC, req.subarray(38, 42), req.subarray(22, 28), req.subarray(28, 32)]);
  assert.equal(hex(reply), hex(expected));
}

/** Independent check of an NA against the NS it answers. */
function checkNa(req: Buffer, reply: Buffer, ip: string): void {
  assert.ok(owns(ip));
  assert.equal(req[54], 135);
  assert.equal(req[21], 255);
  const target = req.subarray(62, 78);
  assert.equal(hex(target), hex(ipBytes(ip)!));
  assert.equal(reply.length, 86);
  assert.equal(hex(reply.subarray(6, 12)), hex(MAC));
  assert.equal(hex(reply.subarray(22, 38)), hex(target), 'IPv6 source is the target');
  assert.equal(hex(reply.subarray(38, 54)), hex(req.subarray(22, 38)), 'IPv6 destination is the solicitor');
  assert.equal(reply[21], 255);
  assert.equal(reply[54], 136);
  assert.equal(reply[58], 0x60, 'Solicited and Override');
  assert.equal(hex(reply.subarray(62, 78)), hex(target));
  assert.equal(hex(reply.subarray(78, 86)), '0201' + hex(MAC));
  assert.equal(ipv6UpperChecksum(reply.subarray(22, 38), reply.subarray(38, 54), 58, reply.subarray(54)), 0);
  // The NA goes to the SLLA the NS carried.
  let slla: string | undefined;
  for (let o = 78; o + 8 <= 54 + req.readUInt16BE(18); o += req[o + 1]! * 8) {
    if (req[o + 1] === 0) break;
    if (req[o] === 1) { slla = hex(req.subarray(o + 2, o + 8)); }
  }
  assert.equal(hex(reply.subarray(0, 6)), slla);
}

test(`fuzz: 10,000 mutated frames are answered correctly or dropped with a counted reason (seed ${SEED})`, () => {
  const rand = prng(SEED);
  const base = seeds();
  const counts = new Map<string, number>();
  for (let i = 0; i < 10_000; i++) {
    const s = base[Math.floor(rand() * base.length)]!;
    const frame = rand() < 0.1 ? Buffer.from(s) : mutate(s, rand);
    const copy = Buffer.from(frame);
    const out = answerFrame(frame, MAC, owns);
    assert.equal(hex(frame), hex(copy), 'the input frame is not modified');
    if (out.kind === 'reply') {
      counts.set(`reply:${out.protocol}`, (counts.get(`reply:${out.protocol}`) ?? 0) + 1);
      try {
        if (out.protocol === 'arp') checkArpReply(frame, out.frame, out.ip); else checkNa(frame, out.frame, out.ip);
      } catch (err) {
        assert.fail(`frame #${i} ${hex(frame)} answered wrongly: ${(err as Error).message}`);
      }
    } else {
      assert.ok(DROP_REASONS.includes(out.reason), `unknown reason ${out.reason}`);
      counts.set(out.reason, (counts.get(out.reason) ?? 0) + 1);
    }
  }
  console.log(JSON.stringify(Object.fromEntries([...counts].sort())));
  // The fuzz must reach every outcome, or it proves little.
  const outcomes: Array<DropReason | 'reply:arp' | 'reply:ndp'> = [...DROP_REASONS, 'reply:arp', 'reply:ndp'];
  for (const o of outcomes) assert.ok((counts.get(o) ?? 0) > 0, `no frame ended as ${o}`);
});
