/** BFD Control packet codec (RFC 5880 §4.1) and the stateless §6.8.6 checks: golden bytes, drops, fuzz. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BfdDiag, DROP_REASONS, countDrop, decodeControlPacket, diagName, emptyDropCounts, encodeControlPacket,
  type BfdControlPacketFields, type DropCounts,
} from '../../../src/core/bfd/index.js';
import { prng } from '../../helpers/prng.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const downHello: BfdControlPacketFields = {
  diag: BfdDiag.None, state: 'Down', poll: false, final: false, controlPlaneIndependent: false, demand: false,
  detectMult: 3, myDiscriminator: 0x11223344, yourDiscriminator: 0,
  desiredMinTxIntervalUs: 1_000_000, requiredMinRxIntervalUs: 300_000, requiredMinEchoRxIntervalUs: 0,
};
// Vers 1 | Diag 0 = 0x20; State Down (1) << 6 = 0x40; Detect Mult 3; Length 24.
const downHelloBytes = '20 40 03 18  11223344  00000000  000f4240  000493e0  00000000';

test('encode: golden bytes for a Down packet, an Up Poll and a Final with a diagnostic', () => {
  assert.deepEqual(encodeControlPacket(downHello), hex(downHelloBytes));
  const upPoll = { ...downHello, state: 'Up' as const, poll: true, yourDiscriminator: 0xdeadbeef, desiredMinTxIntervalUs: 100_000, requiredMinRxIntervalUs: 100_000 };
  // State Up (3) << 6 | P (0x20) = 0xe0.
  assert.deepEqual(encodeControlPacket(upPoll), hex('20 e0 03 18  11223344  deadbeef  000186a0  000186a0  00000000'));
  const finalDown = { ...downHello, diag: BfdDiag.NeighborSignaledSessionDown, final: true, detectMult: 255, yourDiscriminator: 7 };
  // Vers 1 | Diag 3 = 0x23; Down << 6 | F (0x10) = 0x50.
  assert.deepEqual(encodeControlPacket(finalDown), hex('23 50 ff 18  11223344  00000007  000f4240  000493e0  00000000'));
});

test('encode: the C, A, D and M bits we send are 0 unless asked (C bit is 0: userspace BFD)', () => {
  const bytes = encodeControlPacket(downHello);
  assert.equal(bytes[1]! & 0x0f, 0);
  assert.equal(encodeControlPacket({ ...downHello, controlPlaneIndependent: true })[1]! & 0x08, 0x08);
  assert.equal(encodeControlPacket({ ...downHello, demand: true })[1]! & 0x02, 0x02);
});

test('decode: golden bytes round-trip, every field', () => {
  const r = decodeControlPacket(hex('21 e8 05 18  00000001  00000002  00000003  00000004  00000005'));
  assert.ok(r.ok);
  assert.deepEqual(r.packet, {
    version: 1, diag: BfdDiag.ControlDetectionTimeExpired, state: 'Up', poll: true, final: false, controlPlaneIndependent: true,
    authPresent: false, demand: false, multipoint: false, detectMult: 5, length: 24, myDiscriminator: 1, yourDiscriminator: 2,
    desiredMinTxIntervalUs: 3, requiredMinRxIntervalUs: 4, requiredMinEchoRxIntervalUs: 5,
  });
  const down = decodeControlPacket(encodeControlPacket(downHello));
  assert.ok(down.ok);
  assert.equal(down.packet.state, 'Down');
  assert.equal(down.packet.desiredMinTxIntervalUs, 1_000_000);
  // Bytes past Length (e.g. padding) are ignored; a 4-byte discriminator at 0xffffffff stays unsigned.
  const padded = decodeControlPacket(Buffer.concat([hex('20 40 03 18 ffffffff 00000000 00000000 00000000 00000000'), hex('0000')]));
  assert.ok(padded.ok);
  assert.equal(padded.packet.myDiscriminator, 0xffffffff);
});

test('decode: each §6.8.6 check drops with its own reason', () => {
  const base = () => Buffer.from(encodeControlPacket(downHello));
  const cases: [string, Buffer][] = [];
  cases.push(['truncated', base().subarray(0, 23)]);
  const v2 = base(); v2[0] = 0x40; cases.push(['bad-version', v2]);
  const v0 = base(); v0[0] = 0x00; cases.push(['bad-version', v0]);
  const short = base(); short[3] = 23; cases.push(['bad-length', short]);
  const long = base(); long[3] = 25; cases.push(['length-exceeds-payload', long]);
  const dm0 = base(); dm0[2] = 0; cases.push(['zero-detect-mult', dm0]);
  const m = base(); m[1]! |= 0x01; cases.push(['multipoint', m]);
  const my0 = base(); my0.writeUInt32BE(0, 4); cases.push(['zero-my-discriminator', my0]);
  const upNoYour = base(); upNoYour[1] = 0xc0; cases.push(['zero-your-discriminator-not-down', upNoYour]);
  const initNoYour = base(); initNoYour[1] = 0x80; cases.push(['zero-your-discriminator-not-down', initNoYour]);
  const authShort = base(); authShort[1]! |= 0x04; cases.push(['bad-length', authShort]);
  for (const [reason, bytes] of cases) {
    assert.deepEqual(decodeControlPacket(bytes), { ok: false, reason }, `${reason}: ${bytes.toString('hex')}`);
  }
  const adminNoYour = base(); adminNoYour[1] = 0x00;
  assert.equal(decodeControlPacket(adminNoYour).ok, true, 'AdminDown with Your Discriminator 0 is valid');
});

test('decode: authentication is parsed, then refused (we use none, §6.7/§6.8.6)', () => {
  const withAuth = (type: number, authLen: number, total: number) => {
    const b = Buffer.alloc(total);
    encodeControlPacket(downHello).copy(b);
    b[1]! |= 0x04;
    b[3] = total;
    b[24] = type;
    b[25] = authLen;
    return b;
  };
  assert.deepEqual(decodeControlPacket(withAuth(1, 7, 31)), { ok: false, reason: 'auth-unsupported' }, 'simple password, 4-byte key');
  assert.deepEqual(decodeControlPacket(withAuth(2, 24, 48)), { ok: false, reason: 'auth-unsupported' }, 'keyed MD5');
  assert.deepEqual(decodeControlPacket(withAuth(5, 28, 52)), { ok: false, reason: 'auth-unsupported' }, 'meticulous keyed SHA1');
  assert.deepEqual(decodeControlPacket(withAuth(2, 20, 48)), { ok: false, reason: 'auth-malformed' }, 'MD5 with a wrong Auth Len');
  assert.deepEqual(decodeControlPacket(withAuth(9, 8, 32)), { ok: false, reason: 'auth-malformed' }, 'unknown auth type');
  assert.deepEqual(decodeControlPacket(withAuth(4, 28, 40)), { ok: false, reason: 'auth-malformed' }, 'section longer than Length');
});

test('drop counts: one counter per reason, pure', () => {
  const zero = emptyDropCounts();
  const one = countDrop(zero, 'bad-ttl');
  assert.equal(zero['bad-ttl'], 0);
  assert.equal(one['bad-ttl'], 1);
  assert.deepEqual(Object.keys(one).sort(), [...DROP_REASONS].sort());
  assert.equal(diagName(1), 'ControlDetectionTimeExpired');
  assert.equal(diagName(17), 'Reserved(17)');
});

test('fuzz: 10,000 mutated packets (seed 0x5eed0bfd) are dropped and counted or decoded, never thrown', () => {
  const seed = 0x5eed0bfd;
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const seeds = [
    encodeControlPacket(downHello),
    encodeControlPacket({ ...downHello, state: 'Up', yourDiscriminator: 9, poll: true }),
    Buffer.concat([encodeControlPacket({ ...downHello, state: 'Init', yourDiscriminator: 1 }), hex('0218 01 00'), Buffer.alloc(20)]),
  ];
  let counts: DropCounts = emptyDropCounts();
  let decoded = 0;
  for (let i = 0; i < 10_000; i++) {
    const original = seeds[int(seeds.length)]!;
    let b = Buffer.from(original);
    const mutations = 1 + int(4);
    for (let m = 0; m < mutations; m++) {
      const kind = int(5);
      if (kind === 0) b[int(b.length)] = int(256); // random byte
      else if (kind === 1 && b.length) b[int(b.length)]! ^= 1 << int(8); // bit flip
      else if (kind === 2) b = b.subarray(0, int(b.length + 1)); // truncate
      else if (kind === 3) b = Buffer.concat([b, Buffer.from(Array.from({ length: int(40) }, () => int(256)))]); // extend
      else b[int(4)] = int(256); // header byte: version, diag, state, flags, detect mult, length
    }
    let result;
    try {
      result = decodeControlPacket(b);
    } catch (err) {
      assert.fail(`seed ${seed} packet ${i} threw ${String(err)} on ${b.toString('hex')}`);
    }
    if (result.ok) {
      decoded++;
      const p = result.packet;
      assert.ok(p.version === 1 && p.detectMult > 0 && p.myDiscriminator > 0 && !p.multipoint && !p.authPresent && p.length >= 24 && p.length <= b.length);
      if (p.yourDiscriminator === 0) assert.ok(p.state === 'Down' || p.state === 'AdminDown');
      // Re-encoding the fields gives the packet's first 24 bytes back (C/D/P/F included), Length aside.
      const again = encodeControlPacket(p);
      again[3] = p.length;
      assert.deepEqual(again, b.subarray(0, 24), `seed ${seed} packet ${i}`);
    } else {
      counts = countDrop(counts, result.reason);
    }
  }
  const dropped = Object.values(counts).reduce((a, n) => a + n, 0);
  assert.equal(dropped + decoded, 10_000);
  // The mutations reach the checks: each packet-level reason fires at least once.
  for (const reason of ['truncated', 'bad-version', 'bad-length', 'length-exceeds-payload', 'zero-detect-mult', 'multipoint', 'zero-your-discriminator-not-down', 'auth-malformed'] as const) {
    assert.ok(counts[reason] > 0, `${reason} never hit: ${JSON.stringify(counts)}`);
  }
  assert.ok(decoded > 100 && dropped > 1000, `decoded ${decoded}, dropped ${dropped}`);
});
