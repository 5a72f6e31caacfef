// The lab's Kubernetes objects: Node objects standing in for the node namespaces (no kubelet writes them),
// the manifests, the MetalLB config, and a demo LoadBalancer Service.
import type { TestCluster } from '../testing/cluster/cluster.js';
import type { LabNode } from './topology.js';

export const DEMO_SERVICE = 'demo';

export async function createNodes(cluster: TestCluster, nodes: LabNode[]): Promise<void> {
  for (const n of nodes) {
    const node = {
      apiVersion: 'v1', kind: 'Node',
      metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', 'metallb-ts.lab/netns': n.netns } },
    };
    await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(node) });
    const now = new Date().toISOString();
    // Status is a subresource: only an admin (or a kubelet) writes it, and nothing here ever changes it.
    const status = {
      status: {
        addresses: [
          { type: 'InternalIP', address: n.ipv4 }, { type: 'InternalIP', address: n.ipv6 }, { type: 'Hostname', address: n.name },
        ],
        conditions: [{ type: 'Ready', status: 'True', reason: 'MetallbTsLab', message: `network namespace ${n.netns}`, lastHeartbeatTime: now, lastTransitionTime: now }],
      },
    };
    await cluster.kubectl(['patch', 'node', n.name, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
  }
}

export async function applyFiles(cluster: TestCluster, files: string[]): Promise<string> {
  return cluster.kubectl(['apply', ...files.flatMap((f) => ['-f', f])]);
}

export async function createDemoService(cluster: TestCluster): Promise<void> {
  const service = {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: DEMO_SERVICE, namespace: 'default', labels: { app: 'demo' } },
    // PreferDualStack: an IPv4 and an IPv6 LoadBalancer IP from the lab's dual-stack pool.
    spec: {
      type: 'LoadBalancer', ipFamilyPolicy: 'PreferDualStack', selector: { app: 'demo' },
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
    },
  };
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(service) });
}

/** The demo Service's ingress IPs (empty while it is pending). */
export async function demoExternalIps(cluster: TestCluster): Promise<string[]> {
  const out = await cluster.kubectl(['get', 'service', DEMO_SERVICE, '-n', 'default', '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}']);
  return out.trim().split(/\s+/).filter(Boolean);
}
