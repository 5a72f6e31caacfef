/**
 * TCP-MD5 (RFC 2385, MetalLB's `password`, spec §6.2) through the native dialer against a real BIRD 2 on
 * loopback: BIRD listens on 127.0.0.1 (::1) with `password`, we dial from 127.0.0.2 (::1), a bound source address.
 * The right key establishes; a wrong key gets no answer at all (the kernel drops the SYN), which the adapter
 * reports as `suspectedPasswordMismatch`, and BIRD never sees the session. Traffic stays on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realClock } from '../../../src/adapters/clock.js';
import { BgpSession, SILENT_FAILURES_BEFORE_SUSPECT } from '../../../src/adapters/bgp/session.js';
import { sockaddr, tcpMd5sig } from '../../../src/adapters/bgp/md5-dialer.js';
import { parseCidr, parseIp } from '../../../src/core/ip/index.js';
import { routeTable, SESSION_TIMING_DEFAULTS, type Negotiated } from '../../../src/core/bgp/index.js';
import { type LogFields, type Logger } from '../../../src/core/ports.js';
import { requirePrerequisite } from '../../../src/testing/cluster/test-cluster.js';
import { eventually, haveBird, startLoopbackBird } from './loopback-bird.js';

function recordingLogger(lines: LogFields[]): Logger {
  const l: Logger = { debug: (f) => lines.push(f), info: (f) => lines.push(f), warn: (f) => lines.push(f), error: (f) => lines.push(f), child: () => l };
  return l;
}

test('struct tcp_md5sig and sockaddr layouts match linux/tcp.h and netinet/in.h', () => {
  const v4 = sockaddr('192.0.2.7', 179)!;
  assert.deepEqual([...v4.subarray(0, 8)], [2, 0, 0, 179, 192, 0, 2, 7]);
  const v6 = sockaddr('2001:db8::1', 179)!;
  assert.equal(v6.length, 28);
  assert.deepEqual([...v6.subarray(0, 4)], [10, 0, 0, 179]);
  assert.deepEqual([...v6.subarray(8, 24)], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  const sig = tcpMd5sig(v4, Buffer.from('abc'));
  assert.equal(sig.length, 216);
  assert.deepEqual([...sig.subarray(128, 136)], [0, 0, 3, 0, 0, 0, 0, 0]); // flags, prefixlen, keylen LE, ifindex
  assert.equal(sig.subarray(136, 139).toString(), 'abc');
  assert.equal(sockaddr('not-an-ip', 1), undefined);
});

for (const [family, listen, source] of [['IPv4', '127.0.0.1', '127.0.0.2'], ['IPv6', '::1', '::1']] as const) {
test(`TCP-MD5 with BIRD over ${family}: the right password establishes, a wrong one is reported as suspectedPasswordMismatch`, async (t) => {
  if (!requirePrerequisite(t, haveBird && process.getuid?.() === 0, 'needs bird (BIRD 2) and root')) return;
  const bird = await startLoopbackBird({ listen, source, families: [family === 'IPv4' ? 4 : 6], password: 's3cr3t-key' });
  const { birdc, port } = bird;
  const make = (password: string, ups: Negotiated[], logs: LogFields[], suspects: number[]) => new BgpSession({
    config: { localAs: 64512, peerAs: 64513, holdTimeSeconds: 9, families: [family === 'IPv4' ? 4 : 6], ...SESSION_TIMING_DEFAULTS, connectTimeoutMs: 1000 },
    peerAddress: listen,
    peerPort: port,
    sourceAddress: source,
    password,
    clock: realClock,
    routerId: () => Number(parseIp('192.0.2.10')!.value),
    log: recordingLogger(logs),
    onUp: (n) => ups.push(n),
    onSuspectedPasswordMismatch: (n) => suspects.push(n),
  });
  const goodUps: Negotiated[] = [];
  const good = make('s3cr3t-key', goodUps, [], []);
  const badUps: Negotiated[] = [];
  const badLogs: LogFields[] = [];
  const suspects: number[] = [];
  const bad = make('wrong-key', badUps, badLogs, suspects);
  try {
    const prefix = family === 'IPv4' ? '203.0.113.9/32' : '2001:db8:9::/64';
    good.setRoutes(routeTable([{ prefix: parseCidr(prefix)!, attributes: {} }]));
    good.start();
    await eventually('Established with the right password', () => (goodUps.length > 0 ? true : undefined));
    await eventually('the prefix in BIRD', () => (birdc('show', 'route', 'protocol', 'mts').includes(prefix) ? true : undefined));
    good.stop({ kind: 'cease', subcode: 3, why: 'test: next case' });
    await eventually('BIRD sees the session end', () => (/mts\s+BGP\s+\S+\s+start/.test(birdc('show', 'protocols')) ? true : undefined));

    bad.start();
    await eventually('suspectedPasswordMismatch', () => (suspects.length > 0 ? true : undefined));
    assert.deepEqual(suspects, [SILENT_FAILURES_BEFORE_SUSPECT]);
    assert.equal(badUps.length, 0, 'no session with a wrong password');
    assert.ok(badLogs.some((l) => l['event'] === 'suspectedPasswordMismatch' && l['op'] === 'connect'), 'the log line carries the event');
    assert.doesNotMatch(birdc('show', 'protocols'), /mts\s+BGP\s+\S+\s+up/);
  } finally {
    good.stop({ kind: 'cease', subcode: 2, why: 'test over' });
    bad.stop({ kind: 'cease', subcode: 2, why: 'test over' });
    await bird.stop();
  }
});
}
