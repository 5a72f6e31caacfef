/**
 * Seeded fuzz: 10,000 mutated messages through framer → decoder → FSM in every connected state. Each one
 * must end as a NOTIFICATION sent (with close), a NOTIFICATION received from the "peer" (close), or a message
 * accepted/dropped with the session kept; never an exception, never a close without one of the two. A
 * failure prints the seed and the bytes to replay it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prng } from '../../helpers/prng.js';
import { parseCidr, parseIp, type IpAddr } from '../../../src/core/ip/index.js';
import {
  BgpFramer, decodeMessage, encodeEndOfRib, encodeKeepalive, encodeNotification, encodeOpen, encodeRouteRefresh, encodeUpdate,
  initialSnapshot, initialUpdates, localOpen, routeTable, step, SESSION_TIMING_DEFAULTS, type FsmAction, type FsmSnapshot, type SessionConfig,
} from '../../../src/core/bgp/index.js';

const ip = (s: string): IpAddr => parseIp(s)!;
const SEED = Number(process.env['METALLB_TS_FUZZ_SEED'] ?? 0x6b67);
const COUNT = 10_000;
const LOCAL = ip('192.0.2.10');
const CONFIG: SessionConfig = { localAs: 64512, peerAs: 64513, holdTimeSeconds: 90, families: [4, 6], gracefulRestart: { restartTimeSeconds: 120 }, ...SESSION_TIMING_DEFAULTS };
const PEER = { ...CONFIG, localAs: 64513, peerAs: 64512 };

function corpus(): Buffer[] {
  const routes = routeTable([
    ...Array.from({ length: 20 }, (_, i) => ({ prefix: parseCidr(`203.0.113.${i}/32`)!, attributes: { communities: [i, 65535 * 65536 + 65281] } })),
    { prefix: parseCidr('198.51.100.0/24')!, attributes: { localPref: 50 } },
    ...Array.from({ length: 5 }, (_, i) => ({ prefix: parseCidr(`2001:db8:${i}::/48`)!, attributes: {} })),
  ]);
  const ctx = { localAs: 64513, ibgp: false, fourOctetAs: true, families: [4, 6] as const, nextHops: { 4: ip('192.0.2.1'), 6: ip('2001:db8::1') } };
  const plan = initialUpdates(routes, ctx);
  return [
    encodeOpen(localOpen(PEER, Number(ip('192.0.2.1').value))),
    encodeOpen(localOpen({ ...PEER, localAs: 4200000000 }, 7)),
    encodeKeepalive(),
    encodeNotification({ code: 6, subcode: 4, data: Buffer.from('reset') }),
    encodeRouteRefresh({ family: 4 }),
    encodeRouteRefresh({ family: 6 }),
    encodeEndOfRib(4),
    encodeEndOfRib(6),
    ...plan.frames,
    encodeUpdate({ type: 'update', withdrawn: [parseCidr('203.0.113.0/24')!], nlri: [parseCidr('203.0.113.9/32')!], attributes: { origin: 0, asPath: [{ type: 2, asns: [4200000000, 1] }, { type: 1, asns: [5, 6] }], nextHop: ip('192.0.2.1'), med: 5, atomicAggregate: true, other: [{ flags: 0xc0, type: 7, value: Buffer.alloc(8) }, { flags: 0xc0, type: 32, value: Buffer.alloc(12) }] } }, { fourOctetAs: false }),
    encodeUpdate({ type: 'update', withdrawn: [], nlri: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [parseCidr('2001:db8::/32')!] } } }, { fourOctetAs: true }),
  ];
}

function mutate(msg: Buffer, rnd: () => number): Buffer {
  const int = (n: number) => Math.floor(rnd() * n);
  let b = Buffer.from(msg);
  const ops = 1 + int(3);
  for (let k = 0; k < ops; k++) {
    switch (int(8)) {
      case 0: b[int(b.length)]! ^= 1 << int(8); break; // bit flip
      case 1: b[int(b.length)] = int(256); break; // byte set
      case 2: b[19 + int(Math.max(1, b.length - 19))] = [0, 1, 0x7f, 0x80, 0xff][int(5)]!; break; // boundary value in the body
      case 3: b = b.subarray(0, int(b.length + 1)); break; // truncate
      case 4: b = Buffer.concat([b, Buffer.from(Array.from({ length: 1 + int(40) }, () => int(256)))]); break; // extend
      case 5: { const at = 19 + int(Math.max(1, b.length - 19)); b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(8)))]); break; } // cut
      case 6: if (b.length > 18) b[18] = 1 + int(6); break; // type confusion
      default: if (b.length >= 23) b.writeUInt16BE(int(0x10000), 19 + 2 * int(2)); // a length field in the body
    }
  }
  // Usually keep the header's Length consistent so the body reaches the decoders.
  if (b.length >= 18 && b.length <= 4096 && rnd() < 0.8) b.writeUInt16BE(b.length, 16);
  return b;
}

/** Base snapshots in each connected state, built through the reducer itself. */
function bases(): FsmSnapshot[] {
  let s = step(initialSnapshot(CONFIG), { type: 'start' }).state;
  s = step(s, { type: 'tcpConnected', localAddress: LOCAL, routerId: Number(LOCAL.value) }).state;
  const openSent = s;
  s = step(s, { type: 'message', frame: encodeOpen(localOpen(PEER, Number(ip('192.0.2.1').value))) }).state;
  const openConfirm = s;
  const established = step(s, { type: 'message', frame: encodeKeepalive() }).state;
  assert.deepEqual([openSent.state, openConfirm.state, established.state], ['openSent', 'openConfirm', 'established']);
  return [openSent, openConfirm, established, established];
}

test(`fuzz: ${COUNT} mutated messages end in a NOTIFICATION or are dropped, never an exception (seed ${SEED})`, () => {
  const rnd = prng(SEED);
  const msgs = corpus();
  const states = bases();
  const outcomes = { notificationSent: 0, notificationReceived: 0, kept: 0, incomplete: 0 };
  for (let i = 0; i < COUNT; i++) {
    const original = msgs[Math.floor(rnd() * msgs.length)]!;
    const mutated = mutate(original, rnd);
    let s = states[i % states.length]!;
    const replay = `case ${i}, state ${s.state}: ${mutated.toString('hex')}`;
    try {
      // The decoder alone, with the other session flavours (2-octet ASNs, iBGP): a value, never a throw.
      const alone = decodeMessage(mutated, { fourOctetAs: false, ibgp: true });
      assert.equal(typeof alone.ok, 'boolean');
      const framer = new BgpFramer();
      // Half the cases arrive in two chunks, behind a valid KEEPALIVE in Established.
      const lead = s.state === 'established' && rnd() < 0.5 ? encodeKeepalive() : Buffer.alloc(0);
      const bytes = Buffer.concat([lead, mutated]);
      const cut = Math.floor(rnd() * (bytes.length + 1));
      const actions: FsmAction[] = [];
      let receivedNotification = false;
      for (const chunk of [bytes.subarray(0, cut), bytes.subarray(cut)]) {
        const out = framer.push(chunk);
        for (const frame of out.frames) {
          if (s.state === 'idle') break;
          const d = decodeMessage(frame);
          if (d.ok && d.value.type === 'notification') receivedNotification = true;
          const r = step(s, { type: 'message', frame });
          s = r.state;
          actions.push(...r.actions);
        }
        if (out.error && s.state !== 'idle') {
          const r = step(s, { type: 'decodeError', error: out.error });
          s = r.state;
          actions.push(...r.actions);
        }
      }
      const sentNotification = actions.some((a) => a.type === 'send' && a.message === 'notification');
      const closed = actions.some((a) => a.type === 'close');
      if (closed) {
        assert.ok(sentNotification || receivedNotification, `closed without a NOTIFICATION: ${replay}`);
        assert.equal(s.state, 'idle', replay);
        if (sentNotification) outcomes.notificationSent++;
        else outcomes.notificationReceived++;
        // The NOTIFICATION we send must itself be well-formed.
        for (const a of actions) if (a.type === 'send' && a.message === 'notification') assert.ok(decodeMessage(a.frame).ok, replay);
      } else {
        assert.equal(sentNotification, false, replay);
        if (framer.buffered > 0) outcomes.incomplete++;
        else outcomes.kept++;
      }
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err;
      assert.fail(`threw ${(err as Error).stack}\n${replay}`);
    }
  }
  console.log(`fuzz seed ${SEED}: ${JSON.stringify(outcomes)}`);
  assert.equal(outcomes.notificationSent + outcomes.notificationReceived + outcomes.kept + outcomes.incomplete, COUNT);
  // The mutations reach every outcome, so the fuzz exercises the error paths, not only the framer.
  assert.ok(outcomes.notificationSent > 1000 && outcomes.kept > 300 && outcomes.notificationReceived > 0 && outcomes.incomplete > 0, JSON.stringify(outcomes));
});
