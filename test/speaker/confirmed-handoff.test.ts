// The confirmed handoff carried out (issue 11) with a fake clock and a fake claim feed: which IPs are stopped
// when, the log line per IP and metallb_speaker_layer2_handoff_total{result}.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { FakeClock } from '../helpers/fake-clock.js';
import { ConfirmedHandoff } from '../../src/speaker/confirmed-handoff.js';
import type { Claim } from '../../src/core/layer2/conflict.js';
import type { LogFields, Logger } from '../../src/core/ports.js';

function harness() {
  const clock = new FakeClock();
  const registry = new Registry();
  const lines: LogFields[] = [];
  const logger: Logger = { debug: () => {}, info: (f) => lines.push(f), warn: (f) => lines.push(f), error: (f) => lines.push(f), child: () => logger };
  let listener: ((c: Claim) => void) | undefined;
  const stopped: Array<{ ip: string; at: number }> = [];
  const macs: Record<string, string> = { '02:00:00:00:00:02': 'node2', '02:00:00:00:00:01': 'node1' };
  const h = new ConfirmedHandoff({
    myNode: 'node1', clock, graceMs: 1000, registry, logger,
    onClaim: (l) => { listener = l; return () => { listener = undefined; }; },
    nodeByMac: (mac) => macs[mac], stop: (ip) => stopped.push({ ip, at: clock.now() }),
  });
  const claim = (ip: string, mac: string) => listener?.({ ip, mac });
  const count = async (result: string) => {
    const m = (await registry.getSingleMetric('metallb_speaker_layer2_handoff_total')!.get()).values.find((v) => v.labels['result'] === result);
    return m?.value;
  };
  return { clock, h, claim, stopped, lines, count, listening: () => listener !== undefined };
}

test('each IP stops at its successor\'s announcement; one without stops at the grace; logged and counted per IP', async () => {
  const x = harness();
  assert.equal(await x.count('confirmed'), 0);
  assert.equal(await x.count('timeout'), 0);
  const done: { stops?: Array<{ ip: string; result: string }> } = {};
  void x.h.handOff(['192.0.2.100', '2001:db8::100', '192.0.2.101']).then((s) => { done.stops = s; });
  x.clock.advance(30);
  x.claim('192.0.2.100', '02:00:00:00:00:99'); // nobody's MAC: no confirmation
  x.claim('192.0.2.100', '02:00:00:00:00:02');
  x.clock.advance(20);
  x.claim('2001:db8::100', '02:00:00:00:00:02');
  assert.deepEqual(x.stopped, [{ ip: '192.0.2.100', at: 30 }, { ip: '2001:db8::100', at: 50 }]);
  assert.deepEqual(x.h.pending(), ['192.0.2.101']);
  x.clock.advance(949);
  assert.equal(x.stopped.length, 2, 'not before the grace');
  assert.equal(done.stops, undefined, 'not over while an IP is pending');
  const stops = (): Array<{ ip: string; result: string }> | undefined => done.stops;
  x.clock.advance(1);
  assert.deepEqual(x.stopped.at(-1), { ip: '192.0.2.101', at: 1000 });
  await Promise.resolve();
  assert.deepEqual(stops()?.map((s) => [s.ip, s.result]),
    [['192.0.2.100', 'confirmed'], ['2001:db8::100', 'confirmed'], ['192.0.2.101', 'timeout']]);
  assert.deepEqual(x.lines.map((l) => [l['op'], l['ip'], l['result'], l['afterMs'], l['node']]), [
    ['handoff', '192.0.2.100', 'confirmed', 30, 'node2'],
    ['handoff', '2001:db8::100', 'confirmed', 50, 'node2'],
    ['handoff', '192.0.2.101', 'timeout', 1000, undefined],
  ]);
  assert.equal(await x.count('confirmed'), 2);
  assert.equal(await x.count('timeout'), 1);
  x.h.close();
  assert.equal(x.listening(), false);
});

test('nothing to hand off resolves at once; a claim on our own MAC or before any handoff stops nothing', async () => {
  const x = harness();
  x.claim('192.0.2.100', '02:00:00:00:00:02');
  assert.deepEqual(await x.h.handOff([]), []);
  void x.h.handOff(['192.0.2.100']);
  x.claim('192.0.2.100', '02:00:00:00:00:01');
  x.clock.advance(500);
  assert.deepEqual(x.stopped, []);
  x.clock.advance(500);
  assert.deepEqual(x.stopped, [{ ip: '192.0.2.100', at: 1000 }]);
});

test('cancel ends the handoff of IPs without stopping them; a handOff waiting only for them resolves', async () => {
  const x = harness();
  let resolved: Array<{ ip: string }> | undefined;
  void x.h.handOff(['192.0.2.100', '192.0.2.101']).then((s) => { resolved = s; });
  x.claim('192.0.2.100', '02:00:00:00:00:02');
  x.h.cancel(['192.0.2.101']);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(resolved?.map((s) => s.ip), ['192.0.2.100']);
  x.clock.advance(5000);
  assert.deepEqual(x.stopped.map((s) => s.ip), ['192.0.2.100'], 'the cancelled IP is never stopped by the handoff');
  assert.deepEqual(x.h.pending(), []);
});
