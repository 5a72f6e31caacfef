/**
 * validate --cluster's dry run (issue 13 §2) over hand-written ConfigMaps, stores and Services: refusals name their
 * blockers, an applied config reports each Service as keep / change / lose / gain / none, and the exit codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dryRun, dryRunExitCode, type DryRunInput } from '../../src/controller/dry-run.js';
import { parseConfig, parseConfigDocument } from '../../src/core/config/parse.js';
import type { ConfigMapObject, ServiceObject } from '../../src/core/k8s/objects.js';

const POOL_A = 'address-pools:\n- name: a\n  protocol: layer2\n  addresses: [192.0.2.0/30]\n';
const POOL_B = 'address-pools:\n- name: b\n  protocol: layer2\n  addresses: [198.51.100.0/30]\n';

function cm(text: string | undefined): ConfigMapObject {
  return { metadata: { namespace: 'metallb-system', name: 'config', resourceVersion: '1' }, data: text === undefined ? {} : { config: text } };
}
function svc(name: string, ingress: string[], o: { annotations?: Record<string, string>; type?: string; lbClass?: string } = {}): ServiceObject {
  return {
    metadata: { namespace: 'ns', name, annotations: o.annotations ?? {} },
    spec: {
      type: o.type ?? 'LoadBalancer', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ protocol: 'TCP', port: 80 }],
      ...(o.lbClass !== undefined ? { loadBalancerClass: o.lbClass } : {}),
    },
    status: { loadBalancer: { ingress: ingress.map((ip) => ({ ip })) } },
  };
}
function run(candidate: string, live: string | undefined, services: ServiceObject[], extra: Partial<DryRunInput> = {}) {
  return dryRun({
    candidate: parseConfigDocument(candidate), configMap: live === undefined ? undefined : cm(live), stored: undefined,
    services, parse: (t) => parseConfig(t), ...extra,
  });
}
const fates = (r: ReturnType<typeof dryRun>) => Object.fromEntries(r.services.map((s) => [s.service, [s.fate, s.after.join(',')]]));

test('the same config: every Service keeps its address, exit 0', () => {
  const r = run(POOL_A, POOL_A, [svc('one', ['192.0.2.0']), svc('two', ['192.0.2.1'])]);
  assert.deepEqual(r.decision, { kind: 'apply' });
  assert.deepEqual(fates(r), { 'ns/one': ['keep', '192.0.2.0'], 'ns/two': ['keep', '192.0.2.1'] });
  assert.equal(dryRunExitCode(r), 0);
});

test('removing an in-use pool is refused with its blockers, nothing moves, exit 4', () => {
  const r = run(POOL_B, POOL_A + POOL_B.replace('address-pools:\n', ''), [svc('one', ['192.0.2.0']), svc('two', ['198.51.100.1'])]);
  assert.equal(r.decision.kind, 'refuse');
  assert.deepEqual(r.decision.kind === 'refuse' && r.decision.blockers, ['ns/one']);
  assert.match(r.decision.kind === 'refuse' ? r.decision.reason : '', /192\.0\.2\.0/);
  assert.deepEqual(fates(r), { 'ns/one': ['keep', '192.0.2.0'], 'ns/two': ['keep', '198.51.100.1'] });
  assert.equal(dryRunExitCode(r), 4);
});

test('shrinking a range under a held address is refused; shrinking around it applies', () => {
  const shrunk = (cidr: string) => `address-pools:\n- name: a\n  protocol: layer2\n  addresses: [${cidr}]\n`;
  const services = [svc('one', ['192.0.2.1'])];
  assert.equal(dryRunExitCode(run(shrunk('192.0.2.0/32'), POOL_A, services)), 4);
  const ok = run(shrunk('192.0.2.1/32'), POOL_A, services);
  assert.deepEqual(fates(ok), { 'ns/one': ['keep', '192.0.2.1'] });
  assert.equal(dryRunExitCode(ok), 0);
});

test('adding a pool gives waiting Services an address (gain, exit 3); Services with addresses keep them', () => {
  const full = 'address-pools:\n- name: a\n  protocol: layer2\n  addresses: [192.0.2.0/32]\n';
  const r = run(full + POOL_B.replace('address-pools:\n', ''), full, [svc('one', ['192.0.2.0']), svc('waiting', [])]);
  assert.deepEqual(fates(r), { 'ns/one': ['keep', '192.0.2.0'], 'ns/waiting': ['gain', '198.51.100.0'] });
  assert.equal(dryRunExitCode(r), 3);
});

test('renaming the pool a Service names: it loses its address, with the controller\'s reason', () => {
  const renamed = POOL_A.replace('name: a', 'name: renamed');
  const r = run(renamed, POOL_A, [svc('pinned', ['192.0.2.0'], { annotations: { 'metallb.universe.tf/address-pool': 'a' } }), svc('free', ['192.0.2.1'])]);
  assert.deepEqual(r.decision, { kind: 'apply' });
  assert.deepEqual(fates(r), { 'ns/free': ['keep', '192.0.2.1'], 'ns/pinned': ['lose', ''] });
  assert.match(r.services.find((s) => s.service === 'ns/pinned')?.reason ?? '', /unknown pool "a"/);
  assert.equal(dryRunExitCode(r), 3);
});

test('a Service that must move gets the next free address: change', () => {
  // Two Services on one address without a sharing key: the controller keeps the first (key order) and moves the second.
  const r = run(POOL_A, POOL_A, [svc('a1', ['192.0.2.0']), svc('a2', ['192.0.2.0'])]);
  assert.deepEqual(fates(r), { 'ns/a1': ['keep', '192.0.2.0'], 'ns/a2': ['change', '192.0.2.1'] });
  assert.equal(dryRunExitCode(r), 3);
});

test('changing the protocol moves no address: exit 0', () => {
  const bgp = 'peers:\n- peer-address: 203.0.113.1\n  peer-asn: 64500\n  my-asn: 64501\n' + POOL_A.replace('layer2', 'bgp');
  const r = run(bgp, POOL_A, [svc('one', ['192.0.2.0'])]);
  assert.deepEqual(fates(r), { 'ns/one': ['keep', '192.0.2.0'] });
  assert.equal(dryRunExitCode(r), 0);
});

test('a refused live config: the running one comes from the last-applied store', () => {
  // The live ConfigMap (pool b only) is refused because ns/one holds 192.0.2.0; the store says pool a runs.
  const r = run(POOL_A, POOL_B, [svc('one', ['192.0.2.0'])], { stored: { text: POOL_A, source: 'metallb-system/config@0' } });
  assert.deepEqual(fates(r), { 'ns/one': ['keep', '192.0.2.0'] });
  assert.equal(dryRunExitCode(r), 0);
});

test('only this MetalLB\'s LoadBalancer Services are listed', () => {
  const r = run(POOL_A, POOL_A, [svc('lb', ['192.0.2.0']), svc('cip', [], { type: 'ClusterIP' }), svc('other', ['203.0.113.9'], { lbClass: 'other' })]);
  assert.deepEqual(r.services.map((s) => s.service), ['ns/lb']);
  assert.equal(dryRunExitCode(r), 0);
});

test('no ConfigMap and no store: a first config allocates to every waiting Service', () => {
  const r = run(POOL_A, undefined, [svc('x', []), svc('y', [])]);
  assert.deepEqual(fates(r), { 'ns/x': ['gain', '192.0.2.0'], 'ns/y': ['gain', '192.0.2.1'] });
});
