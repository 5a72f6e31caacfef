// The speaker's environment checks, carried out with fakes: one Warning Event on the Node and one warn line per
// finding while it holds, the gauge per check (0 from the start, 1 while failing, back to 0), rechecks on the timer,
// and the gossip window counted from when a peer went missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { FakeClock } from '../helpers/fake-clock.js';
import { StartupChecks, type NodeWarning } from '../../src/speaker/startup-checks.js';
import type { BgpPeerState, StrictArpInput } from '../../src/core/speaker/env-checks.js';
import type { LogFields, Logger } from '../../src/core/ports.js';
import type { InterfaceScan } from '../../src/adapters/layer2/interfaces.js';

function recordingLogger(lines: LogFields[], level = ''): Logger {
  const log = (l: string) => (f: LogFields) => { lines.push({ level: l, ...f }); };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => recordingLogger(lines, level) };
}

async function gauge(registry: Registry, check: string): Promise<number | undefined> {
  const m = await registry.getSingleMetric('metallb_speaker_startup_check_failed')?.get();
  return m?.values.find((v) => v.labels['check'] === check)?.value;
}

const SCAN: InterfaceScan = { interfaces: [{ name: 'eth0', mac: '02:00:00:00:00:01', arp: true, ndp: true }], errors: [] };

test('startup checks: each finding once while it holds (Event, log, gauge), cleared when fixed', async () => {
  const clock = new FakeClock();
  const registry = new Registry();
  const events: NodeWarning[] = [];
  const lines: LogFields[] = [];
  let all = { arpIgnore: 0, arpAnnounce: 0 };
  let peers: BgpPeerState[] = [];
  let missing: string[] = ['node2'];
  const checks = new StartupChecks({
    registry, logger: recordingLogger(lines), clock, recordNodeEvent: (e) => events.push(e),
    scan: () => SCAN,
    strictArp: (): StrictArpInput => ({ interfaces: ['eth0', 'kube-ipvs0'], arpInterfaces: [{ name: 'eth0', arpIgnore: 0, arpAnnounce: 0 }], all }),
    layer2InUse: () => true, bgpPeers: () => peers, gossipMissing: () => missing, memberlistPort: 7946,
    intervalMs: 10_000, windowMs: 30_000,
  });
  for (const c of ['strictARP', 'memberlistPort', 'memberlistReachable', 'announceInterface', 'bgpPeer']) {
    assert.equal(await gauge(registry, c), 0, `${c} exported as 0 before any check`);
  }
  checks.start();
  assert.deepEqual(events.map((e) => [e.type, e.reason]), [['Warning', 'StrictARPMissing']]);
  assert.equal(await gauge(registry, 'strictARP'), 1);
  const warn = lines.find((l) => l['event'] === 'startupCheckFailed')!;
  assert.deepEqual([warn['level'], warn['check'], warn['reason']], ['warn', 'strictARP', 'StrictARPMissing']);
  assert.equal(warn['error'], events[0]!.message);

  clock.advance(10_000);
  clock.advance(10_000);
  assert.equal(events.length, 1, 'a holding finding is not evented again on rechecks');

  peers = [{ peer: '192.0.2.1:179', startedAtMs: clock.now(), established: false, lastError: 'connection closed: connect ECONNREFUSED 192.0.2.1:179' }];
  clock.advance(10_000); // node2 missing for 30 s now
  assert.deepEqual(events.map((e) => e.reason), ['StrictARPMissing', 'MemberlistPortUnreachable']);
  assert.equal(await gauge(registry, 'memberlistReachable'), 1);
  assert.equal(await gauge(registry, 'bgpPeer'), 0, 'the peer started 10 s ago: within its window');

  all = { arpIgnore: 1, arpAnnounce: 2 };
  missing = [];
  checks.recheckMembers();
  assert.equal(await gauge(registry, 'memberlistReachable'), 0, 'resolved at once on a membership change');
  clock.advance(20_000);
  clock.advance(10_000);
  assert.equal(await gauge(registry, 'strictARP'), 0);
  assert.deepEqual(events.map((e) => e.reason), ['StrictARPMissing', 'MemberlistPortUnreachable', 'BGPPeerSilent']);
  assert.equal(await gauge(registry, 'bgpPeer'), 1);
  assert.deepEqual(lines.filter((l) => l['event'] === 'startupCheckResolved').map((l) => l['reason']).sort(), ['MemberlistPortUnreachable', 'StrictARPMissing']);

  peers = [{ ...peers[0]!, established: true }];
  missing = ['node3'];
  checks.recheck();
  assert.equal(await gauge(registry, 'bgpPeer'), 0);
  clock.advance(10_000);
  assert.equal(await gauge(registry, 'memberlistReachable'), 0, 'node3 counts from when it went missing, not from the start');

  checks.report('memberlistPort', [{ check: 'memberlistPort', reason: 'MemberlistPortInUse', message: 'in use' }]);
  assert.equal(await gauge(registry, 'memberlistPort'), 1);
  checks.report('memberlistPort', []);
  assert.equal(await gauge(registry, 'memberlistPort'), 0);
  checks.stop();
  assert.deepEqual(clock.pendingDelays(), [], 'no timer left after stop');
});
