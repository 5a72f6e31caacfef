/**
 * Helpers shared by the announce-annotation e2e suites (test/speaker/e2e-announce-*.test.ts) and
 * bench/announce-annotations.ts: Services with a status IP and a hand-written EndpointSlice, Nodes and speaker Pods
 * written as a kubelet would, the announce entries of a Service, and a watch that counts annotation writes.
 */
import type { DiscoveryV1Api, V1Service } from '@kubernetes/client-node';
import type { TestCluster } from '../cluster/test-cluster.js';
import { METALLB_NS } from './process.js';
import type { KubeClients } from '../../adapters/k8s/client.js';
import { ANNOUNCE_ANNOTATION_PREFIX } from '../../core/speaker/announce-annotation.js';

export const podName = (node: string): string => `${node}-speaker`;

export async function putConfigMap(k: KubeClients, name: string, text: string): Promise<void> {
  const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: METALLB_NS }, data: { config: text } };
  try { await k.core.replaceNamespacedConfigMap({ namespace: METALLB_NS, name, body }); } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
    await k.core.createNamespacedConfigMap({ namespace: METALLB_NS, body });
  }
}

export async function serviceWithIp(k: KubeClients, ns: string, name: string, ip: string): Promise<void> {
  const svc = await k.core.createNamespacedService({
    namespace: ns,
    body: { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ipFamilyPolicy: 'PreferDualStack', ports: [{ port: 80, protocol: 'TCP' }] } },
  });
  await k.core.replaceNamespacedServiceStatus({ namespace: ns, name, body: { ...svc, status: { loadBalancer: { ingress: [{ ip }] } } } });
}

/** One EndpointSlice with a ready endpoint on each of `nodes`. */
export async function sliceOn(discovery: DiscoveryV1Api, ns: string, service: string, nodes: readonly string[]): Promise<void> {
  await discovery.createNamespacedEndpointSlice({
    namespace: ns,
    body: {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: { name: `${service}-manual`, namespace: ns, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'metallb-ts-test' } },
      endpoints: nodes.map((n, i) => ({ addresses: [`10.1.0.${i + 1}`], nodeName: n, conditions: { ready: true } })),
      ports: [{ port: 80, protocol: 'TCP' }],
    },
  });
}

/** The speaker Pod's status as a kubelet writes it: Running, Ready = `ready`, podIP (hostNetwork: the node's). */
export async function setSpeakerReady(cluster: TestCluster, node: string, ready: boolean, podIp?: string): Promise<void> {
  const now = new Date().toISOString();
  await cluster.kubectl(['patch', 'pod', podName(node), '-n', METALLB_NS, '--subresource=status', '--type=merge', '-p', JSON.stringify({
    status: {
      phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: now }],
      ...(podIp === undefined ? {} : { podIP: podIp, podIPs: [{ ip: podIp }], hostIP: podIp }),
    },
  })]);
}

/** Ready Nodes and a Ready speaker Pod on each (labels from `mlLabels`), podIP from `podIps` when given. */
export async function writeNodesAndPods(cluster: TestCluster, nodes: readonly string[], mlLabels: string, podIps?: readonly string[]): Promise<void> {
  const now = new Date().toISOString();
  const labels = Object.fromEntries(mlLabels.split(',').map((kv) => kv.split('=') as [string, string]));
  for (const [i, node] of nodes.entries()) {
    await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: node, labels: { 'kubernetes.io/hostname': node } } }) });
    await cluster.kubectl(['patch', 'node', node, '--subresource=status', '--type=merge', '-p',
      JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Test', message: 'op e2e', lastHeartbeatTime: now, lastTransitionTime: now }] } })]);
    await cluster.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1', kind: 'Pod', metadata: { name: podName(node), namespace: METALLB_NS, labels },
        spec: { nodeName: node, hostNetwork: true, terminationGracePeriodSeconds: 0, containers: [{ name: 'speaker', image: 'metallb-ts:test' }] },
      }),
    });
    await setSpeakerReady(cluster, node, true, podIps?.[i]);
  }
}

/** The announce annotations of a Service: node → value. */
export function entries(svc: V1Service): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata?.annotations ?? {})) if (k.startsWith(ANNOUNCE_ANNOTATION_PREFIX)) out[k.slice(ANNOUNCE_ANNOTATION_PREFIX.length)] = v;
  return out;
}

export async function read(k: KubeClients, ns: string, name: string): Promise<V1Service> {
  return k.core.readNamespacedService({ namespace: ns, name });
}

/** Runs `fn` on up to `width` items at once. */
export async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => { while (next < items.length) await fn(items[next++]!); }));
}

/** Counts MODIFIED events of Services in `ns` whose announce annotations changed, by Service name. */
export class WriteCounter {
  readonly writes: string[] = [];
  /** The same writes with the entries before and after (JSON), for a failing test to show what changed. */
  readonly changes: { name: string; from: string; to: string }[] = [];
  private abort: { abort(): void } | undefined;
  private readonly last = new Map<string, string>();

  static async start(k: KubeClients, ns: string): Promise<WriteCounter> {
    const counter = new WriteCounter();
    const list = await k.core.listNamespacedService({ namespace: ns });
    for (const s of list.items) counter.last.set(s.metadata!.name!, JSON.stringify(entries(s)));
    const watch = new k.k8s.Watch(k.kc);
    counter.abort = await watch.watch(`/api/v1/namespaces/${ns}/services`, { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: false },
      (type: string, obj: V1Service) => {
        const name = obj.metadata!.name!;
        const now = JSON.stringify(entries(obj));
        if (type === 'MODIFIED' && counter.last.get(name) !== now) {
          counter.writes.push(name);
          counter.changes.push({ name, from: counter.last.get(name) ?? '', to: now });
        }
        counter.last.set(name, now);
      }, () => {});
    return counter;
  }

  stop(): void { this.abort?.abort(); }
}
