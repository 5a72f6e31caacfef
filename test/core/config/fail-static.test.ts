/** Fail-static choice (issue 8, fault 5): the candidate config is checked against the addresses in Service status. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailStaticConfig, chooseConfig, heldAddresses, orphanedBy, parseStored, type HeldAddresses } from '../../../src/core/config/fail-static.js';
import { parseConfig } from '../../../src/core/config/parse.js';
import { parseIp } from '../../../src/core/ip/index.js';

const pools = (...p: Array<[string, string, boolean?]>) => `address-pools:\n${p.map(([name, cidr, avoid]) =>
  `- name: ${name}\n  protocol: layer2\n  addresses: [${cidr}]\n${avoid ? '  avoid-buggy-ips: true\n' : ''}`).join('')}`;
const held = (service: string, ...ips: string[]): HeldAddresses => ({ service, ips: ips.map((s) => parseIp(s)!) });
const cfg = (text: string) => { const r = parseConfig(text); assert.ok(r.ok); return r.config; };

test('orphanedBy: a Service blocks when no single pool holds all of its addresses (avoid-buggy-ips honoured)', () => {
  const c = cfg(pools(['a', '192.0.2.0/24', true], ['b', '2001:db8::/64']));
  assert.deepEqual(orphanedBy(c, [held('n/ok', '192.0.2.1'), held('n/v6', '2001:db8::5')]).blockers, []);
  assert.deepEqual(orphanedBy(c, [held('n/z', '198.51.100.1'), held('n/buggy', '192.0.2.0'), held('n/ok', '192.0.2.1')]).blockers, ['n/buggy', 'n/z']);
  assert.deepEqual(orphanedBy(c, [held('n/split', '192.0.2.1', '2001:db8::5')]).blockers, ['n/split'], 'dual-stack across two pools: v0.12 needs one pool');
  const dual = cfg('address-pools:\n- name: d\n  protocol: layer2\n  addresses: [192.0.2.0/24, 2001:db8::/64]\n');
  assert.deepEqual(orphanedBy(dual, [held('n/split', '192.0.2.1', '2001:db8::5')]).blockers, []);
});

test('chooseConfig: missing, parse error, orphaning and passing candidates; running is kept when refused', () => {
  const running = { config: cfg(pools(['probe', '198.51.100.0/28'])), text: pools(['probe', '198.51.100.0/28']) };
  const h = [held('ns/probe', '198.51.100.0')];
  assert.deepEqual(chooseConfig({ configMap: { present: false }, parse: parseConfig, running, held: h }), { kind: 'missing', running });
  const bad = chooseConfig({ configMap: { present: true, text: 'address-pools: [' }, parse: parseConfig, running, held: h });
  assert.equal(bad.kind, 'refuse');
  assert.deepEqual(bad.kind === 'refuse' && [bad.blockers, bad.running], [[], running]);
  const orphaning = chooseConfig({ configMap: { present: true, text: pools(['lab', '192.0.2.0/24']) }, parse: parseConfig, running, held: h });
  assert.equal(orphaning.kind, 'refuse');
  assert.equal(orphaning.kind === 'refuse' && orphaning.reason, 'new config not compatible with assigned IPs: service "ns/probe" cannot own "198.51.100.0" under new config');
  const empty = chooseConfig({ configMap: { present: true, text: undefined }, parse: parseConfig, running, held: h });
  assert.equal(empty.kind, 'refuse', 'a ConfigMap without data.config is the empty config: it orphans too');
  const ok = chooseConfig({ configMap: { present: true, text: pools(['lab', '192.0.2.0/24'], ['probe', '198.51.100.0/28']) }, parse: parseConfig, running, held: h });
  assert.equal(ok.kind, 'apply');
  assert.equal(chooseConfig({ configMap: { present: true, text: undefined }, parse: parseConfig, running: undefined, held: [] }).kind, 'apply');
});

test('heldAddresses: only LoadBalancer Services of our class with parsable status IPs', () => {
  const svc = (name: string, spec: Record<string, unknown>, ips: string[]) => ({
    metadata: { namespace: 'n', name }, spec: { type: 'LoadBalancer', clusterIP: '10.0.0.1', ...spec },
    status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
  });
  const services = [svc('mine', {}, ['192.0.2.1']), svc('other-class', { loadBalancerClass: 'x' }, ['192.0.2.2']),
    svc('clusterip', { type: 'ClusterIP' }, ['192.0.2.3']), svc('none', {}, []), svc('junk', {}, ['not-an-ip'])];
  assert.deepEqual(heldAddresses(services, undefined).map((h) => h.service), ['n/mine']);
  assert.deepEqual(heldAddresses(services, 'x').map((h) => h.service), ['n/other-class']);
});

test('FailStaticConfig: a fresh process runs the stored config while the ConfigMap\'s is refused, then its own', () => {
  const stored = { text: pools(['probe', '198.51.100.0/28']) };
  const fs = new FailStaticConfig(parseConfig);
  const refused = fs.decide({ present: true, text: pools(['lab', '192.0.2.0/24']) }, stored, [held('ns/probe', '198.51.100.0')]);
  assert.equal(refused.kind, 'refuse');
  assert.equal(fs.running?.config.pools[0]?.name, 'probe');
  // Once the blocker is gone the ConfigMap's config applies and becomes this process's own running config.
  assert.equal(fs.decide({ present: true, text: pools(['lab', '192.0.2.0/24']) }, stored, []).kind, 'apply');
  assert.equal(fs.running?.config.pools[0]?.name, 'lab');
  // A later refusal keeps the process's own config, not the (older) stored one.
  fs.decide({ present: true, text: 'address-pools: [' }, stored, []);
  assert.equal(fs.running?.config.pools[0]?.name, 'lab');
});

test('parseStored: absent, empty-config and unparsable stores', () => {
  assert.equal(parseStored(undefined, parseConfig), undefined);
  assert.deepEqual(parseStored({ text: undefined }, parseConfig)?.config.pools, []);
  assert.equal(parseStored({ text: 'address-pools: [' }, parseConfig), undefined);
});
