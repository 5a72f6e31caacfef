import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createAllocatorMetrics, createK8sClientMetrics } from '../../../src/adapters/metrics/registry.js';

const samples = async (r: Registry) => (await r.metrics()).split('\n').filter((l) => l.startsWith('metallb_'));

test('MetalLB metric names; pools removed from the config lose their series', async () => {
  const registry = new Registry();
  const client = createK8sClientMetrics(registry);
  const alloc = createAllocatorMetrics(registry);
  client.processed(); client.processed(); client.failed();
  client.setConfigLoaded(true); client.setConfigStale(false);
  alloc.setPoolStats(new Map([['a', { capacity: 256, inUse: 3 }], ['b', { capacity: 16, inUse: 0 }]]));
  alloc.setPoolStats(new Map([['a', { capacity: 256, inUse: 4 }]]));
  assert.deepEqual((await samples(registry)).sort(), [
    'metallb_allocator_addresses_in_use_total{pool="a"} 4',
    'metallb_allocator_addresses_total{pool="a"} 256',
    'metallb_k8s_client_config_loaded_bool 1',
    'metallb_k8s_client_config_stale_bool 0',
    'metallb_k8s_client_update_errors_total 1',
    'metallb_k8s_client_updates_total 2',
  ]);
  assert.match(await registry.metrics(), /# TYPE metallb_allocator_services_allocated_total gauge/, 'registered, never set, as v0.11');
});
