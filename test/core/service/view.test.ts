import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Service } from '@kubernetes/client-node';
import { toServiceView, sameIngress, normaliseIngress, type ServiceLike, type ServiceView } from '../../../src/core/service/view.js';
import { formatIp } from '../../../src/core/ip/index.js';

// A V1Service from the client must be usable as is (compile-time check; type-only import).
const asServiceLike = (svc: V1Service): ServiceLike => svc;
void asServiceLike;

function lb(spec: Record<string, unknown> = {}, annotations: Record<string, string> = {}, ingress: unknown[] = []): ServiceLike {
  return {
    metadata: { namespace: 'ns', name: 'svc', annotations },
    spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ...spec },
    status: { loadBalancer: { ingress: ingress as { ip?: string }[] } },
  } as ServiceLike;
}

/** A compact, comparable summary of the interesting parts of a view. */
function summary(v: ServiceView): Record<string, unknown> {
  return {
    family: v.clusterFamily.kind === 'ok' ? v.clusterFamily.family : v.clusterFamily.kind,
    sk: v.sharingKey,
    bk: v.backendKey,
    ports: v.ports.map((p) => `${p.proto}/${p.port}`).join(' '),
    pool: v.pool,
    requested: v.requested.kind === 'ips' ? v.requested.ips.map(formatIp).join(',') : v.requested.kind === 'invalid' ? `invalid:${v.requested.reason}` : 'none',
    status: v.statusIps.kind === 'ok' ? v.statusIps.ips.map(formatIp).join(',') : v.statusIps.kind,
  };
}

const base = { family: 'ipv4', sk: '', bk: '', ports: '', pool: '', requested: 'none', status: 'none' };

test('toServiceView: table', () => {
  const cases: { desc: string; input: ServiceLike; want: Record<string, unknown> }[] = [
    { desc: 'plain IPv4 service', input: lb(), want: base },
    { desc: 'IPv6 from clusterIPs', input: lb({ clusterIP: 'fd00::10', clusterIPs: ['fd00::10'] }), want: { ...base, family: 'ipv6' } },
    { desc: 'dual-stack from clusterIPs', input: lb({ clusterIPs: ['10.96.0.10', 'fd00::10'] }), want: { ...base, family: 'dual' } },
    { desc: 'v0.11-era object: clusterIP only', input: lb({ clusterIPs: undefined, clusterIP: 'fd00::1' }), want: { ...base, family: 'ipv6' } },
    { desc: 'clusterIP only plus two ipFamilies = dual', input: lb({ clusterIPs: undefined, ipFamilies: ['IPv4', 'IPv6'] }), want: { ...base, family: 'dual' } },
    { desc: 'headless', input: lb({ clusterIP: 'None', clusterIPs: ['None'] }), want: { ...base, family: 'none' } },
    { desc: 'no cluster IP', input: lb({ clusterIP: '', clusterIPs: [] }), want: { ...base, family: 'none' } },
    { desc: 'garbage cluster IP', input: lb({ clusterIPs: ['banana'] }), want: { ...base, family: 'invalid' } },
    { desc: 'two IPv4 cluster IPs', input: lb({ clusterIPs: ['10.0.0.1', '10.0.0.2'] }), want: { ...base, family: 'invalid' } },
    { desc: 'sharing key', input: lb({}, { 'metallb.universe.tf/allow-shared-ip': 'k1' }), want: { ...base, sk: 'k1' } },
    { desc: 'Local: backend key is the sorted selector', input: lb({ externalTrafficPolicy: 'Local', selector: { z: '1', app: 'web' } }), want: { ...base, bk: 'app=web,z=1' } },
    { desc: 'Cluster: no backend key', input: lb({ externalTrafficPolicy: 'Cluster', selector: { app: 'web' } }), want: base },
    { desc: 'ports: protocol defaults to TCP, duplicates and junk dropped', input: lb({ ports: [{ port: 80 }, { protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 80 }, { protocol: 'TCP' }, null] }), want: { ...base, ports: 'TCP/80 UDP/53' } },
    { desc: 'pool annotation', input: lb({}, { 'metallb.universe.tf/address-pool': 'gold' }), want: { ...base, pool: 'gold' } },
    { desc: 'spec.loadBalancerIP', input: lb({ loadBalancerIP: '192.0.2.1' }), want: { ...base, requested: '192.0.2.1' } },
    { desc: 'spec.loadBalancerIP garbage', input: lb({ loadBalancerIP: 'nope' }), want: { ...base, requested: 'invalid:spec' } },
    { desc: 'loadBalancerIPs annotation, trimmed', input: lb({}, { 'metallb.universe.tf/loadBalancerIPs': ' 192.0.2.1 , fd00::1' }), want: { ...base, requested: '192.0.2.1,fd00::1' } },
    { desc: 'loadBalancerIPs annotation garbage', input: lb({}, { 'metallb.universe.tf/loadBalancerIPs': '192.0.2.1,,x' }), want: { ...base, requested: 'invalid:annotation' } },
    { desc: 'both ways of requesting', input: lb({ loadBalancerIP: '192.0.2.1' }, { 'metallb.universe.tf/loadBalancerIPs': '192.0.2.1' }), want: { ...base, requested: 'invalid:both' } },
    { desc: 'status with ipMode and a hostname entry', input: lb({}, {}, [{ hostname: 'h.example' }, { ip: '192.0.2.7', ipMode: 'VIP' }]), want: { ...base, status: '192.0.2.7' } },
    { desc: 'status with two IPv4', input: lb({}, {}, [{ ip: '192.0.2.7' }, { ip: '192.0.2.8' }]), want: { ...base, status: 'invalid' } },
    { desc: 'status with a garbage IP', input: lb({}, {}, [{ ip: 'x' }]), want: { ...base, status: 'invalid' } },
    { desc: 'nothing at all', input: {}, want: { ...base, family: 'none' } },
  ];
  for (const c of cases) assert.deepEqual(summary(toServiceView(c.input)), c.want, c.desc);
});

test('toServiceView: type, class, and nulls from raw JSON never throw', () => {
  const raw = { metadata: null, spec: { type: 'NodePort', loadBalancerClass: 'other', ports: null, selector: null }, status: null } as unknown as ServiceLike;
  const v = toServiceView(raw);
  assert.equal(v.isLoadBalancer, false);
  assert.equal(v.lbClass, 'other');
  assert.deepEqual(v.ports, []);
});

test('toServiceView: a huge port list is kept, de-duplicated, without throwing', () => {
  const ports = Array.from({ length: 20000 }, (_, i) => ({ protocol: i < 10000 ? 'TCP' : 'UDP', port: (i % 5000) + 1 }));
  assert.equal(toServiceView(lb({ ports })).ports.length, 10000);
});

test('status comparison ignores ipMode and ports', () => {
  const current = normaliseIngress([{ ip: '192.0.2.1', ipMode: 'VIP' }]);
  assert.ok(sameIngress(current, [{ ip: '192.0.2.1' }]));
  assert.ok(!sameIngress(current, [{ ip: '192.0.2.2' }]));
  assert.ok(!sameIngress(current, []));
  assert.ok(!sameIngress([{ hostname: 'a' }], []));
});
