/**
 * MetalLB's Prometheus metrics on a prom-client Registry (names and labels unchanged so dashboards and alerts keep
 * working; spec §7). The k8s-client metrics are shared by controller and speaker; the allocator gauges are the
 * controller's, `metallb_speaker_announced` the speaker's. Process/runtime collectors stand in for Go's default collectors.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ReconcileCounters } from '../k8s/reconcile-loop.js';

/** A registry with the default process collectors (`process_resident_memory_bytes`, …). */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** `metallb_k8s_client_*`: the reconcile loop's counters plus the config gauges. */
export interface K8sClientMetrics extends ReconcileCounters {
  setConfigLoaded(loaded: boolean): void;
  setConfigStale(stale: boolean): void;
}

export function createK8sClientMetrics(registry: Registry): K8sClientMetrics {
  const updates = new Counter({ name: 'metallb_k8s_client_updates_total', help: 'Number of k8s object updates that have been processed.', registers: [registry] });
  const errors = new Counter({ name: 'metallb_k8s_client_update_errors_total', help: 'Number of k8s object updates that failed for some reason.', registers: [registry] });
  const loaded = new Gauge({ name: 'metallb_k8s_client_config_loaded_bool', help: '1 if the MetalLB configuration was successfully loaded at least once.', registers: [registry] });
  const stale = new Gauge({ name: 'metallb_k8s_client_config_stale_bool', help: '1 if running on a stale configuration, because the latest config failed to load.', registers: [registry] });
  return {
    processed: () => updates.inc(),
    failed: () => errors.inc(),
    setConfigLoaded: (b) => loaded.set(b ? 1 : 0),
    setConfigStale: (b) => stale.set(b ? 1 : 0),
  };
}

/** Per-pool allocator figures, as the core reports them. */
export type PoolStats = ReadonlyMap<string, { readonly capacity: number; readonly inUse: number }>;

/** `metallb_allocator_*` gauges; pools that disappear from the config have their series deleted, as v0.11 does. */
export interface AllocatorMetrics {
  setPoolStats(stats: PoolStats): void;
}

export function createAllocatorMetrics(registry: Registry): AllocatorMetrics {
  const labelNames = ['pool'] as const;
  const inUse = new Gauge({ name: 'metallb_allocator_addresses_in_use_total', help: 'Number of IP addresses in use, per pool', labelNames, registers: [registry] });
  const total = new Gauge({ name: 'metallb_allocator_addresses_total', help: 'Number of usable IP addresses, per pool', labelNames, registers: [registry] });
  // Registered but never set, exactly as v0.11 (spec §12 #19): present in HELP/TYPE, no samples.
  new Gauge({ name: 'metallb_allocator_services_allocated_total', help: 'Number of services allocated, per pool', labelNames, registers: [registry] });
  let known = new Set<string>();
  return {
    setPoolStats(stats) {
      for (const pool of known) {
        if (!stats.has(pool)) { inUse.remove({ pool }); total.remove({ pool }); }
      }
      for (const [pool, s] of stats) {
        inUse.set({ pool }, s.inUse);
        total.set({ pool }, s.capacity);
      }
      known = new Set(stats.keys());
    },
  };
}

/** `metallb_speaker_announced{service,protocol,node,ip}`: 1 while this node announces the IP, removed on withdraw. */
export interface SpeakerMetrics {
  setAnnounced(service: string, protocol: string, ip: string, announced: boolean): void;
}

export function createSpeakerMetrics(registry: Registry, node: string): SpeakerMetrics {
  const announced = new Gauge({
    name: 'metallb_speaker_announced', help: 'Services being announced from this node. This is desired state, it does not guarantee that the routing protocols have converged.',
    labelNames: ['service', 'protocol', 'node', 'ip'] as const, registers: [registry],
  });
  return {
    setAnnounced(service, protocol, ip, on) {
      const labels = { service, protocol, node, ip };
      if (on) announced.set(labels, 1); else announced.remove(labels);
    },
  };
}
