/**
 * Five membership nodes in one process, each with its own UDP socket and TCP listener on a loopback
 * address (127.0.0.x), real clock, default timing: they converge through one seed address, agree on a
 * crashed member's death and on a graceful leave, and drop foreign, wrong-key and replayed datagrams.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { MembershipNode, parseAddr, formatAddr, FOREIGN_LOGGED_HOSTS, UDP_RECV_BUFFER_BYTES } from '../../../src/adapters/membership/transport.js';
import { aesGcm, keyFromSecret } from '../../../src/adapters/membership/crypto.js';
import { realClock } from '../../../src/adapters/clock.js';
import { encodeFrame } from '../../../src/core/membership/frame.js';
import { memberId } from '../../../src/core/membership/member-id.js';
import { DEFAULT_TIMING } from '../../../src/core/membership/types.js';
import type { LogFields, Logger } from '../../../src/core/ports.js';
import { waitFor } from '../../../src/testing/cluster/processes.js';

function captureLogger(lines: LogFields[]): Logger {
  const log: Logger = {
    debug: () => {}, info: (f) => { lines.push(f); }, warn: (f) => { lines.push(f); }, error: (f) => { lines.push(f); },
    child: () => log,
  };
  return log;
}

const sameSet = (a: ReadonlySet<string>, b: readonly string[]): boolean => a.size === b.length && b.every((x) => a.has(x));

test('addresses: host:port and [v6]:port round-trip; junk does not parse', () => {
  assert.deepEqual(parseAddr(formatAddr('2001:db8::1', 7946)), { host: '2001:db8::1', port: 7946 });
  assert.deepEqual(parseAddr('192.0.2.1:7946'), { host: '192.0.2.1', port: 7946 });
  for (const bad of ['192.0.2.1', '192.0.2.1:0', '192.0.2.1:70000', '[::1:7946', '']) assert.equal(parseAddr(bad), undefined, bad);
});

test('5 members on loopback converge, agree on a crashed member and a graceful leave, and drop bad datagrams', async () => {
  const base = 10 + Math.floor(Math.random() * 200);
  const logs: LogFields[] = [];
  const nodes: MembershipNode[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      nodes.push(await MembershipNode.start({
        name: `node-${i}`, bindAddr: `127.0.${base}.${i + 1}`, bindPort: 0, secret: 'loopback test secret',
        timing: DEFAULT_TIMING, clock: realClock, logger: captureLogger(logs),
      }));
    }
    // The start-up line gives the timing a speaker runs with (flags and env reach it; nothing else shows them).
    const started = logs.filter((l) => l['event'] === 'memberlistStarted');
    assert.equal(started.length, 5);
    assert.deepEqual(
      [started[0]!['probeIntervalMs'], started[0]!['probeTimeoutMs'], started[0]!['suspicionMult'], started[0]!['passiveRounds'], started[0]!['indirectChecks']],
      [DEFAULT_TIMING.probeIntervalMs, DEFAULT_TIMING.probeTimeoutMs, DEFAULT_TIMING.suspicionMult, DEFAULT_TIMING.recentContactMult, DEFAULT_TIMING.indirectChecks]);
    const names = nodes.map((n) => n.name);
    // The receive buffer asked for (2 MiB), as far as net.core.rmem_max lets it (Linux reports twice the grant).
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    assert.ok(nodes[0]!.recvBufferBytes() >= 2 * Math.min(UDP_RECV_BUFFER_BYTES, rmemMax), `receive buffer ${nodes[0]!.recvBufferBytes()} B`);
    for (const n of nodes.slice(1)) n.join([nodes[0]!.addr]);
    await waitFor('all 5 see all 5', 20_000, () => nodes.every((n) => sameSet(n.alive(), names)), 20);

    let changes = 0;
    const off = nodes[0]!.onChange(() => { changes++; });
    await nodes[4]!.close(); // a crash: no goodbye
    const four = names.slice(0, 4);
    await waitFor('the survivors agree node-4 is dead', 20_000, () => nodes.slice(0, 4).every((n) => sameSet(n.alive(), four)), 10);
    assert.ok(changes >= 1, 'onChange fired');
    off();
    assert.equal(nodes[0]!.members().find((m) => m.name === 'node-4')?.status, 'dead');
    // The verdict counters: every survivor marked it dead, at least one on its own expired suspicion.
    assert.ok(nodes.slice(0, 4).every((n) => n.verdicts.failedLocal + n.verdicts.failedRemote >= 1), 'each survivor counted the death');
    assert.ok(nodes.slice(0, 4).some((n) => n.verdicts.failedLocal >= 1), 'someone declared it on its own');
    assert.ok(nodes.slice(0, 4).some((n) => n.verdicts.suspectedLocal >= 1), 'someone suspected it on its own probe');
    assert.ok(logs.some((l) => l['event'] === 'memberFailed' && l['node'] === 'node-4' && typeof l['from'] === 'string'), 'memberFailed names who declared it');

    await nodes[3]!.leave();
    await waitFor('the rest see node-3 left', 10_000, () => nodes.slice(0, 3).every((n) => sameSet(n.alive(), names.slice(0, 3))), 10);
    assert.equal(nodes[0]!.members().find((m) => m.name === 'node-3')?.status, 'left');

    // Bad datagrams at node-0: memberlist's ping (foreign, three times from one host: logged once), another key, and a replay.
    const target = parseAddr(nodes[0]!.addr)!;
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, `127.0.${base}.9`, () => r()));
    const send = (b: Buffer): Promise<void> => new Promise((r) => sock.send(b, target.port, target.host, () => r()));
    const memberlistPing = Buffer.from('0083a3536571ce00000001a44e6f6465a56e6f64652d31', 'hex');
    const stranger = encodeFrame([{ type: 'ack', seq: 1 }], { id: memberId('node-x'), epoch: Date.now(), salt: 1, seq: 1 }, 'udp', aesGcm([keyFromSecret('other')]));
    const genuine = encodeFrame([{ type: 'ack', seq: 12345 }], { id: memberId('node-1'), epoch: 1, salt: 2, seq: 3 }, 'udp', aesGcm([keyFromSecret('loopback test secret')]));
    await send(memberlistPing); await send(memberlistPing); await send(stranger); await send(genuine); await send(genuine);
    sock.close();
    // The same host from another port (a new socket, as every TCP connection is) is not logged again.
    const sock2 = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock2.bind(0, `127.0.${base}.9`, () => r()));
    await new Promise<void>((r) => sock2.send(memberlistPing, target.port, target.host, () => r()));
    sock2.close();
    // node-1's real sender has a newer epoch than 1, so even the first copy of this old-epoch frame is a replay.
    await waitFor('drops counted', 5_000, () => nodes[0]!.drops.foreign === 3 && nodes[0]!.drops['wrong-key'] >= 1 && nodes[0]!.drops.replayed >= 2, 10);
    assert.equal(logs.filter((l) => /hashicorp memberlist/.test(String(l['msg']))).length, 1, 'foreign traffic logged once per source');
    // Many hosts: each logged once up to FOREIGN_LOGGED_HOSTS, then no more lines (the counter goes on).
    for (let i = 0; i < FOREIGN_LOGGED_HOSTS + 6; i++) {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, `127.0.${base}.${20 + i}`, () => r()));
      await new Promise<void>((r) => s.send(memberlistPing, target.port, target.host, () => r()));
      s.close();
    }
    await waitFor('foreign drops from many hosts', 5_000, () => nodes[0]!.drops.foreign === 3 + FOREIGN_LOGGED_HOSTS + 6, 10);
    const foreignLines = logs.filter((l) => /hashicorp memberlist/.test(String(l['msg'])));
    assert.equal(foreignLines.length, FOREIGN_LOGGED_HOSTS, 'one line per host, at most FOREIGN_LOGGED_HOSTS');
    assert.match(String(foreignLines.at(-1)!['msg']), /further sources are not logged/);
    assert.ok(nodes.slice(0, 3).every((n) => sameSet(n.alive(), names.slice(0, 3))), 'bad datagrams changed nothing');
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
});

test('two node names with one member id: logged once as memberIdCollision with both names, the first name kept', async () => {
  const base = 10 + Math.floor(Math.random() * 200);
  const logs: LogFields[][] = [[], [], []];
  const nodes: MembershipNode[] = [];
  // FNV-1a 32 collision: both names hash to 0xd634d7cb (test/core/membership/member-id.test.ts).
  const [first, second] = ['node-522789', 'node-739192'];
  try {
    for (const [i, name] of ['c', first, second].entries()) {
      nodes.push(await MembershipNode.start({
        name, bindAddr: `127.0.${base}.${i + 1}`, bindPort: 0, secret: 'loopback test secret',
        timing: DEFAULT_TIMING, clock: realClock, logger: captureLogger(logs[i]!),
      }));
      // Distinct start times: two senders with one id share a replay window at each receiver, where the later epoch
      // wins (docs/design/membership.md); within one millisecond the second's frames would be taken for replays.
      await new Promise((r) => setTimeout(r, 5));
    }
    const [c] = nodes;
    nodes[1]!.join([c!.addr]);
    await waitFor(`c learns ${first}`, 10_000, () => c!.alive().has(first), 10);
    nodes[2]!.join([c!.addr]);
    const collisions = (i: number): LogFields[] => logs[i]!.filter((l) => l['event'] === 'memberIdCollision');
    await waitFor('c logs the collision', 10_000, () => collisions(0).length > 0, 10);
    assert.deepEqual(collisions(0)[0], {
      op: 'memberlist', event: 'memberIdCollision', id: 'd634d7cb', node: first, other: second,
      msg: `nodes ${first} and ${second} have the same member id; frames from ${second} are taken as ${first}'s (rename one node)`,
    });
    // Once per pair: however many frames and gossip about the second name c gets meanwhile.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(collisions(0).length, 1);
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
});
