/**
 * Controller stories beyond MetalLB's vectors: load-balancer classes, the loadBalancerIPs
 * annotation, dual-stack, status normalisation, restart takeover, refused configs with blockers,
 * missing ConfigMap, pool exhaustion and malformed Services.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller } from '../../src/controller/controller.js';
import type { Config, Pool } from '../../src/core/config/types.js';
import { parseCidr } from '../../src/core/ip/index.js';
import { NOOP_LOGGER } from '../../src/core/ports.js';
import type { ServiceLike } from '../../src/core/service/view.js';

function pool(name: string, cidrs: string[], autoAssign = true): Pool {
  return { name, protocol: 'layer2', cidrs: cidrs.map((c) => parseCidr(c)!), addresses: cidrs, avoidBuggyIps: false, autoAssign, bgpAdvertisements: [] };
}
function config(...pools: Pool[]): Config {
  return { pools, peers: [], bfdProfiles: [], communityAliases: new Map() };
}

interface SvcOpts {
  type?: string;
  clusterIPs?: string[];
  lbClass?: string;
  loadBalancerIP?: string;
  annotations?: Record<string, string>;
  ingress?: { ip?: string; hostname?: string; ipMode?: string }[];
  ports?: { protocol?: string; port: number }[];
}
function svc(o: SvcOpts = {}): ServiceLike {
  const clusterIPs = o.clusterIPs ?? ['10.96.0.1'];
  return {
    metadata: { namespace: 'ns', name: 'x', annotations: o.annotations ?? {} },
    spec: {
      type: o.type ?? 'LoadBalancer',
      clusterIP: clusterIPs[0] ?? '',
      clusterIPs,
      loadBalancerIP: o.loadBalancerIP ?? '',
      ...(o.lbClass !== undefined ? { loadBalancerClass: o.lbClass } : {}),
      ports: o.ports ?? [{ protocol: 'TCP', port: 80 }],
    },
    status: { loadBalancer: { ingress: o.ingress ?? [] } },
  };
}
function ready(cfg: Config, lbClass?: string): Controller {
  const c = new Controller({ logger: NOOP_LOGGER, ...(lbClass !== undefined ? { lbClass } : {}) });
  assert.equal(c.setConfig(cfg).kind, 'applied');
  c.markSynced();
  return c;
}
const reasons = (r: { events: readonly { reason: string }[] }): string[] => r.events.map((e) => e.reason);

test('loadBalancerClass: other classes are left alone entirely', () => {
  const cases: { desc: string; lbClass: string | undefined; svcClass: string | undefined; handled: boolean }[] = [
    { desc: 'default controller, no class', lbClass: undefined, svcClass: undefined, handled: true },
    { desc: 'default controller, other class', lbClass: undefined, svcClass: 'other', handled: false },
    { desc: '--lb-class metallb, same class', lbClass: 'metallb', svcClass: 'metallb', handled: true },
    { desc: '--lb-class metallb, no class', lbClass: 'metallb', svcClass: undefined, handled: false },
    { desc: '--lb-class metallb, other class', lbClass: 'metallb', svcClass: 'other', handled: false },
  ];
  for (const c of cases) {
    const ctl = ready(config(pool('p', ['192.0.2.0/30'])), c.lbClass);
    // A stale foreign status must not be cleared either.
    const r = ctl.setBalancer('ns/x', svc({ ...(c.svcClass !== undefined ? { lbClass: c.svcClass } : {}), ingress: [{ ip: '198.51.100.9' }] }));
    assert.equal(r.status !== undefined, c.handled, c.desc);
    assert.equal(r.events.length > 0, c.handled, c.desc);
    assert.equal(r.state, 'success', c.desc);
  }
});

test('dual-stack via the loadBalancerIPs annotation, then an idempotent resync with ipMode', () => {
  const ctl = ready(config(pool('ds', ['192.0.2.0/30', 'fd00::/126'])));
  const annotations = { 'metallb.universe.tf/loadBalancerIPs': '192.0.2.2, fd00::3' };
  const first = ctl.setBalancer('ns/x', svc({ clusterIPs: ['10.96.0.1', 'fd00:96::1'], annotations }));
  assert.deepEqual(first.status, [{ ip: '192.0.2.2' }, { ip: 'fd00::3' }]);
  assert.deepEqual(first.events, [{ type: 'Normal', reason: 'IPAllocated', message: 'Assigned IP ["192.0.2.2" "fd00::3"]' }]);
  const again = ctl.setBalancer('ns/x', svc({ clusterIPs: ['10.96.0.1', 'fd00:96::1'], annotations, ingress: [{ ip: '192.0.2.2', ipMode: 'VIP' }, { ip: 'fd00::3', ipMode: 'VIP' }] }));
  assert.deepEqual(again, { state: 'success', events: [] });
  assert.equal(ctl.poolStats().get('ds')?.inUse, 2);
});

test('restart takeover: existing statuses are re-registered before sync, nothing is written', () => {
  const ctl = new Controller({ logger: NOOP_LOGGER });
  ctl.setConfig(config(pool('p', ['192.0.2.0/30'])));
  const held = ctl.setBalancer('ns/a', svc({ ingress: [{ ip: '192.0.2.0', ipMode: 'VIP' }] }));
  assert.deepEqual(held, { state: 'success', events: [] });
  const waiting = ctl.setBalancer('ns/b', svc());
  assert.deepEqual(waiting, { state: 'error', events: [] });
  assert.equal(ctl.markSynced(), 'reprocessAll');
  const later = ctl.setBalancer('ns/b', svc());
  assert.deepEqual(later.status, [{ ip: '192.0.2.1' }]);
});

test('a config that would orphan IPs is refused with every blocker, then applies once they are gone', () => {
  const ctl = ready(config(pool('old', ['192.0.2.0/30']), pool('new', ['198.51.100.0/30'])));
  ctl.setBalancer('ns/b', svc({ annotations: { 'metallb.universe.tf/address-pool': 'old' } }));
  ctl.setBalancer('ns/a', svc({ annotations: { 'metallb.universe.tf/address-pool': 'old' } }));
  const next = config(pool('new', ['198.51.100.0/30']));
  const refused = ctl.setConfig(next);
  assert.deepEqual(refused, {
    kind: 'refused',
    reason: 'new config not compatible with assigned IPs: service "ns/a" cannot own "192.0.2.1" under new config',
    blockers: ['ns/a', 'ns/b'],
  });
  assert.equal(ctl.configStale, true);
  // The last good config keeps running.
  assert.deepEqual(ctl.setBalancer('ns/c', svc({ annotations: { 'metallb.universe.tf/address-pool': 'old' } })).status, [{ ip: '192.0.2.2' }]);
  assert.equal(ctl.setBalancer('ns/c', undefined).state, 'reprocessAll');
  assert.equal(ctl.setBalancer('ns/a', undefined).state, 'reprocessAll');
  assert.deepEqual(ctl.setConfig(next), { kind: 'refused', reason: 'new config not compatible with assigned IPs: service "ns/b" cannot own "192.0.2.0" under new config', blockers: ['ns/b'] });
  // ns/b releases its IP by ceasing to be a LoadBalancer: that alone signals reprocessAll.
  const released = ctl.setBalancer('ns/b', svc({ type: 'ClusterIP', ingress: [{ ip: '192.0.2.0' }] }));
  assert.deepEqual(released, { state: 'reprocessAll', status: [], events: [] });
  assert.deepEqual(ctl.setConfig(next), { kind: 'applied' });
  assert.equal(ctl.configStale, false);
  assert.deepEqual([...ctl.poolStats().keys()], ['new']);
});

test('pool exhaustion: AllocationFailed without retry, an IP once another Service is deleted', () => {
  const ctl = ready(config(pool('one', ['192.0.2.9/32'])));
  assert.deepEqual(ctl.setBalancer('ns/a', svc()).status, [{ ip: '192.0.2.9' }]);
  const full = ctl.setBalancer('ns/b', svc());
  assert.equal(full.state, 'success');
  assert.equal(full.status, undefined);
  assert.deepEqual(full.events, [{ type: 'Warning', reason: 'AllocationFailed', message: 'Failed to allocate IP for "ns/b": no available IPs' }]);
  assert.equal(ctl.setBalancer('ns/a', undefined).state, 'reprocessAll');
  assert.deepEqual(ctl.setBalancer('ns/b', svc()).status, [{ ip: '192.0.2.9' }]);
});

test('ConfigMap missing: nothing allocated, nothing released, then recovery', () => {
  const cfg = config(pool('p', ['192.0.2.0/30']));
  const ctl = ready(cfg);
  assert.deepEqual(ctl.setBalancer('ns/a', svc()).status, [{ ip: '192.0.2.0' }]);
  assert.deepEqual(ctl.setConfig(undefined), { kind: 'missing' });
  assert.equal(ctl.configStale, true);
  assert.deepEqual(ctl.setBalancer('ns/b', svc()), { state: 'success', events: [] });
  assert.deepEqual(ctl.setBalancer('ns/a', svc({ type: 'NodePort', ingress: [{ ip: '192.0.2.0' }] })), { state: 'success', events: [] });
  assert.deepEqual(ctl.setConfig(cfg), { kind: 'applied' });
  assert.deepEqual(ctl.setBalancer('ns/b', svc()).status, [{ ip: '192.0.2.1' }]);
});

test('never-configured controller ignores Services', () => {
  const ctl = new Controller({ logger: NOOP_LOGGER });
  ctl.markSynced();
  assert.deepEqual(ctl.setBalancer('ns/a', svc()), { state: 'success', events: [] });
});

test('malformed Services become events, never exceptions', () => {
  const cases: { desc: string; input: ServiceLike; status: unknown; reasons: string[] }[] = [
    { desc: 'headless', input: svc({ clusterIPs: ['None'] }), status: undefined, reasons: [] },
    { desc: 'headless with a stale status is cleared', input: svc({ clusterIPs: ['None'], ingress: [{ ip: '192.0.2.0' }] }), status: [], reasons: [] },
    { desc: 'unparsable cluster IP', input: svc({ clusterIPs: ['banana'] }), status: undefined, reasons: ['noclusterIPsIPFamily'] },
    { desc: 'two IPv4 status IPs are replaced', input: svc({ ingress: [{ ip: '192.0.2.0' }, { ip: '192.0.2.1' }] }), status: [{ ip: '192.0.2.0' }], reasons: ['nolbIPsIPFamily', 'IPAllocated'] },
    { desc: 'both request styles', input: svc({ loadBalancerIP: '192.0.2.1', annotations: { 'metallb.universe.tf/loadBalancerIPs': '192.0.2.1' } }), status: undefined, reasons: ['LoadBalancerFailed'] },
    { desc: 'bad loadBalancerIPs annotation', input: svc({ annotations: { 'metallb.universe.tf/loadBalancerIPs': '1.2.3' } }), status: undefined, reasons: ['AllocationFailed'] },
    { desc: 'wrong-family request', input: svc({ loadBalancerIP: 'fd00::1' }), status: undefined, reasons: ['AllocationFailed'] },
    { desc: 'unknown pool', input: svc({ annotations: { 'metallb.universe.tf/address-pool': 'nope' } }), status: undefined, reasons: ['AllocationFailed'] },
    { desc: 'huge port list', input: svc({ ports: Array.from({ length: 5000 }, (_, i) => ({ port: i + 1 })) }), status: [{ ip: '192.0.2.0' }], reasons: ['IPAllocated'] },
    { desc: 'no spec at all', input: { metadata: { name: 'x' } }, status: undefined, reasons: [] },
  ];
  for (const c of cases) {
    const r = ready(config(pool('p', ['192.0.2.0/30']))).setBalancer('ns/x', c.input);
    assert.deepEqual(r.status, c.status, c.desc);
    assert.deepEqual(reasons(r), c.reasons, c.desc);
  }
});

test('poolStats: capacity capped like MetalLB MaxInt64, in-use counts shared IPs once', () => {
  const ctl = ready(config(pool('v4', ['192.0.2.0/24']), pool('v6', ['fd00::/64'])));
  const shared = { 'metallb.universe.tf/allow-shared-ip': 'k' };
  ctl.setBalancer('ns/a', svc({ annotations: shared, ports: [{ port: 80 }] }));
  ctl.setBalancer('ns/b', svc({ annotations: shared, ports: [{ port: 443 }] }));
  assert.deepEqual([...ctl.poolStats()], [
    ['v4', { capacity: 256, inUse: 1 }],
    ['v6', { capacity: Number(2n ** 63n - 1n), inUse: 0 }], // MaxInt64 as a float64, as Prometheus carries it
  ]);
});
