import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerReconciler, type ControllerCore, type WorkKey, type WriteResult } from '../../src/controller/reconciler.js';
import type { ConfigMapObject, ServiceObject } from '../../src/core/k8s/objects.js';
import type { Config, ConfigResult } from '../../src/core/config/types.js';
import { EMPTY_CONFIG } from '../../src/core/config/types.js';
import { parseConfig } from '../../src/core/config/parse.js';
import { NOOP_LOGGER, type ServiceEvent } from '../../src/core/ports.js';
import type { BalancerResult, ConfigDecision } from '../../src/controller/controller.js';
import type { Ingress, ServiceLike } from '../../src/core/service/view.js';
import type { StoredConfig } from '../../src/core/config/fail-static.js';

/** A scripted core: records every call; decisions come from the functions the test sets. */
class FakeCore implements ControllerCore {
  calls: string[] = [];
  decide: (cfg: Config | undefined) => ConfigDecision = () => ({ kind: 'applied' });
  balance: (key: string, svc: ServiceLike | undefined) => BalancerResult = () => ({ state: 'success', events: [] });
  setConfig(cfg: Config | undefined): ConfigDecision { this.calls.push(`setConfig(${cfg === undefined ? 'undefined' : cfg === EMPTY_CONFIG ? 'empty' : 'cfg'})`); return this.decide(cfg); }
  setBalancer(key: string, svc: ServiceLike | undefined): BalancerResult { this.calls.push(`setBalancer(${key}${svc ? '' : ',deleted'})`); return this.balance(key, svc); }
  markSynced() { this.calls.push('markSynced'); return 'reprocessAll' as const; }
  poolStats() { return new Map([['p', { capacity: 11, inUse: 1 }]]); }
}

function svc(ns: string, name: string, rv: string, ips: string[] = [], type = 'LoadBalancer'): ServiceObject {
  return { metadata: { namespace: ns, name, uid: `uid-${name}`, resourceVersion: rv }, spec: { type }, status: { loadBalancer: { ingress: ips.map((ip) => ({ ip, ipMode: 'VIP' })) } } };
}

function harness() {
  const core = new FakeCore();
  const services = new Map<string, ServiceObject>();
  let cm: ConfigMapObject | undefined;
  let parse: (t: string) => ConfigResult = (t) => parseConfig(t);
  const writes: Array<{ key: string; rv: string | undefined; ingress: readonly Ingress[] }> = [];
  let writeResult: (s: ServiceObject, ingress: readonly Ingress[]) => WriteResult = (s, ingress) =>
    ({ ok: true, service: { ...s, metadata: { ...s.metadata, resourceVersion: `${s.metadata?.resourceVersion}+` }, status: { loadBalancer: { ingress } } } });
  const events: Array<{ on: string; event: ServiceEvent }> = [];
  const enqueued: WorkKey[] = [];
  const gauges = { loaded: false, stale: false, pools: 0 };
  let stored: StoredConfig | undefined;
  const saved: StoredConfig[] = [];
  let saveResult: { ok: true } | { ok: false; error: string } = { ok: true };
  const r = new ControllerReconciler({
    core, logger: NOOP_LOGGER,
    parseConfig: (t) => parse(t),
    configMap: () => cm,
    service: (k) => services.get(k),
    services: () => services.values(),
    writeStatus: async (s, ingress) => { writes.push({ key: `${s.metadata?.namespace}/${s.metadata?.name}`, rv: s.metadata?.resourceVersion ?? undefined, ingress }); return writeResult(s, ingress); },
    recordEvent: (t, event) => events.push({ on: `${t.kind}:${t.namespace}/${t.name}`, event }),
    metrics: { setConfigLoaded: (b) => { gauges.loaded = b; }, setConfigStale: (b) => { gauges.stale = b; }, setPoolStats: (s) => { gauges.pools = s.size; } },
    enqueue: (k) => enqueued.push(k),
    stored: () => stored,
    saveApplied: async (c) => { saved.push(c); if (saveResult.ok) stored = c; return saveResult; },
    lbClass: undefined,
  });
  return {
    r, core, services, writes, events, enqueued, gauges, saved,
    setStored: (c: StoredConfig | undefined) => { stored = c; },
    setSaveResult: (v: typeof saveResult) => { saveResult = v; },
    setCm: (c: ConfigMapObject | undefined) => { cm = c; },
    setParse: (p: typeof parse) => { parse = p; },
    setWrite: (w: typeof writeResult) => { writeResult = w; },
    put: (s: ServiceObject) => services.set(`${s.metadata?.namespace}/${s.metadata?.name}`, s),
  };
}

const POOL_P = 'address-pools:\n- name: p\n  protocol: layer2\n  addresses: [192.168.1.0/24]\n';
const configMap = (rv: string, data: Record<string, string> | null = { config: POOL_P }): ConfigMapObject =>
  ({ metadata: { namespace: 'metallb-system', name: 'config', uid: 'cm-uid', resourceVersion: rv }, ...(data ? { data } : {}) });

test('synced: every Service holding a status IP reaches the core before markSynced, then everything is re-queued holders first', async () => {
  const h = harness();
  h.setCm(configMap('1'));
  h.put(svc('a', 'new', '1'));
  h.put(svc('a', 'old1', '2', ['192.168.1.230']));
  h.put(svc('b', 'old2', '3', ['192.168.1.231']));
  const state = await h.r.handle('synced');
  assert.equal(state, 'reprocessAll');
  assert.deepEqual(h.core.calls, ['setConfig(cfg)', 'setBalancer(a/old1)', 'setBalancer(b/old2)', 'markSynced']);
  assert.equal(h.r.synced, true);
  h.r.reprocessAll('synced');
  assert.deepEqual(h.enqueued, ['last-applied', 'service:a/old1', 'service:b/old2', 'service:a/new']);
  assert.deepEqual(h.writes, [], 'nothing to write when the core returns no status');
});

test('config: missing, parse error, absent data.config, refusal with blockers then applied after the last blocker goes', async () => {
  const h = harness();
  await h.r.handle('synced');
  assert.equal(await h.r.handle('config'), 'success');
  assert.deepEqual([h.core.calls.at(-1), h.gauges.stale, h.events.length], ['setConfig(undefined)', true, 0]);

  h.setCm(configMap('2', null));
  assert.equal(await h.r.handle('config'), 'reprocessAll');
  assert.deepEqual([h.core.calls.at(-1), h.gauges.stale, h.gauges.loaded], ['setConfig(empty)', false, true], 'no data.config = valid empty config');

  h.setCm(configMap('3', { config: 'bad: [' }));
  h.setParse(() => ({ ok: false, errors: [{ kind: 'yaml', message: 'yaml: line 1: did not find expected node content', path: '' }] }));
  assert.equal(await h.r.handle('config'), 'success', 'parse errors are not retried');
  assert.equal(h.gauges.stale, true);
  assert.deepEqual(h.events.at(-1), { on: 'ConfigMap:metallb-system/config', event: { type: 'Warning', reason: 'ConfigRefused', message: 'config refused, the last good config keeps running: yaml: line 1: did not find expected node content' } });

  h.setCm(configMap('4'));
  h.setParse(() => ({ ok: true, config: { ...EMPTY_CONFIG } }));
  h.core.decide = () => ({ kind: 'refused', reason: 'new config not compatible with assigned IPs', blockers: ['a/x', 'a/y'] });
  assert.equal(await h.r.handle('config'), 'success');
  assert.deepEqual(h.events.at(-1)?.event.message, 'config refused, the last good config keeps running: new config not compatible with assigned IPs; blocked by services: a/x, a/y');
  const eventsBefore = h.events.length;

  h.core.decide = () => ({ kind: 'refused', reason: 'new config not compatible with assigned IPs', blockers: ['a/y'] });
  h.core.balance = (_k, s) => (s ? { state: 'success', events: [] } : { state: 'reprocessAll', events: [], retry: ['b/w'] });
  h.enqueued.length = 0;
  assert.equal(await h.r.handle('service:a/x'), 'success', 'a deletion re-queues only the waiting Services the core names');
  assert.ok(h.enqueued.includes('service:b/w'));
  assert.equal(h.core.calls.at(-1), 'setConfig(cfg)', 'the refused config is re-submitted after the deletion');
  assert.equal(h.events.length, eventsBefore + 1, 'a changed blocker list is a new Warning');
  assert.equal(h.gauges.stale, true);

  h.core.decide = () => ({ kind: 'applied' });
  h.put(svc('b', 'waiting', '9'));
  h.enqueued.length = 0;
  await h.r.handle('service:a/y');
  assert.deepEqual(h.events.at(-1), { on: 'ConfigMap:metallb-system/config', event: { type: 'Normal', reason: 'ConfigApplied', message: 'previously refused config applied: nothing blocks it any more' } });
  assert.deepEqual([h.gauges.stale, h.gauges.loaded], [false, true]);
  assert.deepEqual(h.enqueued, ['last-applied', 'service:b/waiting', 'service:b/w'], 'applied config is persisted and re-queues every service');
});

test('status writes: events recorded, failures retried, our own write used until the informer catches up', async () => {
  const h = harness();
  h.put(svc('a', 's', '5'));
  h.core.balance = () => ({ state: 'success', status: [{ ip: '192.168.1.230' }], events: [{ type: 'Normal', reason: 'IPAllocated', message: 'Assigned IP ["192.168.1.230"]' }] });
  h.setWrite(() => ({ ok: false, status: 409, error: '409: the object has been modified' }));
  assert.equal(await h.r.handle('service:a/s'), 'error');
  h.setWrite((s, ingress) => ({ ok: true, service: { ...s, metadata: { ...s.metadata, resourceVersion: '6' }, status: { loadBalancer: { ingress } } } }));
  assert.equal(await h.r.handle('service:a/s'), 'success');
  assert.deepEqual(h.writes.map((w) => w.rv), ['5', '5']);
  assert.deepEqual(h.events.map((e) => `${e.on} ${e.event.reason}`), ['Service:a/s IPAllocated', 'Service:a/s IPAllocated']);

  let seenIngress: unknown;
  h.core.balance = (_k, s) => { seenIngress = s?.status?.loadBalancer?.ingress; return { state: 'success', events: [] }; };
  await h.r.handle('service:a/s');
  assert.deepEqual(seenIngress, [{ ip: '192.168.1.230' }], 'cache still at rv 5: the core sees the written object');
  h.put(svc('a', 's', '7', ['192.168.1.230']));
  await h.r.handle('service:a/s');
  assert.deepEqual(seenIngress, [{ ip: '192.168.1.230', ipMode: 'VIP' }], 'newer cache object wins');
});

test('a release re-queues exactly the waiting Services the core names, not every waiting one (issue 8 fault 1)', async () => {
  const h = harness();
  h.put(svc('a', 'holder', '1', ['192.168.1.230']));
  h.put(svc('a', 'waiting', '2'));
  h.put(svc('a', 'waiting-elsewhere', '3'));
  h.put(svc('a', 'changed', '4', ['192.168.1.231'], 'ClusterIP'));
  h.core.balance = () => ({ state: 'reprocessAll', status: [], events: [], retry: ['a/waiting'] });
  const state = await h.r.handle('service:a/changed');
  assert.equal(state, 'success', 'no reprocess of everything');
  assert.deepEqual(h.enqueued, ['service:a/waiting']);
});

const POOL_PROBE = 'address-pools:\n- name: probe\n  protocol: layer2\n  addresses: [198.51.100.0/28]\n- name: p\n  protocol: layer2\n  addresses: [192.168.1.0/24]\n';

test('start-up under a refused config (issue 8 fault 5): the stored config runs, the ConfigMap\'s is refused with a Warning, nothing moves', async () => {
  const h = harness();
  h.setStored({ text: POOL_PROBE, source: 'metallb-system/config@1' });
  h.setCm(configMap('2')); // pool p only: orphans the probe address below
  h.put(svc('a', 'probe', '1', ['198.51.100.0']));
  h.put(svc('a', 'other', '2', ['192.168.1.7']));
  const configs: Array<Config | undefined> = [];
  h.core.decide = (cfg) => { configs.push(cfg); return { kind: 'applied' }; };
  await h.r.handle('config'); // before sync: the statuses are not known yet, nothing is decided
  assert.deepEqual(h.core.calls, []);
  await h.r.handle('synced');
  assert.deepEqual(h.core.calls, ['setConfig(cfg)', 'setBalancer(a/probe)', 'setBalancer(a/other)', 'markSynced']);
  assert.deepEqual(configs.map((c) => c?.pools.map((p) => p.name)), [['probe', 'p']], 'the stored config, not the ConfigMap\'s');
  assert.deepEqual([h.gauges.stale, h.gauges.loaded], [true, true]);
  assert.equal(h.events.at(-1)?.event.reason, 'ConfigRefused');
  assert.match(h.events.at(-1)?.event.message ?? '', /service "a\/probe" cannot own "198\.51\.100\.0" under new config; blocked by services: a\/probe/);
  assert.equal(h.enqueued.includes('last-applied'), false, 'a refused config is never persisted');

  // The blocker goes: the ConfigMap's config is now applied, announced, and persisted.
  h.services.delete('a/probe');
  h.core.balance = (_k, s) => ({ state: s ? 'success' : 'reprocessAll', events: [] });
  await h.r.handle('service:a/probe');
  assert.deepEqual(configs.map((c) => c?.pools.map((p) => p.name)), [['probe', 'p'], ['p']]);
  assert.equal(h.events.at(-1)?.event.reason, 'ConfigApplied');
  assert.equal(h.gauges.stale, false);
  assert.equal(await h.r.handle('last-applied'), 'success');
  assert.deepEqual(h.saved, [{ text: POOL_P, source: 'metallb-system/config@2' }]);
});

test('start-up under a refused config with no store yet: no config runs, so nothing is allocated or cleared', async () => {
  const h = harness();
  h.setCm(configMap('2'));
  h.put(svc('a', 'probe', '1', ['198.51.100.0']));
  await h.r.handle('synced');
  assert.equal(h.core.calls.some((c) => c.startsWith('setConfig')), false, 'the core never sees the refused config');
  assert.deepEqual([h.gauges.stale, h.gauges.loaded], [true, false]);
  assert.equal(h.events.at(-1)?.event.reason, 'ConfigRefused');
});

test('start-up with a parse error in the ConfigMap: the stored config runs and the Warning is raised', async () => {
  const h = harness();
  h.setStored({ text: POOL_P, source: 'metallb-system/config@1' });
  h.setCm(configMap('2', { config: 'address-pools: [' }));
  await h.r.handle('synced');
  assert.equal(h.core.calls[0], 'setConfig(cfg)');
  assert.equal(h.gauges.stale, true);
  assert.equal(h.events.at(-1)?.event.reason, 'ConfigRefused');
});

test('the last-applied store: written once per applied text, a failed write is retried', async () => {
  const h = harness();
  h.setCm(configMap('1'));
  h.setSaveResult({ ok: false, error: '404: not found' });
  await h.r.handle('synced');
  assert.equal(await h.r.handle('last-applied'), 'error');
  h.setSaveResult({ ok: true });
  assert.equal(await h.r.handle('last-applied'), 'success');
  assert.equal(h.saved.length, 2);
  h.setCm(configMap('2')); // same text, new version: no write
  await h.r.handle('config');
  assert.equal(await h.r.handle('last-applied'), 'success');
  assert.equal(h.saved.length, 2);
});
