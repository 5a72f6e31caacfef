import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SliceIndex } from '../../src/speaker/slice-index.js';
import type { EndpointSliceObject } from '../../src/core/k8s/objects.js';

const slice = (name: string, service: string | undefined, ns = 'demo'): EndpointSliceObject =>
  ({ metadata: { namespace: ns, name, ...(service ? { labels: { 'kubernetes.io/service-name': service } } : {}) }, endpoints: [] });

test('slices are filed under their Service by label and namespace; changes name the Services affected', () => {
  const idx = new SliceIndex();
  assert.deepEqual(idx.apply('add', slice('web-1', 'web')), ['demo/web']);
  assert.deepEqual(idx.apply('add', slice('web-2', 'web')), ['demo/web']);
  assert.deepEqual(idx.apply('add', slice('web-x', 'web', 'other')), ['other/web']);
  assert.deepEqual(idx.slicesOf('demo/web').map((s) => s.metadata?.name).sort(), ['web-1', 'web-2']);
  // Relabelled to another Service: both are affected.
  assert.deepEqual(idx.apply('update', slice('web-2', 'api')), ['demo/web', 'demo/api']);
  assert.deepEqual(idx.slicesOf('demo/api').map((s) => s.metadata?.name), ['web-2']);
  assert.deepEqual(idx.apply('delete', slice('web-1', 'web')), ['demo/web']);
  assert.deepEqual(idx.slicesOf('demo/web'), []);
  // No label: not filed, nothing affected.
  assert.deepEqual(idx.apply('add', slice('orphan', undefined)), []);
});
