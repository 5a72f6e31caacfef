/**
 * The gossip socket's kernel drops (src/adapters/membership/kernel-drops.ts): the /proc/net/udp{,6} row is found
 * by bind address and port, and a real flood against a blocked event loop shows up in MembershipNode.kernelDrops().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { socketDrops, socketDropsIn } from '../../../src/adapters/membership/kernel-drops.js';
import { MembershipNode } from '../../../src/adapters/membership/transport.js';
import { realClock } from '../../../src/adapters/clock.js';
import { DEFAULT_TIMING } from '../../../src/core/membership/types.js';
import { NOOP_LOGGER } from '../../../src/core/ports.js';

const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  231: 0100007F:1F0A 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 41234 2 0000000000000000 0
  597: 0B0200C0:1F0A 00000000:0000 07 00000000:00034000 00:00000000 00000000     0        0 41235 2 0000000000000000 1234
  598: 0B0200C0:1F0B 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 41236 2 0000000000000000 7
`;
const UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
   42: B80D0120000000000000000011000000:1F0A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5123 2 0000000000000000 99
`;

test('kernel drops: the row of the bind address and port, in host byte order, v4 and v6', () => {
  assert.equal(socketDropsIn(UDP, '192.0.2.11', 7946, true), 1234);
  assert.equal(socketDropsIn(UDP, '127.0.0.1', 7946, true), 0);
  assert.equal(socketDropsIn(UDP, '192.0.2.11', 7947, true), 7, 'another port is another socket');
  assert.equal(socketDropsIn(UDP, '192.0.2.12', 7946, true), undefined);
  assert.equal(socketDropsIn(UDP6, '2001:db8::11', 7946, true), 99);
  assert.equal(socketDropsIn(UDP6, '2001:db8::12', 7946, true), undefined);
  const bigEndian = UDP.replace('0B0200C0:1F0A', 'C000020B:1F0A');
  assert.equal(socketDropsIn(bigEndian, '192.0.2.11', 7946, false), 1234);
});

test('kernel drops: IPv6 rows of an IPv4-mapped bind, a zoned link-local and any spelling of the address', () => {
  const rows = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
   42: 0000000000000000FFFF00000B0200C0:1F0A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5123 2 0000000000000000 5
   43: 000080FE000000000000000001000000:1F0A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5124 2 0000000000000000 6
   44: B80D0120000000000000000011000000:1F0A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5125 2 0000000000000000 7
`;
  assert.equal(socketDropsIn(rows, '::ffff:192.0.2.11', 7946, true), 5, 'IPv4-mapped: the dotted tail is the last word');
  assert.equal(socketDropsIn(rows, 'fe80::1%eth0', 7946, true), 6, 'the zone is not part of the row');
  assert.equal(socketDropsIn(rows, '2001:DB8:0:0::11', 7946, true), 7);
  assert.equal(socketDropsIn(rows, '192.0.2.11', 7946, true), undefined, 'an IPv4 address is a row of /proc/net/udp, not udp6');
  assert.equal(socketDropsIn(rows, 'node-1', 7946, true), undefined, 'a host name matches no row');
});

test('kernel drops: the row is found for a node bound to an IPv4-mapped address or a host name', async () => {
  for (const bindAddr of ['::ffff:127.0.0.1', 'localhost']) {
    const node = await MembershipNode.start({ name: bindAddr, bindAddr, bindPort: 0, secret: 'kernel drops test', timing: DEFAULT_TIMING, clock: realClock, logger: NOOP_LOGGER });
    try {
      assert.equal(node.kernelDrops(), 0, `${bindAddr}: the socket's row is found (undefined = the metric never moves)`);
    } finally {
      await node.close();
    }
  }
});

test('kernel drops: a flood while the event loop is blocked is counted for the gossip socket, and only for it', async () => {
  const node = await MembershipNode.start({
    name: 'flooded', bindAddr: '127.0.0.1', bindPort: 0, secret: 'kernel drops test', timing: DEFAULT_TIMING, clock: realClock, logger: NOOP_LOGGER,
  });
  try {
    assert.equal(node.kernelDrops(), 0, 'a fresh socket has dropped nothing');
    const port = Number(node.addr.split(':').pop());
    const quiet = dgram.createSocket('udp4');
    await new Promise<void>((r) => quiet.bind(0, '127.0.0.1', () => r()));
    // 20,000 datagrams of 1,400 B (28 MB) overflow any receive buffer rmem_max allows while nothing reads. The
    // loop stays blocked until the sender says it is done (a file), however slowly a loaded machine starts it.
    const done = join(mkdtempSync(join(tmpdir(), 'kernel-drops-')), 'sent');
    const flood = spawn(process.execPath, ['-e', `
      const s = require('node:dgram').createSocket('udp4'); const b = Buffer.alloc(1400, 7); let n = 0;
      const go = () => { for (let i = 0; i < 500 && n < 20000; i++, n++) s.send(b, ${port}, '127.0.0.1'); if (n < 20000) setImmediate(go); else s.close(() => require('node:fs').writeFileSync(${JSON.stringify(done)}, 'x')); };
      go();`], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => flood.once('exit', () => resolve()));
    const blockedUntil = Date.now() + 60_000;
    while (!existsSync(done) && Date.now() < blockedUntil) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    assert.ok(existsSync(done), 'the sender finished within 60 s');
    await exited;
    assert.equal(socketDrops('127.0.0.1', (quiet.address()).port), 0, 'a socket nobody flooded dropped nothing');
    quiet.close();
    const drops = node.kernelDrops() ?? 0;
    assert.ok(drops > 0, `the kernel dropped datagrams for the full socket: ${drops}`);
    assert.ok(drops <= 20000, `no more than were sent: ${drops}`);
  } finally {
    await node.close();
  }
});
