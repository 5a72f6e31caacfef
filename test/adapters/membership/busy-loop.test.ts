/**
 * The busy-node guard of the adapter (src/adapters/membership/transport.ts): a member whose event loop stalls
 * while its probe's ack is already in its socket must not suspect the prober's target. Node runs due timers
 * before it reads sockets, so the adapter defers every verdict to the check phase (after the poll phase).
 *
 * Member A is a real MembershipNode in this thread, with the detector's own late-timer guard switched off
 * (lateToleranceMs = ∞) so only the adapter's ordering is under test. Member B is a minimal responder in a worker
 * thread (its own event loop, so it answers while A is stalled): it announces itself to A and acks A's pings,
 * counting each ack it has handed to the kernel in shared memory. Right after A sends a ping (and before it has
 * read the ack), A's thread spins in the check phase until B has acked that ping (so the ack is in A's socket)
 * and A's probe timers are long due, then lets go: next come the timers phase, then the poll phase.
 * Nothing here is timed: the spin waits for events, not for durations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { MembershipNode } from '../../../src/adapters/membership/transport.js';
import { realClock } from '../../../src/adapters/clock.js';
import { decodeFrame } from '../../../src/core/membership/frame.js';
import { ReplayGuard } from '../../../src/core/membership/replay.js';
import { memberId } from '../../../src/core/membership/member-id.js';
import { DEFAULT_TIMING } from '../../../src/core/membership/types.js';
import type { Logger } from '../../../src/core/ports.js';
import { waitFor } from '../../../src/testing/cluster/processes.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

/** B: binds on `host`, tells A it is alive, acks A's pings, counts acks sent in shared[0]. Posts its port. */
const RESPONDER = `
const { workerData, parentPort } = require('node:worker_threads');
const dgram = require('node:dgram');
(async () => {
  const { encodeFrame, decodeFrame } = await import(workerData.frame);
  const { memberId } = await import(workerData.memberId);
  const { ReplayGuard } = await import(workerData.replay);
  const acks = new Int32Array(workerData.shared);
  const sock = dgram.createSocket('udp4');
  const replay = new ReplayGuard();
  let seq = 0;
  const epoch = Date.now();
  const send = (messages, port, host, cb) => { seq++; sock.send(encodeFrame(messages, { id: memberId('b'), epoch, salt: 7, seq }, 'udp'), port, host, cb); };
  sock.on('message', (buf, rinfo) => {
    const r = decodeFrame(buf, 'udp', replay);
    if (!r.ok) return;
    for (const m of r.messages) {
      if (m.type === 'ping' && m.target === memberId('b')) send([{ type: 'ack', seq: m.seq }], rinfo.port, rinfo.address, () => Atomics.add(acks, 0, 1));
    }
  });
  sock.bind(0, workerData.host, () => {
    const port = sock.address().port;
    send([{ type: 'alive', name: 'b', incarnation: 1, addr: workerData.host + ':' + port, meta: new Uint8Array() }], workerData.aPort, workerData.aHost);
    parentPort.postMessage(port);
  });
})();
`;

test('a member stalled with the ack already in its socket does not suspect the target (verdicts run after the socket is read)', async () => {
  const host = `127.0.${10 + Math.floor(Math.random() * 200)}.1`;
  const a = await MembershipNode.start({
    name: 'a', bindAddr: host, bindPort: 0, clock: realClock, logger: quiet,
    timing: { ...DEFAULT_TIMING, lateToleranceMs: Number.POSITIVE_INFINITY, suspicionMult: 1000, pushPullIntervalMs: 0 },
  });
  const shared = new SharedArrayBuffer(4);
  const acks = new Int32Array(shared);
  const aPort = Number(a.addr.split(':')[1]);
  const worker = new Worker(RESPONDER, {
    eval: true,
    workerData: {
      shared, host: host.replace(/\.1$/, '.2'), aHost: host, aPort,
      frame: new URL('../../../src/core/membership/frame.js', import.meta.url).href,
      replay: new URL('../../../src/core/membership/replay.js', import.meta.url).href,
      memberId: new URL('../../../src/core/membership/member-id.js', import.meta.url).href,
    },
  });
  try {
    await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
    await waitFor('A to learn B', 10_000, () => a.alive().has('b'), 10);

    // Stall A right after each ping it sends to B, in the check phase (setImmediate): the next phases are the
    // timers, then the poll that reads the ack — the order that made a busy speaker accuse healthy peers.
    const udp = (a as unknown as { udp: { send: (buf: Buffer, ...rest: unknown[]) => void } }).udp;
    const probe = (): { seq: number; acked: boolean } | undefined => (a as unknown as { state: { probe?: { seq: number; acked: boolean } } }).state.probe;
    const send = udp.send.bind(udp);
    let armed = false;
    let stalls = 0;
    udp.send = (buf: Buffer, ...rest: unknown[]): void => {
      send(buf, ...rest);
      if (!armed) return;
      const r = decodeFrame(buf, 'udp', new ReplayGuard());
      if (!r.ok || !r.messages.some((m) => m.type === 'ping' && m.target === memberId('b'))) return;
      const before = Atomics.load(acks, 0);
      setImmediate(() => {
        const p = probe();
        if (!p || p.acked) return; // the ack was read already: not the case under test; the next ping tries again
        armed = false;
        // Spin until B has acked this ping and A's probe timeout and probe round are both due (the probe interval
        // stretches with local health: wait out the largest it can be), then resume: the ack waits in A's socket.
        const start = realClock.now();
        const due = DEFAULT_TIMING.probeIntervalMs * (1 + DEFAULT_TIMING.maxLocalHealth) + 10;
        while (Atomics.load(acks, 0) === before || realClock.now() - start < due) {
          if (realClock.now() - start > 10_000) throw new Error('B did not ack within 10 s');
        }
        stalls++;
      });
    };
    for (let i = 0; i < 8; i++) {
      armed = true;
      await waitFor(`stall ${i + 1}`, 20_000, () => stalls > i, 5);
    }
    // Let the last verdicts run.
    await new Promise((r) => setTimeout(r, 3 * DEFAULT_TIMING.probeIntervalMs));
    assert.ok(a.verdicts.lateTimers === 0, 'the detector\'s own guard is off');
    assert.equal(a.verdicts.suspectedLocal, 0, 'A suspected B although every ack was waiting in its socket');
    assert.equal(a.members().find((m) => m.name === 'b')?.status, 'alive');
  } finally {
    await worker.terminate();
    await a.close();
  }
});
