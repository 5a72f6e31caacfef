import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpeakerReconciler, type WorkKey } from '../../src/speaker/reconciler.js';
import { Speaker } from '../../src/speaker/speaker.js';
import { parseConfig } from '../../src/core/config/parse.js';
import { heldAddresses, type StoredConfig } from '../../src/core/config/fail-static.js';
import type { ConfigMapObject, ServiceObject } from '../../src/core/k8s/objects.js';
import type { LogFields, Logger, ServiceEvent } from '../../src/core/ports.js';
import { endpointsFromSlices, type EndpointsView } from '../../src/core/service/endpoints.js';

const NS = 'metallb-system';
const LAYER2 = 'address-pools:\n- name: l2\n  protocol: layer2\n  addresses:\n  - 192.0.2.0/28\n  - 2001:db8::/124\n- name: other\n  protocol: layer2\n  addresses:\n  - 198.51.100.0/28\n';

/** A logger that keeps every line with its level. */
function recordingLogger(lines: Array<LogFields & { level: string }>): Logger {
  const at = (level: string) => (f: LogFields) => { lines.push({ ...f, level }); };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

function svc(name: string, ips: string[], o: { type?: string; policy?: string; rv?: string } = {}): ServiceObject {
  return {
    metadata: { namespace: 'demo', name, uid: `uid-${name}`, resourceVersion: o.rv ?? '1' },
    spec: { type: o.type ?? 'LoadBalancer', externalTrafficPolicy: o.policy ?? 'Cluster' },
    status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
  };
}

/** Ready endpoints of one Service on `nodes`, as one v1 EndpointSlice. */
function readyOn(...nodes: string[]): EndpointsView {
  return endpointsFromSlices([{ endpoints: nodes.map((n, i) => ({ addresses: [`10.0.0.${i + 1}`], nodeName: n, conditions: { ready: true } })) }]);
}

function harness(myNode = 'node-a', alive: string[] = ['node-a'], o: { handOff?: boolean } = {}) {
  const services = new Map<string, ServiceObject>();
  const endpoints = new Map<string, EndpointsView>();
  let cm: ConfigMapObject | undefined = { metadata: { namespace: NS, name: 'config', uid: 'cm', resourceVersion: '1' }, data: { config: LAYER2 } };
  const calls: string[] = [];
  const events: Array<{ on: string; event: ServiceEvent }> = [];
  const gauge = new Map<string, number>();
  const gauges = { loaded: false, stale: false };
  const enqueued: WorkKey[] = [];
  const lines: Array<LogFields & { level: string }> = [];
  let aliveSet = new Set(alive);
  let quorum = true;
  let excluded: ReadonlySet<string> = new Set();
  const handoffs = new Map<string, () => void>();
  let stored: StoredConfig | undefined;
  const core = new Speaker({ myNode });
  const r = new SpeakerReconciler({
    core, myNode, logger: recordingLogger(lines),
    parseConfig: (t) => parseConfig(t),
    configMap: () => cm,
    stored: () => stored,
    held: () => heldAddresses(services.values(), undefined),
    service: (k) => services.get(k),
    serviceNames: () => services.keys(),
    endpoints: (k) => endpoints.get(k) ?? endpointsFromSlices([]),
    alive: () => aliveSet,
    claimNew: () => quorum,
    excluded: () => excluded,
    announcer: {
      setBalancer: (name, ips) => calls.push(`set ${name} ${ips.join(',')}`),
      deleteBalancer: (name) => calls.push(`delete ${name}`),
      ...(o.handOff ? { handOff: (name: string, done: () => void) => { calls.push(`handoff ${name}`); handoffs.set(name, done); } } : {}),
    },
    recordEvent: (t, event) => events.push({ on: `${t.kind}:${t.namespace}/${t.name}`, event }),
    metrics: {
      setConfigLoaded: (b) => { gauges.loaded = b; },
      setConfigStale: (b) => { gauges.stale = b; },
      setAnnounced: (s, p, ip, on) => { const k = `${s}|${p}|${ip}`; if (on) gauge.set(k, 1); else gauge.delete(k); },
    },
    enqueue: (k) => enqueued.push(k),
  });
  const put = (s: ServiceObject, eps: EndpointsView = readyOn(myNode)) => {
    const key = `${s.metadata?.namespace}/${s.metadata?.name}`;
    services.set(key, s);
    endpoints.set(key, eps);
  };
  const sync = (name: string) => r.handle(`service:demo/${name}`);
  // The ConfigMap informer fires before the synced marker; the config is decided at the marker, on a full view.
  const start = async () => { assert.equal(await r.handle('config'), 'success'); assert.equal(await r.handle('synced'), 'reprocessAll'); };
  return {
    r, core, services, endpoints, calls, events, gauge, gauges, enqueued, lines, put, sync, start,
    setCm: (c: ConfigMapObject | undefined) => { cm = c; },
    setConfigText: (text: string, rv: string) => { cm = { metadata: { namespace: NS, name: 'config', uid: 'cm', resourceVersion: rv }, data: { config: text } }; },
    setAlive: (nodes: string[]) => { aliveSet = new Set(nodes); },
    setQuorum: (q: boolean) => { quorum = q; },
    setExcluded: (nodes: string[]) => { excluded = new Set(nodes); },
    /** Ends the pending handoff of `name` as the announcer would after the grace. */
    finishHandoff: (name: string) => { const done = handoffs.get(name); handoffs.delete(name); assert.ok(done, `no handoff of ${name}`); done(); },
    setStored: (text: string) => { stored = { text, source: 'metallb-system/config@1' }; },
    linesOf: (event: string) => lines.filter((l) => l.event === event),
  };
}

test('nothing is decided before the synced marker; the marker reprocesses every Service', async () => {
  const h = harness();
  h.put(svc('a', ['192.0.2.1']));
  h.put(svc('b', ['192.0.2.2']));
  await h.r.handle('config');
  assert.equal(await h.sync('a'), 'success');
  assert.deepEqual(h.calls, [], 'a Service key before sync must not reach the announcer');
  assert.equal(h.r.synced, false);
  assert.equal(await h.r.handle('synced'), 'reprocessAll');
  assert.equal(h.r.synced, true);
  h.r.reprocessAll('synced');
  assert.deepEqual([...h.enqueued].sort(), ['service:demo/a', 'service:demo/b']);
});

test('announcing: the announcer gets the IPs, the gauge is 1 per IP, nodeAssigned on every sync, serviceAnnounced logged once', async () => {
  const h = harness();
  h.put(svc('dual', ['192.0.2.3', '2001:db8::3']));
  await h.start();
  await h.sync('dual');
  await h.sync('dual');
  assert.deepEqual(h.calls, ['set demo/dual 192.0.2.3,2001:db8::3', 'set demo/dual 192.0.2.3,2001:db8::3']);
  assert.deepEqual([...h.gauge.keys()].sort(), ['demo/dual|layer2|192.0.2.3', 'demo/dual|layer2|2001:db8::3']);
  assert.deepEqual(h.events, [
    { on: 'Service:demo/dual', event: { type: 'Normal', reason: 'nodeAssigned', message: 'announcing from node "node-a"' } },
    { on: 'Service:demo/dual', event: { type: 'Normal', reason: 'nodeAssigned', message: 'announcing from node "node-a"' } },
  ]);
  const announced = h.linesOf('serviceAnnounced');
  assert.deepEqual(announced.map((l) => l.level), ['info', 'debug']);
  assert.equal(announced[0]!['pool'], 'l2');
});

test('withdraw on deletion removes the announcement, the gauge and logs serviceWithdrawn with the reason', async () => {
  const h = harness();
  h.put(svc('gone', ['192.0.2.4']));
  await h.start();
  await h.sync('gone');
  h.services.delete('demo/gone');
  await h.sync('gone');
  assert.deepEqual(h.calls, ['set demo/gone 192.0.2.4', 'delete demo/gone']);
  assert.equal(h.gauge.size, 0);
  assert.deepEqual(h.linesOf('serviceWithdrawn').map((l) => [l['reason'], l['ips']]), [['serviceDeleted', ['192.0.2.4']]]);
  // A deleted Service that was never announced here touches nothing.
  await h.sync('never');
  assert.equal(h.calls.length, 2);
});

test('another node owns a Local Service whose only endpoint is there: notOwner, nothing announced, logged at debug once', async () => {
  const h = harness('node-a', ['node-a', 'node-b']);
  h.put(svc('local', ['192.0.2.5'], { policy: 'Local' }), readyOn('node-b'));
  await h.start();
  await h.sync('local');
  await h.sync('local');
  assert.deepEqual(h.calls, []);
  assert.deepEqual(h.linesOf('serviceSkipped').map((l) => [l['reason'], l.level]), [['notOwner', 'debug']]);
});

test('membership change: the owner that dies is replaced, the new owner announces and the old one withdraws (notOwner)', async () => {
  const a = harness('node-a', ['node-a', 'node-b']);
  const b = harness('node-b', ['node-a', 'node-b']);
  for (const h of [a, b]) { h.put(svc('m', ['192.0.2.6']), readyOn('node-a', 'node-b')); await h.start(); await h.sync('m'); }
  const owners = [a, b].filter((h) => h.calls.length > 0);
  assert.equal(owners.length, 1, 'exactly one of two speakers with the same view announces');
  const [owner, other] = owners[0] === a ? [a, b] : [b, a];
  // The other node leaves the alive set on the owner: nothing changes there. The owner leaves: the other takes over.
  for (const h of [a, b]) h.setAlive([owner === a ? 'node-b' : 'node-a']);
  assert.equal(await owner.r.handle('membership'), 'reprocessAll');
  await owner.sync('m');
  await other.sync('m');
  assert.deepEqual(owner.calls.at(-1), 'delete demo/m');
  assert.deepEqual(owner.linesOf('serviceWithdrawn').map((l) => l['reason']), ['notOwner']);
  assert.deepEqual(other.calls, ['set demo/m 192.0.2.6']);
});

test('a garbage status IP or an IP outside every pool is skipped with its reason as a warning, never a throw', async () => {
  const h = harness();
  // Put after the config applied: an address outside every pool in a status blocks any new config (fail-static).
  await h.start();
  h.put(svc('garbage', ['not-an-ip']));
  h.put(svc('outside', ['203.0.113.9']));
  h.put({ metadata: { namespace: 'demo', name: 'weird' }, spec: { type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [{ ip: 42 as unknown as string }] } } });
  for (const name of ['garbage', 'outside', 'weird']) assert.equal(await h.sync(name), 'success');
  assert.deepEqual(h.calls, []);
  assert.deepEqual(h.linesOf('serviceSkipped').map((l) => [l['service'], l['reason'], l.level]), [
    ['demo/garbage', 'invalidIP', 'warn'], ['demo/outside', 'ipNotAllowed', 'warn'], ['demo/weird', 'invalidIP', 'warn'],
  ]);
});

test('BGP pools are not announced (reason logged once); switching the pool to bgp withdraws with protocolChanged', async () => {
  const h = harness();
  h.put(svc('switch', ['192.0.2.7']));
  await h.start();
  await h.sync('switch');
  h.setConfigText(LAYER2.replace('  protocol: layer2\n  addresses:\n  - 192.0.2.0/28', '  protocol: bgp\n  addresses:\n  - 192.0.2.0/28'), '2');
  assert.equal(await h.r.handle('config'), 'reprocessAll', 'the IP still has a pool: the config applies');
  await h.sync('switch');
  await h.sync('switch');
  assert.deepEqual(h.calls, ['set demo/switch 192.0.2.7', 'delete demo/switch']);
  assert.deepEqual(h.linesOf('serviceWithdrawn').map((l) => l['reason']), ['protocolChanged']);
  assert.deepEqual(h.linesOf('serviceSkipped').map((l) => [l['reason'], l['protocol'], l.level]), [['protocolNotImplemented', 'bgp', 'info']]);
  assert.equal(h.gauge.size, 0);
});

test('fail-static: a config leaving a held IP without a pool is refused, the last good keeps running, and it applies once the Service is gone', async () => {
  const h = harness();
  h.put(svc('held', ['198.51.100.1']));
  h.put(svc('kept', ['192.0.2.8']));
  await h.start();
  await h.sync('held');
  await h.sync('kept');
  assert.equal(h.gauges.loaded, true);
  assert.equal(h.gauges.stale, false);
  const withoutOther = 'address-pools:\n- name: l2\n  protocol: layer2\n  addresses:\n  - 192.0.2.0/28\n';
  h.setConfigText(withoutOther, '2');
  assert.equal(await h.r.handle('config'), 'success');
  assert.equal(h.gauges.stale, true);
  const refusals = h.events.filter((e) => e.event.reason === 'ConfigRefused');
  assert.equal(refusals.length, 1);
  assert.equal(refusals[0]!.on, 'ConfigMap:metallb-system/config');
  assert.equal(refusals[0]!.event.type, 'Warning');
  assert.match(refusals[0]!.event.message, /node "node-a", the last good config keeps running: .*198\.51\.100\.1.*; blocked by services: demo\/held$/);
  assert.deepEqual(h.linesOf('serviceWithdrawn'), [], 'nothing withdrawn on a refused config');
  // The last good config keeps running: a resync of the blocked Service still announces it.
  await h.sync('held');
  assert.equal(h.calls.at(-1), 'set demo/held 198.51.100.1');
  // The same refusal again raises no second Warning.
  await h.r.handle('config');
  assert.equal(h.events.filter((e) => e.event.reason === 'ConfigRefused').length, 1);
  // A resync of a Service that still holds its address does not re-decide the config.
  h.enqueued.length = 0;
  await h.sync('kept');
  assert.deepEqual(h.enqueued, []);
  // The blocking Service goes away: its withdrawal queues the config again, which now applies.
  h.services.delete('demo/held');
  await h.sync('held');
  assert.deepEqual(h.enqueued, ['config']);
  assert.equal(await h.r.handle('config'), 'reprocessAll');
  assert.equal(h.gauges.stale, false);
  assert.deepEqual(h.events.filter((e) => e.event.reason === 'ConfigApplied').map((e) => [e.event.type, e.event.message]),
    [['Normal', 'previously refused config applied: nothing blocks it any more']]);
  assert.equal(h.core.runningConfig?.pools.map((p) => p.name).join(), 'l2');
});

test('fail-static: a NEW config replacing a refused one is "config applied", not "previously refused config applied"', async () => {
  const h = harness();
  h.put(svc('held', ['198.51.100.1']));
  await h.start();
  await h.sync('held');
  h.setConfigText('address-pools:\n- name: l2\n  protocol: layer2\n  addresses:\n  - 192.0.2.0/28\n', '2');
  assert.equal(await h.r.handle('config'), 'success');
  assert.equal(h.events.filter((e) => e.event.reason === 'ConfigRefused').length, 1);
  // The user edits the ConfigMap again: a config that keeps 198.51.100.1 in a pool, so it applies at once.
  h.setConfigText('address-pools:\n- name: wide\n  protocol: layer2\n  addresses:\n  - 198.51.100.0/24\n', '3');
  assert.equal(await h.r.handle('config'), 'reprocessAll');
  assert.deepEqual(h.events.filter((e) => e.event.reason === 'ConfigApplied').map((e) => [e.event.type, e.event.message]), [['Normal', 'config applied']]);
  assert.deepEqual(h.linesOf('configLoaded').map((l) => l.msg).at(-1), 'config (re)loaded');
});

test('v0.11\'s own rule still holds: a config leaving an announced IP without a pool is refused even if no status shows it', async () => {
  const h = harness();
  h.put(svc('moved', ['198.51.100.2']));
  await h.start();
  await h.sync('moved');
  // The status no longer shows the address (edited away), but this node still announces it until the next sync.
  h.services.set('demo/moved', svc('moved', []));
  h.setConfigText('address-pools:\n- name: l2\n  protocol: layer2\n  addresses:\n  - 192.0.2.0/28\n', '2');
  assert.equal(await h.r.handle('config'), 'success');
  assert.equal(h.gauges.stale, true);
  assert.match(h.events.at(-1)!.event.message, /service has no configuration under new config; blocked by services: demo\/moved$/);
  await h.sync('moved');
  assert.equal(h.calls.at(-1), 'delete demo/moved');
  assert.ok(h.enqueued.includes('config'), 'the withdrawal re-decides the refused config');
  assert.equal(await h.r.handle('config'), 'reprocessAll');
  assert.equal(h.gauges.stale, false);
});

test('a restarted speaker facing a refused ConfigMap runs the last-applied store\'s config', async () => {
  const h = harness();
  h.put(svc('a', ['198.51.100.3']));
  h.setStored(LAYER2);
  h.setConfigText('address-pools:\n- name: x\n  protocol: carrier-pigeon\n', '5');
  assert.equal(await h.r.handle('config'), 'success', 'decided at the synced marker');
  const before = h.core.runningConfig;
  assert.equal(before, undefined);
  assert.equal(await h.r.handle('synced'), 'reprocessAll');
  assert.equal(h.gauges.stale, true);
  assert.equal(h.gauges.loaded, true);
  assert.deepEqual(h.core.runningConfig?.pools.map((p) => p.name), ['l2', 'other'], 'the store\'s config is applied');
  await h.sync('a');
  assert.deepEqual(h.calls, ['set demo/a 198.51.100.3']);
});

test('the config is decided on the full Service view: a Service the cache lists only after the ConfigMap still blocks it', async () => {
  // The ConfigMap informer can fire while the Service informer is still listing: deciding then would apply a config
  // that orphans a held address, or refuse it, by timing (a CI flake of two e2e suites).
  const h = harness();
  h.setStored(LAYER2);
  h.setConfigText('address-pools:\n- name: narrow\n  protocol: layer2\n  addresses:\n  - 192.0.2.0/28\n', '7');
  assert.equal(await h.r.handle('config'), 'success');
  h.put(svc('late', ['198.51.100.3'])); // listed after the ConfigMap event, before the marker
  await h.r.handle('synced');
  assert.equal(h.gauges.stale, true, 'refused: 198.51.100.3 is held outside every pool of the ConfigMap');
  assert.deepEqual(h.core.runningConfig?.pools.map((p) => p.name), ['l2', 'other'], 'the store\'s config runs');
  assert.equal(h.events.filter((e) => e.event.reason === 'ConfigRefused').length, 1);
});

test('a refused config with nothing to fall back on (no store, nothing applied) runs, stale, for the Services it covers', async () => {
  const h = harness();
  h.put(svc('held', ['198.51.100.3'])); // outside the ConfigMap's pools: it blocks the config
  h.put(svc('covered', ['192.0.2.5']));
  h.setConfigText('address-pools:\n- name: narrow\n  protocol: layer2\n  addresses:\n  - 192.0.2.0/28\n', '8');
  await h.start();
  assert.equal(h.gauges.stale, true);
  assert.deepEqual(h.core.runningConfig?.pools.map((p) => p.name), ['narrow'], 'running nothing would withdraw every Service');
  assert.equal(h.linesOf('configLoaded')[0]?.['source'], 'refused-configmap');
  const refused = h.events.find((e) => e.event.reason === 'ConfigRefused');
  assert.match(refused?.event.message ?? '', /there is no last good config, so it runs for the services it covers: .*blocked by services: demo\/held/);
  await h.sync('covered');
  await h.sync('held');
  assert.deepEqual(h.calls, ['set demo/covered 192.0.2.5'], 'the covered Service is announced, the blocker is not');
});

test('a config that does not parse is refused with the parser errors; a missing ConfigMap keeps the running config and is logged once', async () => {
  const h = harness();
  h.put(svc('a', ['192.0.2.9']));
  await h.start();
  await h.sync('a');
  h.setConfigText('address-pools:\n- name: x\n  protocol: carrier-pigeon\n', '3');
  assert.equal(await h.r.handle('config'), 'success');
  assert.equal(h.gauges.stale, true);
  assert.equal(h.linesOf('serviceWithdrawn').length, 0);
  assert.equal(h.lines.filter((l) => String(l.msg).startsWith('config (re)load failed, config marked stale')).length, 1);
  assert.equal(h.events.filter((e) => e.event.reason === 'ConfigRefused').length, 1);
  h.setCm(undefined);
  await h.r.handle('config');
  await h.r.handle('config');
  assert.equal(h.lines.filter((l) => l.msg === 'configuration is missing, MetalLB will not function').length, 1);
  await h.sync('a');
  assert.equal(h.calls.at(-1), 'set demo/a 192.0.2.9', 'the running config still announces');
});

test('a membership change before the synced marker is left to the marker', async () => {
  const h = harness();
  assert.equal(await h.r.handle('membership'), 'success');
  await h.start();
  assert.equal(await h.r.handle('membership'), 'reprocessAll');
});

test('the minority rule: without quorum a node keeps the layer-2 Services it announces and takes no new one (noQuorum, info)', async () => {
  const h = harness();
  h.put(svc('kept', ['192.0.2.4']));
  h.put(svc('new', ['192.0.2.5']));
  await h.start();
  await h.sync('kept');
  h.setQuorum(false);
  await h.sync('kept');
  await h.sync('new');
  assert.deepEqual(h.calls, ['set demo/kept 192.0.2.4', 'set demo/kept 192.0.2.4']);
  assert.deepEqual([...h.gauge.keys()], ['demo/kept|layer2|192.0.2.4']);
  const skipped = h.linesOf('serviceSkipped').filter((l) => l['service'] === 'demo/new');
  assert.deepEqual(skipped.map((l) => [l.level, l['reason']]), [['info', 'noQuorum']]);
  h.setQuorum(true);
  await h.sync('new');
  assert.deepEqual(h.calls.at(-1), 'set demo/new 192.0.2.5');
});

test('--exclude-lb: the labelled owner hands its layer-2 IP off (gauge kept until the grace is over), the successor announces; unlabelled, it moves back the same way', async () => {
  const alive = ['node-a', 'node-b'];
  const a = harness('node-a', alive, { handOff: true });
  const b = harness('node-b', alive, { handOff: true });
  for (const h of [a, b]) { h.put(svc('x', ['192.0.2.7']), readyOn('node-a', 'node-b')); await h.start(); await h.sync('x'); }
  const [owner, successor] = a.calls.length > 0 ? [a, b] : [b, a];
  const ownerName = owner === a ? 'node-a' : 'node-b';
  assert.deepEqual(successor.calls, []);
  for (const h of [a, b]) { h.setExcluded([ownerName]); await h.sync('x'); }
  assert.deepEqual(owner.calls.slice(1), ['handoff demo/x'], 'the old owner keeps answering: no delete yet');
  assert.deepEqual([...owner.gauge.keys()], ['demo/x|layer2|192.0.2.7'], 'still announcing during the grace');
  assert.deepEqual(owner.linesOf('serviceWithdrawn').map((l) => [l['reason'], l['handoff']]), [['nodeExcluded', true]]);
  assert.deepEqual(successor.calls, ['set demo/x 192.0.2.7']);
  owner.finishHandoff('demo/x');
  assert.equal(owner.gauge.size, 0);
  assert.deepEqual(owner.linesOf('handoffDone').map((l) => l['ips']), [['192.0.2.7']]);
  // The label goes: the first owner is elected again; the successor hands back the same way.
  for (const h of [a, b]) { h.setExcluded([]); await h.sync('x'); }
  assert.deepEqual(owner.calls.at(-1), 'set demo/x 192.0.2.7');
  assert.deepEqual(successor.calls.slice(1), ['handoff demo/x']);
  assert.deepEqual(successor.linesOf('serviceWithdrawn').map((l) => l['reason']), ['notOwner']);
  successor.finishHandoff('demo/x');
  assert.equal(successor.gauge.size, 0);
});

test('a handoff ended by announcing again keeps the gauge; reasons other than notOwner/nodeExcluded stop at once', async () => {
  const h = harness('node-a', ['node-a', 'node-b'], { handOff: true });
  h.put(svc('y', ['192.0.2.8']), readyOn('node-a', 'node-b'));
  await h.start();
  await h.sync('y');
  h.setExcluded(['node-a']);
  await h.sync('y');
  h.setExcluded([]);
  await h.sync('y');
  h.finishHandoff('demo/y'); // the announcer ends it when the name is set again
  assert.deepEqual(h.calls, ['set demo/y 192.0.2.8', 'handoff demo/y', 'set demo/y 192.0.2.8']);
  assert.deepEqual([...h.gauge.keys()], ['demo/y|layer2|192.0.2.8']);
  assert.deepEqual(h.linesOf('handoffDone'), []);
  h.services.delete('demo/y');
  await h.sync('y');
  assert.deepEqual(h.calls.at(-1), 'delete demo/y');
  assert.equal(h.gauge.size, 0);
});
