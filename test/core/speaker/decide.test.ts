import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../src/core/config/parse.js';
import type { Config, Protocol } from '../../../src/core/config/types.js';
import { announcedWithoutPool, decideService, speakerPoolFor, type Announcement, type DecideInput } from '../../../src/core/speaker/decide.js';
import { endpointsFromEndpoints, endpointsFromSlices, NO_ENDPOINTS, type EndpointsView } from '../../../src/core/service/endpoints.js';
import type { ServiceLike } from '../../../src/core/service/service-like.js';
import { electOwner } from '../../../src/core/election/index.js';
import { parseIp, type IpAddr } from '../../../src/core/ip/index.js';

function config(yaml: string): Config {
  const parsed = parseConfig(yaml);
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors));
  return parsed.config;
}

const CONFIG = config(`address-pools:
- name: l2
  protocol: layer2
  addresses: [192.0.2.100-192.0.2.199, 2001:db8::100-2001:db8::1ff]
- name: buggy
  protocol: layer2
  avoid-buggy-ips: true
  addresses: [198.51.100.0/24]
- name: routed
  protocol: bgp
  addresses: [203.0.113.0/24]
`);

const NODES = ['node1', 'node2', 'node3'];
const ALIVE = new Set(NODES);

function svc(ips: Array<string | { hostname: string }>, spec: Record<string, unknown> = {}): ServiceLike {
  return {
    metadata: { namespace: 'ns', name: 'svc' },
    spec: { type: 'LoadBalancer', ...spec },
    status: { loadBalancer: { ingress: ips.map((ip) => (typeof ip === 'string' ? { ip } : ip)) } },
  } as ServiceLike;
}

const everywhere: EndpointsView = endpointsFromEndpoints({
  subsets: [{ addresses: NODES.map((n, i) => ({ ip: `10.0.0.${i + 1}`, nodeName: n })) }],
});

function input(over: Partial<DecideInput>): DecideInput {
  return { name: 'ns/svc', service: svc(['192.0.2.100']), endpoints: everywhere, config: CONFIG, myNode: 'node1', alive: ALIVE, current: undefined, ...over };
}

/** "announce:<pool>:<ips>" or the withdraw reason, with "<withdrawFirst>+" prefixed. */
function outcome(i: DecideInput): string {
  const r = decideService(i);
  const d = r.decision;
  const text = d.kind === 'announce' ? `announce:${d.announcement.protocol}:${d.announcement.pool}:${d.announcement.ips.join(',')}` : d.kind === 'withdraw' ? d.reason : `keep:${d.reason}`;
  return r.withdrawFirst ? `${r.withdrawFirst}+${text}` : text;
}

/** The node hashring elects for `ip` over the three nodes, and one that is not it. */
const owner = (ip: string): string => electOwner(ip, NODES)!;
const notOwner = (ip: string): string => NODES.find((n) => n !== owner(ip))!;

test('v0.11 order of reasons (spec §4)', () => {
  const me = owner('192.0.2.100');
  const l2: Announcement = { protocol: 'layer2', ips: ['192.0.2.100'], pool: 'l2' };
  const cases: Array<[string, Partial<DecideInput>, string]> = [
    ['deleted', { service: undefined }, 'serviceDeleted'],
    ['deleted wins over everything', { service: undefined, config: undefined, endpoints: NO_ENDPOINTS }, 'serviceDeleted'],
    ['no Endpoints object: as if deleted (v0.11)', { endpoints: NO_ENDPOINTS, myNode: me }, 'serviceDeleted'],
    ['ClusterIP', { service: svc(['192.0.2.100'], { type: 'ClusterIP' }) }, 'notLoadBalancer'],
    ['type unset', { service: { spec: {} } }, 'notLoadBalancer'],
    ['no config yet: leave as is', { config: undefined, myNode: me }, 'keep:noConfig'],
    ['no ingress', { service: svc([]) }, 'noIPAllocated'],
    ['status absent', { service: { spec: { type: 'LoadBalancer' } } }, 'noIPAllocated'],
    ['garbage IP', { service: svc(['not-an-ip']) }, 'invalidIP'],
    ['hostname-only ingress', { service: svc([{ hostname: 'lb.example' }]) }, 'invalidIP'],
    ['two IPv4', { service: svc(['192.0.2.100', '192.0.2.101']) }, 'invalidIP'],
    ['outside every pool', { service: svc(['192.0.2.7']) }, 'ipNotAllowed'],
    ['v4 and v6 in different pools', { service: svc(['192.0.2.100', '2001:db8::5']) }, 'ipNotAllowed'],
    ['protocol without a handler', { service: svc(['203.0.113.1']), handlers: new Set<Protocol>(['layer2']) }, 'internalError'],
    ['the owner announces', { myNode: me }, 'announce:layer2:l2:192.0.2.100'],
    ['the others do not', { myNode: notOwner('192.0.2.100') }, 'notOwner'],
    ['a non-canonical status IP is announced canonical', { service: svc(['2001:DB8::0100']), myNode: owner('2001:db8::100') }, 'announce:layer2:l2:2001:db8::100'],
    ['already announced, unchanged', { myNode: me, current: l2 }, 'announce:layer2:l2:192.0.2.100'],
    ['IP changed: withdraw first, then continue', { myNode: owner('192.0.2.101'), service: svc(['192.0.2.101']), current: l2 }, 'loadBalancerIPChanged+announce:layer2:l2:192.0.2.101'],
    ['IP changed and no longer the owner', { myNode: notOwner('192.0.2.101'), service: svc(['192.0.2.101']), current: l2 }, 'loadBalancerIPChanged+notOwner'],
    ['protocol changed wins over IP changed', { service: svc(['203.0.113.1']), current: l2 }, 'protocolChanged+announce:bgp:routed:203.0.113.1'],
    ['avoid-buggy-ips is ignored by the speaker', { service: svc(['198.51.100.0']), myNode: owner('198.51.100.0') }, 'announce:layer2:buggy:198.51.100.0'],
  ];
  for (const [name, over, want] of cases) assert.equal(outcome(input(over)), want, name);
});

test('dual-stack (v0.12): one pool holds both, the first ingress IP keys the election', () => {
  const ips = ['2001:db8::180', '192.0.2.150'];
  const me = owner(ips[0]!);
  assert.equal(outcome(input({ service: svc(ips), myNode: me })), 'announce:layer2:l2:2001:db8::180,192.0.2.150');
  for (const n of NODES.filter((x) => x !== me)) assert.equal(outcome(input({ service: svc(ips), myNode: n })), 'notOwner');
  // Same IPs, other order: now the IPv4 address keys it.
  const swapped = [ips[1]!, ips[0]!];
  assert.equal(outcome(input({ service: svc(swapped), myNode: owner(swapped[0]!) })), 'announce:layer2:l2:192.0.2.150,2001:db8::180');
  // Services sharing an IP elect the same node whatever their endpoints.
  const local = (node: string): EndpointsView => endpointsFromEndpoints({ subsets: [{ addresses: [{ ip: '10.0.0.9', nodeName: node }] }] });
  const a = NODES.filter((n) => outcome(input({ service: svc(['192.0.2.120']), endpoints: local('node1'), myNode: n })).startsWith('announce'));
  const b = NODES.filter((n) => outcome(input({ service: svc(['192.0.2.120']), endpoints: local('node3'), myNode: n })).startsWith('announce'));
  assert.deepEqual(a, b);
  assert.equal(a.length, 1);
});

test('layer 2: Local policy elects among alive endpoint nodes; no ready endpoint, nobody', () => {
  const local = { externalTrafficPolicy: 'Local' };
  const onNode3 = endpointsFromSlices([{ endpoints: [{ addresses: ['10.0.0.3'], nodeName: 'node3', conditions: { ready: true } }, { addresses: ['10.0.0.1'], nodeName: 'node1', conditions: { ready: false } }] }]);
  for (let i = 100; i < 140; i++) {
    const ip = `192.0.2.${i}`;
    const got = NODES.map((n) => outcome(input({ service: svc([ip], local), endpoints: onNode3, myNode: n })));
    assert.deepEqual(got, ['notOwner', 'notOwner', `announce:layer2:l2:${ip}`], ip);
  }
  // node3's speaker is not alive: nobody announces the Local Service.
  const without3 = new Set(['node1', 'node2']);
  for (const n of NODES) assert.equal(outcome(input({ service: svc(['192.0.2.100'], local), endpoints: onNode3, myNode: n, alive: without3 })), 'notOwner');
  // Nothing ready anywhere: nobody, Cluster or Local.
  const noneReady = endpointsFromSlices([{ endpoints: [{ addresses: ['10.0.0.1'], nodeName: 'node1', conditions: { ready: false } }] }]);
  for (const spec of [{}, local]) for (const n of NODES) assert.equal(outcome(input({ service: svc(['192.0.2.100'], spec), endpoints: noneReady, myNode: n })), 'notOwner');
  // Cluster: every alive node is a candidate, endpoint or not; this node dead → not elected.
  const ip = '192.0.2.100';
  const me = owner(ip);
  const rest = new Set(NODES.filter((n) => n !== me));
  assert.equal(outcome(input({ myNode: me, alive: rest })), 'notOwner');
  assert.equal(NODES.filter((n) => outcome(input({ myNode: n, alive: rest })).startsWith('announce')).length, 1);
});

test('BGP (spec §6.1): every node with a healthy endpoint announces; Local needs one on this node; not-ready wins', () => {
  const bgp = (spec: Record<string, unknown>, eps: EndpointsView, myNode: string): string => outcome(input({ service: svc(['203.0.113.5'], spec), endpoints: eps, myNode }));
  const local = { externalTrafficPolicy: 'Local' };
  const onNode2 = endpointsFromEndpoints({ subsets: [{ addresses: [{ ip: '10.0.0.2', nodeName: 'node2' }] }] });
  for (const n of NODES) assert.equal(bgp({}, onNode2, n), 'announce:bgp:routed:203.0.113.5', n);
  assert.deepEqual(NODES.map((n) => bgp(local, onNode2, n)), ['noLocalEndpoints', 'announce:bgp:routed:203.0.113.5', 'noLocalEndpoints']);
  // The same IP ready in one subset and not ready in another: unhealthy.
  const flapping = endpointsFromEndpoints({ subsets: [{ addresses: [{ ip: '10.0.0.2', nodeName: 'node2' }] }, { notReadyAddresses: [{ ip: '10.0.0.2', nodeName: 'node2' }] }] });
  assert.deepEqual(NODES.map((n) => bgp({}, flapping, n)), ['noEndpoints', 'noEndpoints', 'noEndpoints']);
  // Local is checked first: no endpoint at all under Local says noLocalEndpoints.
  assert.deepEqual(NODES.map((n) => bgp(local, flapping, n)), ['noLocalEndpoints', 'noLocalEndpoints', 'noLocalEndpoints']);
  // Membership does not matter for BGP.
  assert.equal(outcome(input({ service: svc(['203.0.113.5']), endpoints: onNode2, myNode: 'node1', alive: new Set() })), 'announce:bgp:routed:203.0.113.5');
});

test('speakerPoolFor: all IPs in one pool, avoid-buggy-ips ignored', () => {
  const ip = (s: string): IpAddr => parseIp(s)!;
  assert.equal(speakerPoolFor(CONFIG.pools, [ip('198.51.100.255')])?.name, 'buggy');
  assert.equal(speakerPoolFor(CONFIG.pools, [ip('192.0.2.199'), ip('2001:db8::1ff')])?.name, 'l2');
  assert.equal(speakerPoolFor(CONFIG.pools, [ip('192.0.2.200')]), undefined);
  assert.equal(speakerPoolFor(CONFIG.pools, []), undefined);
});

test('garbage Services never throw', () => {
  const garbage: unknown[] = [
    {}, { spec: null }, { spec: { type: 'LoadBalancer' }, status: null }, { spec: { type: 'LoadBalancer' }, status: { loadBalancer: { ingress: 'x' } } },
    { spec: { type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [null, 5, { ip: 7 }] } } },
    { spec: { type: 'LoadBalancer', externalTrafficPolicy: 42 }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.100' }] } } },
  ];
  for (const g of garbage) {
    const r = decideService(input({ service: g as ServiceLike }));
    assert.ok(['announce', 'withdraw'].includes(r.decision.kind), JSON.stringify(g));
  }
});

test('announcedWithoutPool: the announced Services a new config would orphan (spec §4 SetConfig)', () => {
  const announced = new Map<string, Announcement>([
    ['ns/a', { protocol: 'layer2', ips: ['192.0.2.100'], pool: 'l2' }],
    ['ns/b', { protocol: 'bgp', ips: ['203.0.113.5'], pool: 'routed' }],
    ['ns/c', { protocol: 'layer2', ips: ['192.0.2.150', '2001:db8::150'], pool: 'l2' }],
  ]);
  assert.deepEqual(announcedWithoutPool(CONFIG, announced), []);
  const v4only = config(`address-pools:\n- name: l2\n  protocol: layer2\n  addresses: [192.0.2.0/24]\n`);
  assert.deepEqual(announcedWithoutPool(v4only, announced), ['ns/b', 'ns/c']);
  // A pool rename or protocol change keeps the addresses covered: not an orphan (decide then withdraws/re-announces).
  const renamed = config(`address-pools:\n- name: other\n  protocol: bgp\n  addresses: [192.0.2.0/24, 203.0.113.0/24, 2001:db8::/64]\n`);
  assert.deepEqual(announcedWithoutPool(renamed, announced), []);
});

test('--exclude-lb: an excluded node is out of the layer-2 election (the hashring successor takes its IPs, nothing else moves) and announces no BGP route', () => {
  for (let i = 100; i < 160; i++) {
    const ip = `192.0.2.${i}`;
    const before = owner(ip);
    for (const gone of NODES) {
      const excluded = new Set([gone]);
      const announcing = NODES.filter((n) => outcome(input({ service: svc([ip]), myNode: n, excluded })).startsWith('announce'));
      // The excluded owner's IPs go to the successor on the ring without it; every other IP keeps its owner.
      assert.deepEqual(announcing, [before === gone ? electOwner(ip, NODES.filter((n) => n !== gone))! : before], `${ip} without ${gone}`);
      assert.equal(outcome(input({ service: svc([ip]), myNode: gone, excluded })), 'nodeExcluded');
    }
  }
  // Excluding is not dying: the node stays alive; Local policy with the only endpoint on an excluded node: nobody.
  const local = { externalTrafficPolicy: 'Local' };
  const onNode3 = endpointsFromEndpoints({ subsets: [{ addresses: [{ ip: '10.0.0.3', nodeName: 'node3' }] }] });
  assert.deepEqual(NODES.map((n) => outcome(input({ service: svc(['192.0.2.100'], local), endpoints: onNode3, myNode: n, excluded: new Set(['node3']) }))),
    ['notOwner', 'notOwner', 'nodeExcluded']);
  // Every node excluded: nobody announces (MetalLB >= 0.14 on a control-plane-only kubeadm cluster).
  assert.deepEqual(NODES.map((n) => outcome(input({ myNode: n, excluded: ALIVE }))), ['nodeExcluded', 'nodeExcluded', 'nodeExcluded']);
  // BGP: the excluded node withdraws; the others keep announcing.
  assert.deepEqual(NODES.map((n) => outcome(input({ service: svc(['203.0.113.5']), myNode: n, excluded: new Set(['node2']) }))),
    ['announce:bgp:routed:203.0.113.5', 'nodeExcluded', 'announce:bgp:routed:203.0.113.5']);
  // An IP change on an excluded node still withdraws first.
  const l2: Announcement = { protocol: 'layer2', ips: ['192.0.2.100'], pool: 'l2' };
  assert.equal(outcome(input({ service: svc(['192.0.2.101']), myNode: 'node1', current: l2, excluded: new Set(['node1']) })), 'loadBalancerIPChanged+nodeExcluded');
});

test('--exclude-lb off (no excluded set, or an empty one): every decision is v0.11\'s', () => {
  for (let i = 100; i < 130; i++) {
    for (const ip of [`192.0.2.${i}`, `203.0.113.${i}`]) {
      for (const n of NODES) assert.equal(outcome(input({ service: svc([ip]), myNode: n, excluded: new Set() })), outcome(input({ service: svc([ip]), myNode: n })));
    }
  }
});
