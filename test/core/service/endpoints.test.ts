import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  endpointsFromEndpoints,
  endpointsFromSlices,
  serviceKeyOfSlice,
  type EndpointsView,
} from '../../../src/core/service/endpoints.js';

function summary(v: EndpointsView): Record<string, unknown> {
  return {
    present: v.present,
    anyReady: v.anyReady,
    readyNodes: [...v.readyNodes].sort(),
    anyHealthy: v.anyHealthy,
    healthyNodes: [...v.healthyNodes].sort(),
  };
}

const slice = (...endpoints: unknown[]): unknown => ({ metadata: { namespace: 'ns', labels: { 'kubernetes.io/service-name': 'svc' } }, endpoints });

test('EndpointSlices v1: node is nodeName, ready unless conditions.ready is false', () => {
  const cases: Array<[string, unknown[], Record<string, unknown>]> = [
    ['no slice: as if the Service were deleted', [], { present: false, anyReady: false, readyNodes: [], anyHealthy: false, healthyNodes: [] }],
    ['a slice without endpoints', [slice()], { present: true, anyReady: false, readyNodes: [], anyHealthy: false, healthyNodes: [] }],
    [
      'ready true, false and absent',
      [slice(
        { addresses: ['10.0.0.1'], nodeName: 'a', conditions: { ready: true } },
        { addresses: ['10.0.0.2'], nodeName: 'b', conditions: { ready: false } },
        { addresses: ['10.0.0.3'], nodeName: 'c', conditions: {} },
        { addresses: ['10.0.0.4'], nodeName: 'd' },
      )],
      { present: true, anyReady: true, readyNodes: ['a', 'c', 'd'], anyHealthy: true, healthyNodes: ['a', 'c', 'd'] },
    ],
    [
      'v1beta1 topology hostname is not read; a ready endpoint without node still counts as ready',
      [slice({ addresses: ['10.0.0.1'], topology: { 'kubernetes.io/hostname': 'a' }, conditions: { ready: true } })],
      { present: true, anyReady: true, readyNodes: [], anyHealthy: true, healthyNodes: [] },
    ],
    [
      'BGP health: an IP not ready in another slice is unhealthy (not-ready wins), layer 2 still sees it ready',
      [
        slice({ addresses: ['10.0.0.1'], nodeName: 'a', conditions: { ready: true } }),
        slice({ addresses: ['10.0.0.1'], nodeName: 'a', conditions: { ready: false } }),
      ],
      { present: true, anyReady: true, readyNodes: ['a'], anyHealthy: false, healthyNodes: [] },
    ],
    [
      'only not-ready endpoints',
      [slice({ addresses: ['10.0.0.1'], nodeName: 'a', conditions: { ready: false } }), slice({ addresses: ['10.0.0.2'], nodeName: 'b', conditions: { ready: false } })],
      { present: true, anyReady: false, readyNodes: [], anyHealthy: false, healthyNodes: [] },
    ],
  ];
  for (const [name, input, want] of cases) assert.deepEqual(summary(endpointsFromSlices(input)), want, name);
});

test('v1 Endpoints: addresses are ready by nodeName, notReadyAddresses never are', () => {
  const cases: Array<[string, unknown, Record<string, unknown>]> = [
    ['no Endpoints object', undefined, { present: false, anyReady: false, readyNodes: [], anyHealthy: false, healthyNodes: [] }],
    ['null', null, { present: false, anyReady: false, readyNodes: [], anyHealthy: false, healthyNodes: [] }],
    ['no subsets', { metadata: {} }, { present: true, anyReady: false, readyNodes: [], anyHealthy: false, healthyNodes: [] }],
    [
      'ready on a and b, not ready on c',
      { subsets: [{ addresses: [{ ip: '10.0.0.1', nodeName: 'a' }, { ip: '10.0.0.2', nodeName: 'b' }], notReadyAddresses: [{ ip: '10.0.0.3', nodeName: 'c' }] }] },
      { present: true, anyReady: true, readyNodes: ['a', 'b'], anyHealthy: true, healthyNodes: ['a', 'b'] },
    ],
    [
      'an address without nodeName is ready but names no node',
      { subsets: [{ addresses: [{ ip: '10.0.0.1' }] }] },
      { present: true, anyReady: true, readyNodes: [], anyHealthy: true, healthyNodes: [] },
    ],
    [
      'not-ready wins across subsets (BGP), layer 2 keeps the ready node',
      { subsets: [{ addresses: [{ ip: '10.0.0.1', nodeName: 'a' }] }, { notReadyAddresses: [{ ip: '10.0.0.1', nodeName: 'a' }] }] },
      { present: true, anyReady: true, readyNodes: ['a'], anyHealthy: false, healthyNodes: [] },
    ],
  ];
  for (const [name, input, want] of cases) assert.deepEqual(summary(endpointsFromEndpoints(input)), want, name);
});

test('malformed input is skipped and named, never thrown', () => {
  const garbage: unknown[] = [42, 'x', null, [], { endpoints: 'nope' }, { endpoints: [null, 7, { addresses: 'x', nodeName: 3 }] }];
  const v = endpointsFromSlices(garbage);
  assert.equal(v.present, true);
  assert.ok(v.problems.length >= 5, JSON.stringify(v.problems));
  // The one object endpoint (bad addresses, numeric nodeName) is ready without IP or node.
  assert.deepEqual(summary(v), { present: true, anyReady: true, readyNodes: [], anyHealthy: false, healthyNodes: [] });
  assert.deepEqual(summary(endpointsFromSlices('not a list' as unknown as unknown[])), { present: false, anyReady: false, readyNodes: [], anyHealthy: false, healthyNodes: [] });
  for (const bad of [7, 'x', [], { subsets: 5 }, { subsets: [null, { addresses: [1, { ip: 2 }] }] }]) {
    const e = endpointsFromEndpoints(bad);
    assert.equal(e.readyNodes.size, 0, JSON.stringify(bad));
    assert.ok(e.problems.length > 0, JSON.stringify(bad));
  }
});

test('serviceKeyOfSlice reads the kubernetes.io/service-name label', () => {
  assert.equal(serviceKeyOfSlice({ metadata: { namespace: 'ns', name: 'svc-abcde', labels: { 'kubernetes.io/service-name': 'svc' } } }), 'ns/svc');
  assert.equal(serviceKeyOfSlice({ metadata: { namespace: 'ns', name: 'x' } }), undefined);
  assert.equal(serviceKeyOfSlice(null), undefined);
  assert.equal(serviceKeyOfSlice({ metadata: { labels: { 'kubernetes.io/service-name': 'svc' } } }), undefined);
});
