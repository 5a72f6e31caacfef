/**
 * The socket adapter against a real BIRD 2 on loopback: the session establishes, our prefixes appear in
 * BIRD's table with their communities, a removed prefix is withdrawn without a session reset, and a stop
 * reaches BIRD as Cease "peer de-configured". BIRD listens on 127.0.0.1 at a free port; we dial from
 * 127.0.0.2. Traffic stays on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realClock } from '../../../src/adapters/clock.js';
import { BgpSession } from '../../../src/adapters/bgp/session.js';
import { parseCidr, parseIp } from '../../../src/core/ip/index.js';
import { chooseRouterId, routeTable, SESSION_TIMING_DEFAULTS, type Negotiated } from '../../../src/core/bgp/index.js';
import { requirePrerequisite } from '../../../src/testing/cluster/test-cluster.js';
import { eventually, haveBird, startLoopbackBird } from './loopback-bird.js';

test('a session with BIRD establishes, routes appear and leave without a reset, stop sends Cease', async (t) => {
  if (!requirePrerequisite(t, haveBird && process.getuid?.() === 0, 'needs bird (BIRD 2) and root')) return;
  const bird = await startLoopbackBird({ listen: '127.0.0.1', source: '127.0.0.2', families: [4, 6], gracefulRestart: true, log: true });
  const { birdc, port } = bird;
  const ups: Negotiated[] = [];
  const session = new BgpSession({
    config: { localAs: 64512, peerAs: 64513, holdTimeSeconds: 9, families: [4, 6], gracefulRestart: { restartTimeSeconds: 15 }, ...SESSION_TIMING_DEFAULTS },
    peerAddress: '127.0.0.1',
    peerPort: port,
    sourceAddress: '127.0.0.2',
    clock: realClock,
    routerId: (local) => chooseRouterId({ localAddress: local, interfaceIpv4s: [], nodeName: 'node-a' }),
    otherFamilyNextHop: () => parseIp('2001:db8::2'),
    onUp: (n) => ups.push(n),
  });
  try {
    session.setRoutes(routeTable([
      { prefix: parseCidr('203.0.113.1/32')!, attributes: { communities: [64512 * 65536 + 1] } },
      { prefix: parseCidr('203.0.113.2/32')!, attributes: { communities: [64512 * 65536 + 1] } },
      { prefix: parseCidr('2001:db8:5::/64')!, attributes: {} },
    ]));
    session.start();
    await eventually('Established', () => (ups.length > 0 ? true : undefined));
    assert.deepEqual(ups[0]!.families, [4, 6]);
    assert.ok(ups[0]!.gracefulRestart !== undefined, 'BIRD with graceful restart on negotiates it');
    const routes = await eventually('both IPv4 prefixes in BIRD', () => {
      const out = birdc('show', 'route', 'protocol', 'mts', 'all');
      return out.includes('203.0.113.1/32') && out.includes('203.0.113.2/32') && out.includes('2001:db8:5::/64') ? out : undefined;
    });
    assert.match(routes, /BGP\.community: \(64512,1\)/);
    assert.match(routes, /BGP\.as_path: 64512/);
    assert.match(routes, /BGP\.next_hop: 127\.0\.0\.2/);
    assert.match(routes, /BGP\.next_hop: 2001:db8::2/);
    const since = /mts\s+BGP\s+\S+\s+up\s+(\S+)/.exec(birdc('show', 'protocols'))?.[1];
    assert.ok(since, 'BIRD shows the session up');

    session.setRoutes(routeTable([{ prefix: parseCidr('203.0.113.1/32')!, attributes: { communities: [64512 * 65536 + 1] } }]));
    await eventually('203.0.113.2/32 withdrawn', () => {
      const out = birdc('show', 'route', 'protocol', 'mts');
      return out.includes('203.0.113.1/32') && !out.includes('203.0.113.2/32') && !out.includes('2001:db8:5::/64') ? true : undefined;
    });
    assert.equal(/mts\s+BGP\s+\S+\s+up\s+(\S+)/.exec(birdc('show', 'protocols'))?.[1], since, 'no session reset');

    session.stop({ kind: 'cease', subcode: 3, why: 'peer removed' });
    const detail = await eventually('BIRD sees the Cease', () => {
      const out = birdc('show', 'protocols', 'all', 'mts');
      return /Received: Peer de-configured/i.test(out) ? out : undefined;
    });
    assert.doesNotMatch(detail, /203\.0\.113\.1\/32/);
  } finally {
    session.stop({ kind: 'cease', subcode: 2, why: 'test over' });
    await bird.stop();
  }
});

test('graceful restart: a stop closes without NOTIFICATION, BIRD keeps the routes stale, the next session\'s End-of-RIB flushes the rest', async (t) => {
  if (!requirePrerequisite(t, haveBird && process.getuid?.() === 0, 'needs bird (BIRD 2) and root')) return;
  const bird = await startLoopbackBird({ listen: '127.0.0.1', source: '127.0.0.2', families: [4], gracefulRestart: true });
  const { birdc, port } = bird;
  const route = (p: string) => ({ prefix: parseCidr(p)!, attributes: {} });
  const make = (ups: Negotiated[]) => new BgpSession({
    config: { localAs: 64512, peerAs: 64513, holdTimeSeconds: 9, families: [4], gracefulRestart: { restartTimeSeconds: 60 }, ...SESSION_TIMING_DEFAULTS },
    peerAddress: '127.0.0.1',
    peerPort: port,
    sourceAddress: '127.0.0.2',
    clock: realClock,
    routerId: () => Number(parseIp('192.0.2.10')!.value),
    onUp: (n) => ups.push(n),
  });
  const first: Negotiated[] = [];
  const second: Negotiated[] = [];
  const before = make(first);
  const after = make(second);
  try {
    before.setRoutes(routeTable([route('203.0.113.1/32'), route('203.0.113.2/32')]));
    before.start();
    await eventually('both prefixes', () => (/203\.0\.113\.2\/32/.test(birdc('show', 'route', 'protocol', 'mts')) ? true : undefined));
    before.stop({ kind: 'gracefulRestart' });
    // BIRD notices the closed connection and enters graceful restart recovery with the routes kept as stale.
    const status = await eventually('BIRD in graceful restart', () => {
      const out = birdc('show', 'protocols', 'all', 'mts');
      return /Neighbor graceful restart active/i.test(out) ? out : undefined;
    });
    assert.doesNotMatch(status, /Received: /, 'no NOTIFICATION reached BIRD');
    const stale = birdc('show', 'route', 'protocol', 'mts', 'all');
    assert.match(stale, /203\.0\.113\.1\/32/);
    assert.match(stale, /203\.0\.113\.2\/32/);
    after.setRoutes(routeTable([route('203.0.113.1/32')]));
    after.start();
    await eventually('Established again', () => (second.length > 0 ? true : undefined));
    await eventually('the prefix not re-sent flushed after End-of-RIB', () => {
      const out = birdc('show', 'route', 'protocol', 'mts');
      return out.includes('203.0.113.1/32') && !out.includes('203.0.113.2/32') ? true : undefined;
    });
  } finally {
    before.stop({ kind: 'cease', subcode: 2, why: 'test over' });
    after.stop({ kind: 'cease', subcode: 2, why: 'test over' });
    await bird.stop();
  }
});
