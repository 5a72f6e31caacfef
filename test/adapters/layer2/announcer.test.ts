/**
 * The announcer's bookkeeping with a fake clock, a fake interface scan and fake captures (frames recorded
 * instead of sent): refcounts, gratuitous timing (v0.11: t = 0, 1.1, 2.2, 3.3, 4.4 s, window extended by each
 * setBalancer), answers only for owned IPs, responders following the scan, ring budget, and a failing
 * interface not aborting the scan. Real frames on real interfaces are in announcer-netns.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../helpers/fake-clock.js';
import { startLayer2Announcer } from '../../../src/adapters/layer2/announcer.js';
import type { Layer2Interface } from '../../../src/adapters/layer2/interfaces.js';
import type { Layer2Metrics } from '../../../src/adapters/layer2/metrics.js';
import { NOOP_LOGGER } from '../../../src/core/ports.js';
import { answerFrame, encodeArpFrame, gratuitousFrames, ipBytes, parseMac, probeFrames, BROADCAST_MAC, ARP_REQUEST, parseEthernet, parseArp } from '../../../src/core/layer2/index.js';
import { buildNs } from '../../helpers/ndp-frames.js';

interface FakeCapture { device: string; bufferBytes: number; filter: string; sent: Buffer[]; deliver: (f: Buffer) => void; closed: boolean }

function harness(initial: Layer2Interface[], opts: { total?: number; max?: number; failOpen?: string[] } = {}) {
  const clock = new FakeClock();
  let ifaces = initial;
  const captures: FakeCapture[] = [];
  const counts = { requests: new Map<string, number>(), responses: new Map<string, number>(), gratuitous: new Map<string, number>() };
  const bump = (m: Map<string, number>, ip: string, n = 1) => m.set(ip, (m.get(ip) ?? 0) + n);
  const metrics: Layer2Metrics = {
    requestReceived: (ip, n) => bump(counts.requests, ip, n), responseSent: (ip, n) => bump(counts.responses, ip, n),
    gratuitousSent: (ip, n) => bump(counts.gratuitous, ip, n),
  };
  const start = () => startLayer2Announcer({
    logger: NOOP_LOGGER, metrics, clock, watchLinks: false,
    captureBufferTotalBytes: opts.total ?? 1 << 20, captureBufferMaxBytes: opts.max ?? 1 << 18,
    scan: () => ({ interfaces: ifaces, errors: [{ name: 'broken0', error: 'EIO' }] }),
    open: (device, filter, bufferBytes, onFrame) => {
      if (opts.failOpen?.includes(device)) throw new Error('no such device');
      const c: FakeCapture = { device, bufferBytes, filter, sent: [], deliver: onFrame, closed: false };
      captures.push(c);
      return { device, bufferBytes, send: (f) => { c.sent.push(f); }, close: () => { c.closed = true; } };
    },
  });
  return { clock, captures, counts, start, setInterfaces: (i: Layer2Interface[]) => { ifaces = i; }, live: () => captures.filter((c) => !c.closed) };
}

const eth = (name: string, n: number, q: { arp?: boolean; ndp?: boolean } = {}): Layer2Interface =>
  ({ name, mac: `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`, arp: q.arp ?? true, ndp: q.ndp ?? true });

const arpRequest = (target: string) => encodeArpFrame({
  ethDst: BROADCAST_MAC, ethSrc: parseMac('02:00:00:00:00:50')!, op: ARP_REQUEST, senderMac: parseMac('02:00:00:00:00:50')!,
  senderIp: ipBytes('192.0.2.50')!, targetMac: Buffer.alloc(6), targetIp: ipBytes(target)!,
});

test('gratuitous bursts follow v0.11 timing: immediate, then every 1.1 s within 5 s, extended by each setBalancer', async () => {
  const h = harness([eth('eth0', 0x12), eth('eth1', 0x13, { ndp: false })]);
  const a = await h.start();
  const times: number[] = [];
  const total = () => h.captures.reduce((s, c) => s + c.sent.length, 0);
  let last = 0;
  const record = () => { if (total() !== last) { times.push(h.clock.now()); last = total(); } };
  a.setBalancer('svc', ['192.0.2.100']);
  record();
  for (let t = 0; t < 8000; t += 100) { h.clock.advance(100); record(); }
  assert.deepEqual(times, [0, 1100, 2200, 3300, 4400]);
  // Request + reply per ARP interface per burst: 2 interfaces × 2 frames × 5 bursts.
  assert.equal(h.counts.gratuitous.get('192.0.2.100'), 20);
  // IPv6 only on the NDP interface; a re-sync within the window extends it without an immediate burst.
  a.setBalancer('v6', ['2001:db8::100']);
  assert.equal(h.captures[0]!.sent.length, 11);
  h.clock.advance(3000);
  a.setBalancer('v6', ['2001:db8::100']);
  assert.equal(h.captures[0]!.sent.length, 11 + 2);
  h.clock.advance(10_000);
  // Taken at T: bursts at T, T+1.1, T+2.2; re-sync at T+3 moves the end to T+8: T+3.3, 4.4, 5.5, 6.6, 7.7.
  assert.equal(h.counts.gratuitous.get('2001:db8::100'), 8);
  assert.equal(h.captures[1]!.sent.length, 10, 'no IPv6 frames on the ARP-only interface');
  await a.close();
});

test('an IP given up and taken again within its 5 s window bursts at once (failback, then the next failover)', async () => {
  const h = harness([eth('eth0', 0x12, { ndp: false })]);
  const a = await h.start();
  const cap = h.captures[0]!;
  a.setBalancer('svc', ['192.0.2.100']);
  assert.equal(cap.sent.length, 2, 'taken: request + reply at once');
  h.clock.advance(1500);
  a.deleteBalancer('svc');
  const afterDelete = cap.sent.length;
  h.clock.advance(500);
  a.setBalancer('svc', ['192.0.2.100']);
  assert.equal(cap.sent.length, afterDelete + 2, 'taken again 2 s after the first time: a burst at once, not at the next tick');
  // The same through setBalancer dropping the IP (a Service whose IP changed back and forth).
  h.clock.advance(300);
  a.setBalancer('svc', ['192.0.2.101']);
  const n = cap.sent.length;
  a.setBalancer('svc', ['192.0.2.100']);
  assert.equal(cap.sent.length, n + 2);
  await a.close();
});

test('answers only owned IPs; refcounts keep a shared IP until the last name goes; invalid IPs ignored', async () => {
  const h = harness([eth('eth0', 0x12)]);
  const a = await h.start();
  const cap = h.captures[0]!;
  cap.deliver(arpRequest('192.0.2.100'));
  assert.equal(cap.sent.length, 0);
  assert.equal(a.stats().drops.AnnounceIP, 1);
  a.setBalancer('a', ['192.0.2.100', 'garbage']);
  a.setBalancer('b', ['192.0.2.100']);
  const before = cap.sent.length;
  cap.deliver(arpRequest('192.0.2.100'));
  assert.equal(cap.sent.length, before + 1);
  const reply = parseArp(parseEthernet(cap.sent.at(-1)!)!.payload)!;
  assert.deepEqual([...reply.senderIp], [192, 0, 2, 100]);
  assert.equal(h.counts.requests.get('192.0.2.100'), 1);
  assert.equal(h.counts.responses.get('192.0.2.100'), 1);
  a.deleteBalancer('a');
  assert.deepEqual(a.stats().owned, ['192.0.2.100']);
  a.deleteBalancer('b');
  a.deleteBalancer('never-set');
  assert.deepEqual(a.stats().owned, []);
  const n = cap.sent.length;
  cap.deliver(arpRequest('192.0.2.100'));
  h.clock.advance(6000);
  assert.equal(cap.sent.length, n, 'no answer and no more gratuitous once withdrawn');
  // Changing a name's IPs releases the old one.
  a.setBalancer('c', ['192.0.2.101']);
  a.setBalancer('c', ['192.0.2.102']);
  assert.deepEqual(a.stats().owned, ['192.0.2.102']);
  const m = cap.sent.length;
  cap.deliver(arpRequest('192.0.2.101'));
  assert.equal(cap.sent.length, m, 'the released IP is no longer answered');
  cap.deliver(arpRequest('192.0.2.102'));
  assert.equal(cap.sent.length, m + 1, 'the new IP is answered');
  await a.close();
});

test('responders follow the scan; filters match what the interface qualifies for; a failing interface does not stop the others', async () => {
  const h = harness([eth('eth0', 0x12), eth('eth1', 0x13, { ndp: false }), eth('bad0', 0x14)], { failOpen: ['bad0'] });
  const a = await h.start();
  assert.deepEqual(a.stats().interfaces.map((i) => i.name).sort(), ['eth0', 'eth1']);
  assert.equal(h.captures[0]!.filter, '(arp or (icmp6 and (ip6[40] == 135 or ip6[40] == 136))) and not ether src 02:00:00:00:00:12');
  assert.equal(h.captures[1]!.filter, '(arp) and not ether src 02:00:00:00:00:13');
  h.setInterfaces([eth('eth1', 0x13, { ndp: false }), eth('eth2', 0x15)]);
  a.rescan();
  assert.deepEqual(a.stats().interfaces.map((i) => i.name).sort(), ['eth1', 'eth2']);
  assert.ok(h.captures[0]!.closed);
  // Periodic rescan (10 s) picks up a new interface without being asked.
  h.setInterfaces([eth('eth1', 0x13, { ndp: false }), eth('eth2', 0x15), eth('eth3', 0x16)]);
  h.clock.advance(10_000);
  assert.deepEqual(a.stats().interfaces.map((i) => i.name).sort(), ['eth1', 'eth2', 'eth3']);
  await a.close();
  assert.ok(h.captures.every((c) => c.closed));
});

test('capture rings stay under the total: per interface min(max, total / count), big rings shrink as interfaces appear', async () => {
  const h = harness([eth('eth0', 1), eth('eth1', 2)], { total: 1000, max: 400 });
  const a = await h.start();
  assert.deepEqual(a.stats().interfaces.map((i) => i.bufferBytes), [400, 400]);
  h.setInterfaces(Array.from({ length: 10 }, (_, i) => eth(`veth${i}`, 10 + i)).concat([eth('eth0', 1), eth('eth1', 2)]));
  a.rescan();
  const s = a.stats();
  assert.equal(s.interfaces.length, 12);
  assert.ok(s.ringBytes <= 1000, `ring ${s.ringBytes} over the total`);
  assert.ok(s.interfaces.every((i) => i.bufferBytes === Math.floor(1000 / 12)));
  await a.close();
});

test('split brain: probes only owned IPs; another MAC answering is a claim, our other NIC is not; reannounce bursts once', async () => {
  const h = harness([eth('eth0', 0x12), eth('eth1', 0x13, { ndp: false })]);
  const a = await h.start();
  const claims: Array<{ ip: string; mac: string; interface: string }> = [];
  a.onClaim((c) => claims.push({ ...c }));
  a.setBalancer('svc', ['192.0.2.100']);
  h.clock.advance(6000); // past the announcement's bursts
  const sentBefore = h.captures.map((c) => c.sent.length);
  a.probe(['192.0.2.100', '192.0.2.200']);
  const probes = h.captures.map((c, i) => c.sent.slice(sentBefore[i]));
  assert.deepEqual(probes.map((p) => p.length), [1, 1], 'one ARP Probe per ARP interface, none for the IP we do not own');
  assert.deepEqual(probeFrames('192.0.2.100', parseMac('02:00:00:00:00:12')!)[0], probes[0]![0]);
  assert.equal(a.stats().probes, 2);
  // Another node's responder answers the probe on eth0.
  const answer = answerFrame(probes[0]![0]!, parseMac('02:00:00:00:00:77')!, (ip) => ip === '192.0.2.100');
  assert.equal(answer.kind, 'reply');
  if (answer.kind !== 'reply') return;
  h.captures[0]!.deliver(answer.frame);
  assert.deepEqual(claims, [{ ip: '192.0.2.100', mac: '02:00:00:00:00:77', interface: 'eth0' }]);
  // Our own eth1 answering (same segment) is no claim.
  const own = answerFrame(probes[0]![0]!, parseMac('02:00:00:00:00:13')!, () => true);
  if (own.kind === 'reply') h.captures[0]!.deliver(own.frame);
  assert.equal(claims.length, 1);
  const g = h.counts.gratuitous.get('192.0.2.100') ?? 0;
  a.reannounce('192.0.2.100');
  a.reannounce('192.0.2.200');
  assert.equal((h.counts.gratuitous.get('192.0.2.100') ?? 0) - g, 4, 'one burst: request + reply on each ARP interface');
  assert.equal(h.counts.gratuitous.get('192.0.2.200'), undefined);
  await a.close();
});

test('handoff: a successor\'s gratuitous ARP / unsolicited NA is a claim; withdraw stops one IP of a name, the other stays answered', async () => {
  const h = harness([eth('eth0', 0x12)]);
  const a = await h.start();
  const cap = h.captures[0]!;
  const claims: Array<{ ip: string; mac: string }> = [];
  a.onClaim((c) => claims.push({ ip: c.ip, mac: c.mac }));
  a.setBalancer('dual', ['192.0.2.100', '2001:db8::100']);
  a.setBalancer('shared', ['192.0.2.100']);
  const successor = parseMac('02:00:00:00:00:22')!;
  for (const f of [...gratuitousFrames('192.0.2.100', successor), ...gratuitousFrames('2001:db8::100', successor)]) cap.deliver(f);
  assert.deepEqual(claims.slice(0, 1), [{ ip: '192.0.2.100', mac: '02:00:00:00:00:22' }]);
  assert.ok(claims.some((c) => c.ip === '2001:db8::100' && c.mac === '02:00:00:00:00:22'), 'the unsolicited NA is a claim');
  // The IPv4 address is withdrawn from both names that hold it; IPv6 is still answered.
  a.withdraw(['192.0.2.100', '192.0.2.250', 'garbage']);
  assert.deepEqual(a.stats().owned, ['2001:db8::100']);
  h.clock.advance(6000);
  const n = cap.sent.length;
  cap.deliver(arpRequest('192.0.2.100'));
  assert.equal(cap.sent.length, n, 'a withdrawn IP is not answered');
  cap.deliver(buildNs({ src: '2001:db8::50', target: '2001:db8::100', slla: parseMac('02:00:00:00:00:50')! }));
  assert.equal(cap.sent.length, n + 1, 'the name\'s other IP still is');
  claims.length = 0;
  for (const f of gratuitousFrames('192.0.2.100', successor)) cap.deliver(f);
  assert.deepEqual(claims, [], 'no claims on a withdrawn IP');
  // Deleting the names afterwards is harmless; a later setBalancer takes the IP again.
  a.deleteBalancer('shared');
  a.deleteBalancer('dual');
  assert.deepEqual(a.stats().owned, []);
  a.setBalancer('dual', ['192.0.2.100']);
  cap.deliver(arpRequest('192.0.2.100'));
  assert.ok(cap.sent.length > n + 1, 'answered again once set again');
  // Withdrawn within its gratuitous window and taken again: it bursts at once.
  a.withdraw(['192.0.2.100']);
  const g = h.counts.gratuitous.get('192.0.2.100') ?? 0;
  a.setBalancer('dual', ['192.0.2.100']);
  assert.equal((h.counts.gratuitous.get('192.0.2.100') ?? 0) - g, 2, 'one burst (request + reply) at once');
  await a.close();
});

test('silence ends the gratuitous bursts of an IP at once but keeps answering it; the next setBalancer bursts again', async () => {
  const h = harness([eth('eth0', 0x12, { ndp: false })]);
  const a = await h.start();
  const cap = h.captures[0]!;
  a.setBalancer('svc', ['192.0.2.100']);
  h.clock.advance(1100);
  assert.equal(h.counts.gratuitous.get('192.0.2.100'), 4, 'bursts at 0 and 1.1 s (request + reply each)');
  a.silence(['192.0.2.100', 'garbage']);
  h.clock.advance(6000);
  assert.equal(h.counts.gratuitous.get('192.0.2.100'), 4, 'no burst after silence');
  const n = cap.sent.length;
  cap.deliver(arpRequest('192.0.2.100'));
  assert.equal(cap.sent.length, n + 1, 'still answered');
  a.setBalancer('svc', ['192.0.2.100']);
  assert.equal(h.counts.gratuitous.get('192.0.2.100'), 6, 'announced again: an immediate burst');
  await a.close();
});
