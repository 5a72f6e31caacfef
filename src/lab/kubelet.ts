// Standing in for the kubelet: the lab has no kubelet, so it writes the Pods a kubelet would run and their
// status — spec.nodeName, Running, Ready, status.podIPs = the node's IPv4 and IPv6 (these "Pods" share the node's
// network, like hostNetwork Pods) — through the status subresource, as a kubelet does. That is what
// kube-controller-manager needs to build real EndpointSlices (one per address family) and what the speakers'
// Kubernetes-backed membership reads (speaker Pod Running and Ready on a Ready Node).
import type { TestCluster } from '../testing/cluster/cluster.js';
import type { LabNode } from './topology.js';

/** The labels manifests/metallb.yaml puts on speaker Pods (and METALLB_ML_LABELS selects on). */
export const SPEAKER_LABELS: Readonly<Record<string, string>> = { app: 'metallb', component: 'speaker' };
export const DEMO_LABELS: Readonly<Record<string, string>> = { app: 'demo' };

export interface LabPod {
  name: string;
  namespace: string;
  node: LabNode;
  labels: Readonly<Record<string, string>>;
  /** A container port to declare (the demo's 8080); none for the speaker. */
  containerPort?: number;
}

/**
 * Creates (or replaces) a Pod bound to pod.node and marks it Running and Ready with the node's addresses.
 * Idempotent: an existing Pod of that name is deleted first when it sits on another node (spec.nodeName is
 * immutable), so moving a backend is `writePod` with another node.
 */
export async function writePod(cluster: TestCluster, pod: LabPod): Promise<void> {
  const current = await cluster.kubectlResult(['get', 'pod', pod.name, '-n', pod.namespace, '-o', 'jsonpath={.spec.nodeName}']);
  if (current.code === 0 && current.stdout.trim() !== pod.node.name) await deletePod(cluster, pod.namespace, pod.name);
  const manifest = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: pod.name, namespace: pod.namespace, labels: { ...pod.labels } },
    spec: {
      nodeName: pod.node.name,
      hostNetwork: true,
      // Nothing ever deletes these gracefully (there is no kubelet to confirm), so make deletion immediate.
      terminationGracePeriodSeconds: 0,
      containers: [{
        name: 'main', image: 'metallb-ts-lab/none:0',
        ...(pod.containerPort === undefined ? {} : { ports: [{ containerPort: pod.containerPort, protocol: 'TCP' }] }),
      }],
    },
  };
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
  await markRunning(cluster, pod.namespace, pod.name, pod.node, true);
}

/** Writes the Pod's status as a kubelet would: Running, with the Ready condition set to `ready`. */
export async function markRunning(cluster: TestCluster, namespace: string, name: string, node: LabNode, ready: boolean): Promise<void> {
  const now = new Date().toISOString();
  const condition = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: now });
  const status = {
    status: {
      phase: 'Running',
      hostIP: node.ipv4,
      hostIPs: [{ ip: node.ipv4 }, { ip: node.ipv6 }],
      podIP: node.ipv4,
      podIPs: [{ ip: node.ipv4 }, { ip: node.ipv6 }],
      startTime: now,
      conditions: [condition('Initialized', true), condition('PodScheduled', true),
        condition('ContainersReady', ready), condition('Ready', ready)],
      containerStatuses: [{
        name: 'main', image: 'metallb-ts-lab/none:0', imageID: '', restartCount: 0, ready, started: true,
        state: { running: { startedAt: now } },
      }],
    },
  };
  await cluster.kubectl(['patch', 'pod', name, '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
}

/** Deletes a Pod at once (no kubelet will ever confirm a graceful deletion). */
export async function deletePod(cluster: TestCluster, namespace: string, name: string): Promise<void> {
  await cluster.kubectl(['delete', 'pod', name, '-n', namespace, '--ignore-not-found', '--grace-period=0', '--force', '--wait=false']);
}

/** One speaker Pod per node, as the DaemonSet would run them. */
export async function writeSpeakerPods(cluster: TestCluster, nodes: readonly LabNode[]): Promise<void> {
  for (const node of nodes) {
    await writePod(cluster, { name: speakerPodName(node), namespace: 'metallb-system', node, labels: SPEAKER_LABELS });
  }
}

export function speakerPodName(node: LabNode): string {
  return `speaker-${node.name}`;
}

/** The demo's backends: one Pod per node (label app=demo), serving 8080 (kube-proxy's stand-in answers). */
export async function writeDemoPods(cluster: TestCluster, nodes: readonly LabNode[]): Promise<void> {
  for (const node of nodes) {
    await writePod(cluster, { name: `demo-${node.name}`, namespace: 'default', node, labels: DEMO_LABELS, containerPort: 8080 });
  }
}
