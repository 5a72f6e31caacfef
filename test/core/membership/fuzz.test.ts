/**
 * Seeded fuzz of the membership frame decoder: 10,000 mutated, truncated, replayed, foreign and random
 * frames against a receiver with a key. Every one must be dropped with a reason, and nothing may throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBody, encodeBody } from '../../../src/core/membership/codec.js';
import { DROP_REASONS, decodeFrame, encodeFrame, type DropReason } from '../../../src/core/membership/frame.js';
import { ReplayGuard } from '../../../src/core/membership/replay.js';
import { memberId } from '../../../src/core/membership/member-id.js';
import type { Message } from '../../../src/core/membership/types.js';
import { aesGcm, keyFromSecret } from '../../../src/adapters/membership/crypto.js';
import { prng } from '../../helpers/prng.js';

const SEED = 0x5eed11;

function randomMessages(rand: () => number): Message[] {
  const name = (): string => `node-${Math.floor(rand() * 50)}`;
  const pick = (): Message => {
    switch (Math.floor(rand() * 8)) {
      case 0: return { type: 'ping', seq: Math.floor(rand() * 2 ** 32), target: rand() < 0.5 ? memberId(name()) : Math.floor(rand() * 2 ** 32) };
      case 1: return { type: 'ping-req', seq: 1, target: name(), targetAddr: '192.0.2.9:7946' };
      case 2: return { type: 'ack', seq: 2 };
      case 3: return { type: 'nack', seq: 3 };
      case 4: return { type: 'alive', name: name(), incarnation: 4, addr: '192.0.2.1:7946', meta: new Uint8Array(Math.floor(rand() * 40)) };
      case 5: return { type: 'suspect', name: name(), incarnation: 5, from: name() };
      case 6: return { type: 'dead', name: name(), incarnation: 6, from: name() };
      default: return { type: 'push-pull', join: rand() < 0.5, reply: false, members: [{ name: name(), addr: '192.0.2.2:7946', incarnation: 7, status: 'suspect', meta: new Uint8Array([1]) }] };
    }
  };
  return Array.from({ length: 1 + Math.floor(rand() * 4) }, pick);
}

test('10,000 bad frames are dropped and counted by reason; nothing throws', () => {
  const rand = prng(SEED);
  const aead = aesGcm([keyFromSecret('the memberlist secret')]);
  const stranger = aesGcm([keyFromSecret('another cluster')]);
  const guard = new ReplayGuard();
  const originals: Buffer[] = [];
  let seq = 0;
  for (let i = 0; i < 200; i++) {
    const f = encodeFrame(randomMessages(rand), { id: memberId(`node-${i % 7}`), epoch: 1_000, salt: 42, seq: ++seq }, 'udp', aead);
    assert.ok(decodeFrame(f, 'udp', guard, aead).ok, 'originals are accepted once');
    originals.push(f);
  }
  const counts = new Map<DropReason, number>();
  let accepted = 0;
  for (let i = 0; i < 10_000; i++) {
    const base = originals[Math.floor(rand() * originals.length)]!;
    let bytes: Buffer;
    switch (i % 8) {
      case 0: bytes = Buffer.from(base); break; // resent as is
      case 1: { bytes = Buffer.from(base); const at = Math.floor(rand() * bytes.length); bytes[at] = bytes[at]! ^ (1 + Math.floor(rand() * 255)); break; }
      case 2: bytes = base.subarray(0, Math.floor(rand() * base.length)); break;
      case 3: bytes = Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256))); break;
      case 4: bytes = Buffer.concat([Buffer.from([Math.floor(rand() * 14)]), Buffer.from(Array.from({ length: Math.floor(rand() * 100) }, () => Math.floor(rand() * 256)))]); break;
      case 5: bytes = encodeFrame(randomMessages(rand), { id: memberId('node-1'), epoch: 2_000, salt: 1, seq: i }, 'udp', stranger); break;
      case 6: bytes = encodeFrame(randomMessages(rand), { id: memberId('node-1'), epoch: 2_000, salt: 1, seq: i }, 'udp'); break;
      default: { bytes = Buffer.concat([base, base.subarray(0, Math.floor(rand() * 30))]); bytes[1] = rand() < 0.5 ? bytes[1]! | (rand() < 0.5 ? 4 : 8) : bytes[1]!; break; } // extra bytes, a reserved flag
    }
    let r: ReturnType<typeof decodeFrame>;
    try {
      r = decodeFrame(bytes, 'udp', guard, aead);
    } catch (err) {
      assert.fail(`seed ${SEED}, message ${i} (${bytes.toString('hex')}) threw: ${(err as Error).stack}`);
    }
    if (r.ok) { accepted++; continue; }
    counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1);
  }
  assert.equal(accepted, 0, `seed ${SEED}`);
  for (const reason of DROP_REASONS) assert.ok((counts.get(reason) ?? 0) > 0, `no ${reason} drop among ${JSON.stringify(Object.fromEntries(counts))}`);
  assert.equal([...counts.values()].reduce((a, b) => a + b, 0), 10_000);
});

test('10,000 mutated bodies: the body decoder never throws, and whatever it accepts re-encodes to the same bytes', () => {
  const rand = prng(SEED + 1);
  let accepted = 0;
  for (let i = 0; i < 10_000; i++) {
    const body = Buffer.from(encodeBody(randomMessages(rand)));
    for (let flips = 1 + Math.floor(rand() * 3); flips > 0; flips--) body[Math.floor(rand() * body.length)] = Math.floor(rand() * 256);
    const cut = rand() < 0.3 ? body.subarray(0, Math.floor(rand() * body.length)) : body;
    const r = decodeBody(cut);
    if (r.ok) {
      accepted++;
      assert.equal(encodeBody(r.messages).toString('hex'), cut.toString('hex'), `seed ${SEED + 1}, body ${i}`);
    } else assert.ok(r.reason === 'truncated' || r.reason === 'malformed');
  }
  assert.ok(accepted > 0 && accepted < 10_000, `accepted ${accepted}`);
});
