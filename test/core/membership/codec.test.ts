import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodySize, decodeBody, encodeBody, messageSize } from '../../../src/core/membership/codec.js';
import { decodeFrame, encodeFrame, peekFrame, type FrameSender } from '../../../src/core/membership/frame.js';
import { memberId } from '../../../src/core/membership/member-id.js';
import { ReplayGuard } from '../../../src/core/membership/replay.js';
import type { Message } from '../../../src/core/membership/types.js';
import { aesGcm, keyFromSecret } from '../../../src/adapters/membership/crypto.js';

const B = memberId('b'); // 0xe70c2de5
const small: Message[] = [{ type: 'ack', seq: 258 }, { type: 'ping', seq: 1, target: B }];
const smallBody = '0300000102' + '0100000001' + 'e70c2de5';

const every: Message[] = [
  { type: 'ping', seq: 4294967295, target: memberId('node-2') },
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
];

const from = (name: string, epoch: number, salt: number, seq: number): FrameSender => ({ id: memberId(name), epoch, salt, seq });

test('member id: FNV-1a 32 of the UTF-8 name (the published test vectors)', () => {
  assert.equal(memberId(''), 0x811c9dc5);
  assert.equal(memberId('a'), 0xe40c292c);
  assert.equal(memberId('foobar'), 0xbf9cf968);
  assert.equal(B, 0xe70c2de5);
});

test('body golden bytes: an ack and a ping, back to back, no sender and no count', () => {
  assert.equal(encodeBody(small).toString('hex'), smallBody);
  assert.deepEqual(decodeBody(Buffer.from(smallBody, 'hex')), { ok: true, messages: small });
});

test('every message type round-trips, and the size helpers agree with the encoder', () => {
  const bytes = encodeBody(every);
  assert.equal(bytes.length, bodySize(every));
  for (const m of every) assert.equal(encodeBody([m]).length, messageSize(m));
  assert.equal(messageSize(every[0]!), 9, 'ping');
  assert.equal(messageSize(every[2]!), 5, 'ack');
  const back = decodeBody(bytes);
  assert.ok(back.ok);
  assert.deepEqual(back.messages, every);
});

test('body decoding classifies short input as truncated and the rest as malformed', () => {
  const full = encodeBody(every);
  for (let n = 1; n < full.length; n++) {
    const r = decodeBody(full.subarray(0, n));
    // A cut exactly between two messages is a shorter valid body; anywhere else it is truncated.
    if (r.ok) { assert.deepEqual(encodeBody(r.messages), full.subarray(0, n), `prefix ${n}`); continue; }
    assert.equal(r.reason, 'truncated', `prefix ${n}: ${r.detail}`);
  }
  const cases: Array<[string, string]> = [
    ['', 'body without messages'],
    ['09', 'message type 9'],
    ['0300000001' + '00', 'message type 0'],
    ['02' + '00000001' + '01ff' + '0161', 'not UTF-8'],
    ['0800' + '00000001' + '0162' + '0163' + '00000001' + '07' + '0000', 'status'],
    ['0804' + '00000000', 'flags'],
    ['05' + '0162' + '00000001' + '0163' + '0201', 'truncated-meta'],
    ['0300000001'.repeat(256), 'more than 255'],
  ];
  for (const [hex, what] of cases) {
    const r = decodeBody(Buffer.from(hex, 'hex'));
    assert.equal(r.ok, false, what);
    if (!r.ok && what !== 'truncated-meta') assert.equal(r.reason, 'malformed', `${what}: ${r.detail}`);
  }
  const big = decodeBody(Buffer.from('05' + '0162' + '00000001' + '0163' + '0201' + '00'.repeat(513), 'hex'));
  assert.ok(!big.ok && big.reason === 'malformed' && /metadata/.test(big.detail));
  const huge = decodeBody(Buffer.from('0800' + 'ffffffff', 'hex'));
  assert.ok(!huge.ok && huge.reason === 'truncated');
});

test('v2 header golden bytes (unsealed UDP and TCP): magic, version|flags, sender id, epoch u48, salt, seq, TCP length', () => {
  const udp = encodeFrame(small, from('b', 1_764_547_200_000, 0x0a0b0c0d, 5), 'udp');
  const header = 'b7' + '20' + 'e70c2de5' + '019ad7358400' + '0a0b0c0d' + '00000005';
  assert.equal(udp.toString('hex'), header + smallBody);
  assert.deepEqual(peekFrame(udp, 'udp'), { ok: true, frameBytes: udp.length });
  const r = decodeFrame(udp, 'udp', new ReplayGuard());
  assert.deepEqual(r, { ok: true, senderId: B, messages: small, bytes: 34 });
  const tcp = encodeFrame(small, from('b', 1_764_547_200_000, 0x0a0b0c0d, 6), 'tcp');
  assert.equal(tcp.toString('hex'), 'b7' + '22' + 'e70c2de5' + '019ad7358400' + '0a0b0c0d' + '00000006' + '0000000e' + smallBody);
  assert.deepEqual(peekFrame(tcp.subarray(0, 24), 'tcp'), { ok: true, frameBytes: tcp.length });
  assert.ok(decodeFrame(tcp, 'tcp', new ReplayGuard()).ok);
});

// Fixed key (32 bytes 0x00..0x1f) and nonce (epoch 1764547200000 → low 32 bits d7358400, salt 0a0b0c0d, seq 1).
const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
// Cross-checked with Python's cryptography (AESGCM, 16-byte tag cut to its first 12 bytes, SP 800-38D §5.2.1.2).
const SEALED_PING = 'b721e40c292c019ad73584000a0b0c0d00000001' + '8b7b21eda8e4d6f244' + '7dbf42f77d9491bdb4c74f20';
const SEALED_ACK = 'b721e70c2de5019ad73584000a0b0c0d00000002' + 'fda2fd041b' + '52b08cf6ad575c31b7fe00b3';

test('sealed ping and ack golden bytes (AES-256-GCM, 12-byte tag, fixed key and nonce)', () => {
  const aead = aesGcm([KEY]);
  const ping = encodeFrame([{ type: 'ping', seq: 0x01020304, target: B }], from('a', 1_764_547_200_000, 0x0a0b0c0d, 1), 'udp', aead);
  assert.equal(ping.toString('hex'), SEALED_PING);
  const ack = encodeFrame([{ type: 'ack', seq: 0x01020304 }], from('b', 1_764_547_200_000, 0x0a0b0c0d, 2), 'udp', aead);
  assert.equal(ack.toString('hex'), SEALED_ACK);
  assert.deepEqual(decodeFrame(ping, 'udp', new ReplayGuard(), aead), { ok: true, senderId: memberId('a'), messages: [{ type: 'ping', seq: 0x01020304, target: B }], bytes: 41 });
  assert.deepEqual(decodeFrame(ack, 'udp', new ReplayGuard(), aead), { ok: true, senderId: B, messages: [{ type: 'ack', seq: 0x01020304 }], bytes: 37 });
});

test('steady-state sizes whatever the node names: sealed ping 41 B and ack 37 B, unsealed 29 B and 25 B', () => {
  const aead = aesGcm([keyFromSecret('s3cret')]);
  const long = `${'n'.repeat(63)}.${'o'.repeat(62)}.${'d'.repeat(62)}.${'e'.repeat(63)}`; // 253 bytes: the longest node name
  assert.equal(Buffer.byteLength(long), 253);
  for (const [sender, target] of [['a', 'b'], [long, 'node-1'], ['node-1', long], [long, long]] as const) {
    const ping: Message[] = [{ type: 'ping', seq: 0xffffffff, target: memberId(target) }];
    const ack: Message[] = [{ type: 'ack', seq: 0xffffffff }];
    assert.equal(encodeFrame(ping, from(sender, Date.now(), 1, 1), 'udp', aead).length, 41, `sealed ping ${sender.length}`);
    assert.equal(encodeFrame(ack, from(sender, Date.now(), 1, 1), 'udp', aead).length, 37, `sealed ack ${sender.length}`);
    assert.equal(encodeFrame(ping, from(sender, Date.now(), 1, 1), 'udp').length, 29);
    assert.equal(encodeFrame(ack, from(sender, Date.now(), 1, 1), 'udp').length, 25);
  }
});

test('sealed frames: authenticated, header bound (sender id, seq), wrong key and key mix-ups are wrong-key', () => {
  const aead = aesGcm([keyFromSecret('s3cret')]);
  const frame = encodeFrame(every, from('node-1', 1_764_547_200_000, 7, 1), 'udp', aead);
  assert.equal(frame.length, 20 + encodeBody(every).length + 12);
  assert.ok(!frame.includes(Buffer.from('node-2')), 'the body is encrypted');
  const ok = decodeFrame(frame, 'udp', new ReplayGuard(), aead);
  assert.ok(ok.ok);
  assert.deepEqual(ok.messages, every);
  const other = aesGcm([keyFromSecret('s3cret!')]);
  assert.equal(pick(decodeFrame(frame, 'udp', new ReplayGuard(), other)), 'wrong-key');
  assert.equal(pick(decodeFrame(frame, 'udp', new ReplayGuard())), 'wrong-key');
  assert.equal(pick(decodeFrame(encodeFrame(every, from('node-1', 1, 7, 1), 'udp'), 'udp', new ReplayGuard(), aead)), 'wrong-key');
  const seq = Buffer.from(frame); seq[19] = seq[19]! ^ 1; // the seq, in the nonce and the associated data
  assert.equal(pick(decodeFrame(seq, 'udp', new ReplayGuard(), aead)), 'wrong-key');
  // The sender id is not in the nonce, only in the associated data: another id must fail authentication too, or
  // anyone on the path could make a member's frames count as another's.
  for (const at of [2, 3, 4, 5]) {
    const id = Buffer.from(frame); id[at] = id[at]! ^ 0x40;
    assert.equal(pick(decodeFrame(id, 'udp', new ReplayGuard(), aead)), 'wrong-key', `sender id byte ${at}`);
  }
  const epochHigh = Buffer.from(frame); epochHigh[6] = epochHigh[6]! ^ 1; // epoch bits outside the nonce
  assert.equal(pick(decodeFrame(epochHigh, 'udp', new ReplayGuard(), aead)), 'wrong-key');
  // A key ring opens frames of the old key while sealing with the new one.
  const ring = aesGcm([keyFromSecret('new'), keyFromSecret('s3cret')]);
  assert.ok(decodeFrame(frame, 'udp', new ReplayGuard(), ring).ok);
});

test('key derivation is HKDF-SHA256 over the whole secret (not v0.11\'s first 16 bytes), info "frame v2 aes-256-gcm-12"', () => {
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

test('a frame v1 (metallb-ts before frame v2) is malformed, "version 1", sealed or not, on UDP and TCP', () => {
  // v1: magic b7 4d, version 1, flags, epoch u64, salt, seq, length, then sender str8 + count + messages.
  const v1 = 'b74d0100' + '0000000000000001' + '0a0b0c0d' + '00000005' + '0000000f' + '016102' + '0300000102' + '010000000101' + '62';
  const sealedV1 = 'b74d0101' + '0000019ad7358400' + '00000007' + '00000001' + '00000005' + 'aa'.repeat(5 + 16);
  for (const [hex, channel] of [[v1, 'udp'], [sealedV1, 'udp'], ['b74d0102' + v1.slice(8), 'tcp']] as const) {
    const r = decodeFrame(Buffer.from(hex, 'hex'), channel, new ReplayGuard(), hex === sealedV1 ? aesGcm([KEY]) : undefined);
    assert.deepEqual(r, { ok: false, reason: 'malformed', detail: 'version 1' }, hex);
  }
  assert.deepEqual(peekFrame(Buffer.from('b74d01', 'hex'), 'tcp'), { ok: false, reason: 'malformed', detail: 'version 1' });
});

test('frame-level drops: truncated, bad magic, version, flags, stream flag, empty body, trailing bytes', () => {
  const frame = encodeFrame(small, from('a', 1, 2, 3), 'udp');
  assert.equal(pick(decodeFrame(Buffer.alloc(0), 'udp', new ReplayGuard())), 'truncated');
  assert.equal(pick(decodeFrame(frame.subarray(0, 10), 'udp', new ReplayGuard())), 'truncated');
  assert.equal(pick(decodeFrame(frame.subarray(0, frame.length - 1), 'udp', new ReplayGuard())), 'truncated');
  assert.equal(pick(decodeFrame(Buffer.concat([frame, Buffer.from([0])]), 'udp', new ReplayGuard())), 'malformed');
  assert.equal(pick(decodeFrame(frame, 'tcp', new ReplayGuard())), 'malformed', 'no stream flag on TCP');
  assert.equal(pick(decodeFrame(frame.subarray(0, 20), 'udp', new ReplayGuard())), 'malformed', 'empty body');
  const sealed = encodeFrame(small, from('a', 1, 2, 3), 'udp', aesGcm([KEY]));
  assert.equal(pick(decodeFrame(sealed.subarray(0, 20 + 12), 'udp', new ReplayGuard(), aesGcm([KEY]))), 'malformed', 'sealed empty body');
  assert.equal(pick(decodeFrame(sealed.subarray(0, 20 + 11), 'udp', new ReplayGuard(), aesGcm([KEY]))), 'truncated', 'shorter than a tag');
  for (const [at, v] of [[0, 0xb8], [1, 0x10], [1, 0x30], [1, 0x24], [1, 0x28]] as const) {
    const bad = Buffer.from(frame); bad[at] = v;
    assert.equal(pick(decodeFrame(bad, 'udp', new ReplayGuard())), 'malformed', `byte ${at} = ${v.toString(16)}`);
  }
  const tcp = encodeFrame(small, from('a', 1, 2, 4), 'tcp');
  assert.equal(pick(decodeFrame(tcp, 'udp', new ReplayGuard())), 'malformed', 'stream flag on UDP');
  assert.equal(pick(decodeFrame(tcp.subarray(0, 23), 'tcp', new ReplayGuard())), 'truncated');
  const zero = Buffer.from(tcp.subarray(0, 24)); zero.writeUInt32BE(0, 20);
  assert.equal(pick(decodeFrame(zero, 'tcp', new ReplayGuard())), 'malformed', 'TCP length 0');
});

test('replay: keyed by sender id; a resent frame, an old epoch and a frame 64 behind are replayed; reordering within the window is fine', () => {
  const guard = new ReplayGuard();
  const at = (epoch: number, seq: number, salt = 1, name = 'a'): boolean =>
    decodeFrame(encodeFrame(small, from(name, epoch, salt, seq), 'udp'), 'udp', guard).ok;
  assert.ok(at(100, 10));
  assert.ok(!at(100, 10));
  assert.ok(at(100, 10, 1, 'b'), 'another sender id has its own window');
  assert.ok(at(100, 12));
  assert.ok(at(100, 11), 'late but new');
  assert.ok(!at(100, 11));
  assert.ok(at(100, 200));
  assert.ok(!at(100, 136), '64 behind');
  assert.ok(at(100, 137), '63 behind');
  assert.ok(!at(99, 500), 'older epoch');
  assert.ok(!at(100, 501, 2), 'same epoch, other salt');
  assert.ok(at(2 ** 40, 1), 'restart (an epoch above 32 bits: u48)');
  assert.ok(!at(2 ** 40 - 1, 999));
  // TCP keeps its own window: the same seq on the other channel is not a replay of the UDP frame.
  assert.ok(decodeFrame(encodeFrame(small, from('a', 2 ** 40, 1, 1), 'tcp'), 'tcp', guard).ok);
});

function pick(r: ReturnType<typeof decodeFrame>): string {
  return r.ok ? 'ok' : r.reason;
}
