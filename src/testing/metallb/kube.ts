/** Admin-side helpers for the e2e tests and the bench: create Services, read status and Events, edit the ConfigMap. */
import type { CoreV1Event, V1Service } from '@kubernetes/client-node';
import { loadKubeClients, type KubeClients } from '../../adapters/k8s/client.js';
import type { TestCluster } from '../cluster/test-cluster.js';
import { METALLB_NS, eventually } from './process.js';

export async function adminClients(cluster: TestCluster): Promise<KubeClients> {
  return loadKubeClients(cluster.adminKubeconfig);
}

export interface ServiceOptions {
  readonly type?: string;
  readonly ports?: ReadonlyArray<{ port: number; protocol?: string }>;
  readonly annotations?: Record<string, string>;
  readonly loadBalancerIP?: string;
  readonly externalTrafficPolicy?: string;
  readonly selector?: Record<string, string>;
  readonly clusterIP?: string;
  readonly ipFamilies?: string[];
  readonly ipFamilyPolicy?: string;
  readonly loadBalancerClass?: string;
}

export function serviceBody(ns: string, name: string, o: ServiceOptions = {}): V1Service {
  const type = o.type ?? 'LoadBalancer';
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { namespace: ns, name, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      type,
      ports: (o.ports ?? [{ port: 80 }]).map((p, i) => ({ name: `p${i}`, port: p.port, protocol: p.protocol ?? 'TCP', targetPort: p.port as unknown as never })),
      selector: o.selector ?? { app: name },
      ...(o.loadBalancerIP ? { loadBalancerIP: o.loadBalancerIP } : {}),
      ...(o.externalTrafficPolicy ? { externalTrafficPolicy: o.externalTrafficPolicy } : {}),
      ...(o.clusterIP ? { clusterIP: o.clusterIP } : {}),
      ...(o.ipFamilies ? { ipFamilies: o.ipFamilies } : {}),
      ...(o.ipFamilyPolicy ? { ipFamilyPolicy: o.ipFamilyPolicy } : {}),
      ...(o.loadBalancerClass ? { loadBalancerClass: o.loadBalancerClass } : {}),
      ...(type === 'LoadBalancer' ? { allocateLoadBalancerNodePorts: false } : {}),
    },
  };
}

export async function createService(k: KubeClients, ns: string, name: string, o: ServiceOptions = {}): Promise<V1Service> {
  return k.core.createNamespacedService({ namespace: ns, body: serviceBody(ns, name, o) });
}

export async function deleteService(k: KubeClients, ns: string, name: string): Promise<void> {
  await k.core.deleteNamespacedService({ namespace: ns, name });
}

export async function getService(k: KubeClients, ns: string, name: string): Promise<V1Service> {
  return k.core.readNamespacedService({ namespace: ns, name });
}

/** The status ingress IPs. */
export function ipsOf(svc: V1Service): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((ip) => ip !== '');
}

/** Waits until the Service's status has at least one IP; returns them. */
export async function waitForIps(k: KubeClients, ns: string, name: string, timeoutMs = 20_000): Promise<string[]> {
  let ips: string[] = [];
  await eventually(async () => { ips = ipsOf(await getService(k, ns, name)); return ips.length > 0; }, timeoutMs, `an IP on ${ns}/${name}`);
  return ips;
}

/**
 * MetalLB's Events (source component `metallb-controller` or `metallb-speaker`) recorded against an object, oldest
 * first. Kubernetes' own are left out: the apiserver's ClusterIP repair loop, for one, may record
 * `ClusterIPNotAllocated` on a Service it races with at creation, which says nothing about MetalLB.
 */
export async function eventsFor(k: KubeClients, ns: string, kind: string, name: string): Promise<CoreV1Event[]> {
  const list = await k.core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}` });
  return list.items.filter((e) => (e.source?.component ?? e.reportingComponent ?? '').startsWith('metallb-')).sort((a, b) => String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')));
}

export async function waitForEvent(k: KubeClients, ns: string, kind: string, name: string, reason: string, timeoutMs = 20_000): Promise<CoreV1Event> {
  let found: CoreV1Event | undefined;
  await eventually(async () => { found = (await eventsFor(k, ns, kind, name)).find((e) => e.reason === reason); return found !== undefined; }, timeoutMs, `event ${reason} on ${kind} ${ns}/${name}`);
  return found as CoreV1Event;
}

/** Creates or replaces ConfigMap `config` in metallb-system; data undefined = a ConfigMap without data.config. */
export async function putConfig(k: KubeClients, config: string | undefined): Promise<void> {
  const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config', namespace: METALLB_NS }, data: (config === undefined ? {} : { config }) as Record<string, string> };
  try {
    await k.core.replaceNamespacedConfigMap({ namespace: METALLB_NS, name: 'config', body });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
    await k.core.createNamespacedConfigMap({ namespace: METALLB_NS, body });
  }
}

export async function deleteConfig(k: KubeClients): Promise<void> {
  try { await k.core.deleteNamespacedConfigMap({ namespace: METALLB_NS, name: 'config' }); } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
  }
}

/** A layer-2 config with the given pools (name → addresses). */
export function layer2Config(pools: ReadonlyArray<{ name: string; addresses: string[]; autoAssign?: boolean }>): string {
  const lines = ['address-pools:'];
  for (const p of pools) {
    lines.push(`- name: ${p.name}`, '  protocol: layer2', '  addresses:', ...p.addresses.map((a) => `  - ${a}`));
    if (p.autoAssign === false) lines.push('  auto-assign: false');
  }
  return `${lines.join('\n')}\n`;
}
