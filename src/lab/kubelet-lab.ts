// `lab up --kubelet`: the lab with real nodes (kubelet-nodes.ts) and exactly what the README tells users to do:
//   kubectl apply -f manifests/namespace.yaml -f manifests/metallb.yaml
//   kubectl apply -f <config>                                 (the ConfigMap)
//   a Deployment and a LoadBalancer Service                   (the demo: busybox httpd answering with its Pod name)
// The controller Pod allocates, the speaker Pods (host network, one per node) announce, the client curls the
// EXTERNAL-IP. Nothing of MetalLB runs as a local process in this mode, and the only Nodes are the kubelets'.
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { TestCluster } from '../testing/cluster/cluster.js';
import { repoRoot } from '../testing/cluster/binaries.js';
import { waitFor } from '../testing/cluster/processes.js';
import type { LabNode } from './topology.js';
import type { LabPaths, LabState } from './state.js';
import { applyFiles } from './kube.js';
import { writeNodeFiles, prepareNodeNetwork, startKubeletNode, waitNodesReady, nodeDir, DEMO_IMAGE, type KubeletNodeSpec } from './kubelet-nodes.js';

export const KUBELET_DEMO = 'demo';

/** Builds (or finds cached) the images the nodes import; returns their directory. Throws with the script's reason. */
export function ensureLabImages(say: (line: string) => void): string {
  const t0 = Date.now();
  const result = spawnSync('bash', [join(repoRoot(), 'scripts', 'build-lab-images.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) throw new Error(`scripts/build-lab-images.sh failed: ${result.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  say(`lab: images ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${result.stdout.trim()})`);
  return result.stdout.trim();
}

/**
 * The `kubernetes` Service's endpoints: the nodes' own addresses on the apiserver's port, where the netns relay
 * listens in every node (the apiserver itself is on the host's loopback, which no Pod can reach). kube-proxy then
 * takes Pods' 10.96.0.1:443 there, and the apiserver's certificate names 10.96.0.1.
 */
export async function writeKubernetesEndpoints(cluster: TestCluster, nodes: readonly LabNode[]): Promise<void> {
  const slice = {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      name: 'kubernetes', namespace: 'default',
      labels: { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'metallb-ts-lab' },
    },
    addressType: 'IPv4',
    endpoints: nodes.map((n) => ({ addresses: [n.ipv4], conditions: { ready: true } })),
    ports: [{ name: 'https', port: cluster.info.port, protocol: 'TCP' }],
  };
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(slice) });
}

/** Starts the nodes (in parallel: the image imports dominate) and waits for their Nodes Ready. */
export async function startKubeletNodes(cluster: TestCluster, paths: LabPaths, state: LabState, save: () => void,
  nodes: readonly LabNode[], imagesDir: string, say: (line: string) => void): Promise<void> {
  const specs: KubeletNodeSpec[] = nodes.map((node, i) => ({
    node, index: i + 1, dir: nodeDir(paths.dir, node), cgroupRoot: `/${state.prefix}${node.name}`,
    binDir: cluster.info.binDir, imagesDir, kubeconfig: cluster.adminKubeconfig,
  }));
  state.kubeletNodes = specs.map((s) => ({ node: s.node.name, dir: s.dir, cgroupRoot: s.cgroupRoot }));
  save();
  for (const spec of specs) {
    writeNodeFiles(spec);
    await prepareNodeNetwork(spec, specs);
  }
  const t0 = Date.now();
  const pids = await Promise.all(specs.map(async (spec) => {
    const pid = await startKubeletNode(spec);
    state.pids[`kubelet-node-${spec.node.name}`] = pid;
    save();
    return pid;
  }));
  say(`lab: containerd in ${nodes.map((n) => n.netns).join(', ')} with the images imported after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await waitNodesReady(cluster, specs, pids);
  say(`lab: kubelets registered Nodes ${nodes.map((n) => n.name).join(', ')}, Ready (--node-ip = each node's IPv4,IPv6)`);
}

/** The README's install, then the demo; waits for the Pods and the IP; returns the EXTERNAL-IPs. */
export async function installAsReadme(cluster: TestCluster, config: string, say: (line: string) => void): Promise<string[]> {
  const manifests = join(repoRoot(), 'manifests');
  await applyFiles(cluster, [join(manifests, 'namespace.yaml'), join(manifests, 'metallb.yaml')]);
  await applyFiles(cluster, [config]);
  say(`lab: kubectl apply -f manifests/namespace.yaml -f manifests/metallb.yaml; kubectl apply -f ${config}`);
  await cluster.kubectl(['apply', '-f', '-'], { input: demoManifest() });
  await waitPodsReady(cluster, 'metallb-system', 'app=metallb', 4);
  await waitPodsReady(cluster, 'default', `app=${KUBELET_DEMO}`, 3);
  say((await cluster.kubectl(['get', 'pods', '-A', '-o', 'wide'])).trimEnd());
  let ips: string[] = [];
  await waitFor(`an EXTERNAL-IP for Service ${KUBELET_DEMO}`, 60_000, async () => (ips = await externalIps(cluster, 'default', KUBELET_DEMO)).length > 0, 250);
  return ips;
}

/** Waits until `count` Pods matching the selector are Running and Ready (their probes pass). */
export async function waitPodsReady(cluster: TestCluster, namespace: string, selector: string, count: number, timeoutMs = 240_000): Promise<void> {
  await waitFor(`${count} Pods ${selector} in ${namespace} Running and Ready`, timeoutMs, async () => {
    const out = await cluster.kubectlResult(['get', 'pods', '-n', namespace, '-l', selector, '-o',
      'jsonpath={range .items[*]}{.status.phase}/{.status.conditions[?(@.type=="Ready")].status}/{.metadata.deletionTimestamp}{"\\n"}{end}']);
    return out.stdout.split('\n').filter((l) => l === 'Running/True/').length >= count;
  }, 500);
}

export async function externalIps(cluster: TestCluster, namespace: string, name: string): Promise<string[]> {
  const out = await cluster.kubectlResult(['get', 'service', name, '-n', namespace, '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}']);
  return out.stdout.trim().split(/\s+/).filter(Boolean);
}

/** The demo: three busybox httpd Pods answering with their Pod name, behind an IPv4 LoadBalancer Service. */
export function demoManifest(): string {
  const labels = { app: KUBELET_DEMO };
  const deployment = {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: KUBELET_DEMO, namespace: 'default', labels },
    spec: {
      replicas: 3, selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 1,
          // One per node where possible, so the curl can land on any of them.
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } }],
          containers: [{
            name: 'httpd', image: DEMO_IMAGE, imagePullPolicy: 'Never',
            args: ['-c', 'hostname > /www/index.html && exec httpd -f -p 8080 -h /www'],
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 2 },
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
            volumeMounts: [{ name: 'www', mountPath: '/www' }],
          }],
          volumes: [{ name: 'www', emptyDir: {} }],
        },
      },
    },
  };
  const service = {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: KUBELET_DEMO, namespace: 'default', labels },
    spec: { type: 'LoadBalancer', selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
  };
  return [deployment, service].map((o) => JSON.stringify(o)).join('\n---\n');
}
