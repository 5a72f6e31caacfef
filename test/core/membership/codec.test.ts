import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBody, encodeBody, messageSize, packetSize } from '../../../src/core/membership/codec.js';
import { decodeFrame, encodeFrame, peekFrame } from '../../../src/core/membership/frame.js';
import { ReplayGuard } from '../../../src/core/membership/replay.js';
import type { Packet } from '../../../src/core/membership/types.js';
import { aesGcm, keyFromSecret } from '../../../src/adapters/membership/crypto.js';

const small: Packet = { sender: 'a', messages: [{ type: 'ack', seq: 258 }, { type: 'ping', seq: 1, target: 'b' }] };
const smallBody = '016102' + '0300000102' + '010000000101' + '62';

const every: Packet = {
  sender: 'node-1',
  messages: [
    { type: 'ping', seq: 4294967295, target: 'node-2' },
    { type: 'ping-req', seq: 7, target: 'node-3', targetAddr: '192.0.2.3:7946' },
    { type: 'ack', seq: 0 },
    { type: 'nack', seq: 9 },
    { type: 'alive', name: 'node-2', incarnation: 3, addr: '[2001:db8::2]:7946', meta: new Uint8Array([1, 2, 3]) },
    { type: 'suspect', name: 'node-3', incarnation: 4, from: 'node-1' },
    { type: 'dead', name: 'node-4', incarnation: 5, from: 'node-4' },
    {
      type: 'push-pull', join: true, reply: false, members: [
        { name: 'node-1', addr: '192.0.2.1:7946', incarnation: 1, status: 'alive', meta: new Uint8Array() },
        { name: 'node-5', addr: '192.0.2.5:7946', incarnation: 2, status: 'left', meta: new Uint8Array([0xff]) },
      ],
    },
  ],
};

test('body golden bytes: an ack and a ping from "a"', () => {
  assert.equal(encodeBody(small).toString('hex'), smallBody);
  assert.deepEqual(decodeBody(Buffer.from(smallBody, 'hex')), { ok: true, packet: small });
});

test('every message type round-trips, and the size helpers agree with the encoder', () => {
  const bytes = encodeBody(every);
  assert.equal(bytes.length, packetSize(every.sender, every.messages));
  for (const m of every.messages) assert.equal(encodeBody({ sender: 'x', messages: [m] }).length, packetSize('x', []) + messageSize(m));
  const back = decodeBody(bytes);
  assert.ok(back.ok);
  assert.deepEqual(back.packet, every);
});

test('body decoding classifies short input as truncated and the rest as malformed', () => {
  const full = encodeBody(every);
  for (let n = 0; n < full.length; n++) {
    const r = decodeBody(full.subarray(0, n));
    assert.equal(r.ok, false, `prefix ${n}`);
    if (!r.ok) assert.equal(r.reason, 'truncated', `prefix ${n}: ${r.detail}`);
  }
  const cases: Array<[string, string]> = [
    ['016100', 'packet without messages'],
    ['01610109', 'message type 9'],
    ['0161' + '01' + '03000000010' + '0', 'trailing'],
    ['0161' + '01' + '0100000001' + '01ff', 'not UTF-8'],
    ['0161' + '01' + '0800' + '00000001' + '0162' + '0163' + '00000001' + '07' + '0000', 'status'],
    ['0161' + '01' + '0804' + '00000000', 'flags'],
    ['0161' + '01' + '05' + '0162' + '00000001' + '0163' + '0201' + '', 'truncated-meta'],
  ];
  for (const [hex, what] of cases) {
    const r = decodeBody(Buffer.from(hex.length % 2 ? hex + '0' : hex, 'hex'));
    assert.equal(r.ok, false, what);
    if (!r.ok && what !== 'truncated-meta') assert.equal(r.reason, 'malformed', `${what}: ${r.detail}`);
  }
  const big = decodeBody(Buffer.from('0161' + '01' + '05' + '0162' + '00000001' + '0163' + '0201' + '00'.repeat(513), 'hex'));
  assert.ok(!big.ok && big.reason === 'malformed' && /metadata/.test(big.detail));
  const huge = decodeBody(Buffer.from('0161' + '01' + '0800' + 'ffffffff', 'hex'));
  assert.ok(!huge.ok && huge.reason === 'truncated');
});

test('frame golden bytes (unsealed, UDP) and the header fields', () => {
  const frame = encodeFrame(small, { epoch: 1, salt: 0x0a0b0c0d, seq: 5 }, 'udp');
  assert.equal(frame.toString('hex'), 'b74d0100' + '0000000000000001' + '0a0b0c0d' + '00000005' + '0000000f' + smallBody);
  assert.deepEqual(peekFrame(frame), { ok: true, frameBytes: frame.length });
  const r = decodeFrame(frame, 'udp', new ReplayGuard());
  assert.ok(r.ok);
  assert.deepEqual(r.packet, small);
});

test('sealed frames: authenticated, header bound, wrong key and key mix-ups are wrong-key', () => {
  const aead = aesGcm([keyFromSecret('s3cret')]);
  const frame = encodeFrame(every, { epoch: 1_764_547_200_000, salt: 7, seq: 1 }, 'udp', aead);
  assert.equal(frame.length, 24 + encodeBody(every).length + 12);
  assert.ok(!frame.includes(Buffer.from('node-2')), 'the body is encrypted');
  const ok = decodeFrame(frame, 'udp', new ReplayGuard(), aead);
  assert.ok(ok.ok);
  assert.deepEqual(ok.packet, every);
  const other = aesGcm([keyFromSecret('s3cret!')]);
  assert.deepEqual(pick(decodeFrame(frame, 'udp', new ReplayGuard(), other)), 'wrong-key');
  assert.deepEqual(pick(decodeFrame(frame, 'udp', new ReplayGuard())), 'wrong-key');
  assert.deepEqual(pick(decodeFrame(encodeFrame(every, { epoch: 1, salt: 7, seq: 1 }, 'udp'), 'udp', new ReplayGuard(), aead)), 'wrong-key');
  const tampered = Buffer.from(frame); tampered[17] = tampered[17]! ^ 1; // the seq, in the associated data
  assert.deepEqual(pick(decodeFrame(tampered, 'udp', new ReplayGuard(), aead)), 'wrong-key');
  // A key ring opens frames of the old key while sealing with the new one.
  const ring = aesGcm([keyFromSecret('new'), keyFromSecret('s3cret')]);
  assert.ok(decodeFrame(frame, 'udp', new ReplayGuard(), ring).ok);
});

test('key derivation is HKDF-SHA256 over the whole secret (not v0.11\'s first 16 bytes)', () => {
  assert.equal(keyFromSecret('s3cret').toString('hex'), '130d723f0fab591aa4b4ab0abcd16df574fbb47f5294a37d2d353ec8119c2f2f');
  assert.notDeepEqual(keyFromSecret('0123456789abcdefX'), keyFromSecret('0123456789abcdefY'));
});

test('frames from hashicorp memberlist (MetalLB\'s speaker) are foreign, whatever follows the first byte', () => {
  const memberlist = [
    '0083a3536571ce00000001a44e6f6465a56e6f64652d31', // pingMsg + msgpack
    '01' + '00'.repeat(12) + 'ab'.repeat(40), // encrypted UDP, version 1
    '07020011', // compoundMsg
    '0600000000', // pushPullMsg on TCP
    '0a00000040', // encryptMsg on TCP
  ];
  for (const hex of memberlist) assert.equal(pick(decodeFrame(Buffer.from(hex, 'hex'), 'udp', new ReplayGuard())), 'foreign', hex);
});

test('frame-level drops: truncated, bad magic, version, flags, stream flag, trailing bytes', () => {
  const frame = encodeFrame(small, { epoch: 1, salt: 2, seq: 3 }, 'udp');
  assert.equal(pick(decodeFrame(Buffer.alloc(0), 'udp', new ReplayGuard())), 'truncated');
  assert.equal(pick(decodeFrame(frame.subarray(0, 10), 'udp', new ReplayGuard())), 'truncated');
  assert.equal(pick(decodeFrame(frame.subarray(0, frame.length - 1), 'udp', new ReplayGuard())), 'truncated');
  assert.equal(pick(decodeFrame(Buffer.concat([frame, Buffer.from([0])]), 'udp', new ReplayGuard())), 'malformed');
  assert.equal(pick(decodeFrame(frame, 'tcp', new ReplayGuard())), 'malformed');
  for (const [at, v] of [[0, 0xb8], [1, 0x4e], [2, 2], [3, 0x80]] as const) {
    const bad = Buffer.from(frame); bad[at] = v;
    assert.equal(pick(decodeFrame(bad, 'udp', new ReplayGuard())), 'malformed', `byte ${at}`);
  }
});

test('replay: a resent frame, an old epoch and a frame 64 behind are replayed; reordering within the window is fine', () => {
  const guard = new ReplayGuard();
  const at = (epoch: number, seq: number, salt = 1): boolean =>
    decodeFrame(encodeFrame(small, { epoch, salt, seq }, 'udp'), 'udp', guard).ok;
  assert.ok(at(100, 10));
  assert.ok(!at(100, 10));
  assert.ok(at(100, 12));
  assert.ok(at(100, 11), 'late but new');
  assert.ok(!at(100, 11));
  assert.ok(at(100, 200));
  assert.ok(!at(100, 136), '64 behind');
  assert.ok(at(100, 137), '63 behind');
  assert.ok(!at(99, 500), 'older epoch');
  assert.ok(!at(100, 501, 2), 'same epoch, other salt');
  assert.ok(at(101, 1), 'restart');
  assert.ok(!at(100, 999));
  // TCP keeps its own window: the same seq on the other channel is not a replay of the UDP frame.
  assert.ok(decodeFrame(encodeFrame(small, { epoch: 101, salt: 1, seq: 1 }, 'tcp'), 'tcp', guard).ok);
});

function pick(r: ReturnType<typeof decodeFrame>): string {
  return r.ok ? 'ok' : r.reason;
}
