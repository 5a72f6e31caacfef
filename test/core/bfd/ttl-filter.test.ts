/** The TTL socket filter's bytes, and a tiny classic-BPF interpreter proving what it accepts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SKF_NET_OFF, ttlFilterProgram } from '../../../src/core/bfd/index.js';

test('golden bytes: IPv4 single hop (TTL ≥ 255), little-endian', () => {
  assert.equal(ttlFilterProgram(4, 255, 'LE').toString('hex'),
    // ldb [SKF_NET_OFF+8]      jge #255, +0, +1        ret #0xffffffff         ret #0
    '300000000800f0ff' + '35000001ff000000' + '06000000ffffffff' + '0600000000000000');
  assert.equal(ttlFilterProgram(6, 254, 'BE').toString('hex'),
    '00300000fff00007' + '00350001000000fe' + '00060000ffffffff' + '0006000000000000');
});

/** Runs the 4-instruction program over an IP header (enough of cBPF for it: ldb abs, jge k, ret k). */
function run(program: Buffer, ipHeader: Uint8Array): number {
  let acc = 0;
  for (let pc = 0; pc < program.length / 8;) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program[pc * 8 + 2]!;
    const jf = program[pc * 8 + 3]!;
    const k = program.readUInt32LE(pc * 8 + 4);
    if (code === 0x30) { acc = ipHeader[(k | 0) - SKF_NET_OFF] ?? 0; pc++; }
    else if (code === 0x35) pc += 1 + (acc >= k ? jt : jf);
    else if (code === 0x06) return k;
    else throw new Error(`unexpected opcode ${code}`);
  }
  return 0;
}

test('accepts exactly the TTLs / hop limits at or above the minimum', () => {
  const v4 = (ttl: number) => Uint8Array.from([0x45, 0, 0, 52, 0, 0, 0x40, 0, ttl, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2]);
  const v6 = (hops: number) => Uint8Array.from([0x60, 0, 0, 0, 0, 32, 17, hops, ...new Array<number>(32).fill(0)]);
  for (const ttl of [0, 1, 64, 253, 254, 255]) {
    assert.equal(run(ttlFilterProgram(4, 255, 'LE'), v4(ttl)) !== 0, ttl === 255, `v4 single hop ttl ${ttl}`);
    assert.equal(run(ttlFilterProgram(6, 255, 'LE'), v6(ttl)) !== 0, ttl === 255, `v6 single hop hops ${ttl}`);
    assert.equal(run(ttlFilterProgram(4, 254, 'LE'), v4(ttl)) !== 0, ttl >= 254, `v4 multihop ttl ${ttl}`);
  }
});
