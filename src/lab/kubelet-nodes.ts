// Real lab nodes (`lab up --kubelet`): in each node's network namespace a containerd, a kubelet and a kube-proxy
// (iptables mode), started together by kubelet-node.sh under `ip netns exec`, so host-network Pods live in the lab
// node and never see the machine's own interfaces. Per node, everything is under <lab>/kubelet/<node>/: containerd's
// root and state, the kubelet's root (bound on /var/lib/kubelet inside the node's mount namespace), CNI config and
// Pod logs; its cgroups under --cgroup-root=/<prefix><node>. Pods get 10.244.<n>.0/24 on a bridge cni0 inside the
// node; the nodes route each other's Pod ranges over the lab's L2 segment.
//
//   writeNodeFiles(...)       config files for one node        startKubeletNode(...)    the node's processes (PID)
//   waitNodesReady(...)       Node objects Ready               stopKubeletNodes(...)    every Pod, process and cgroup
import { mkdirSync, writeFileSync, readFileSync, existsSync, readdirSync, rmdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestCluster } from '../testing/cluster/cluster.js';
import { repoRoot } from '../testing/cluster/binaries.js';
import { startDaemon, stopPid, isAlive, waitFor, runOk, StopWaiting } from '../testing/cluster/processes.js';
import { netnsPids, type LabNode } from './topology.js';

/** All Pods of all nodes; kube-proxy masquerades traffic from outside it. */
export const CLUSTER_CIDR = '10.244.0.0/16';
/** The images every node's containerd imports (scripts/build-lab-images.sh writes them). */
export const LAB_IMAGE_ARCHIVES = ['pause.tar', 'lab-demo.tar', 'metallb-ts.tar'];
export const PAUSE_IMAGE = 'localhost/pause:3.10.1';
export const DEMO_IMAGE = 'localhost/lab-demo:1';

export interface KubeletNodeSpec {
  node: LabNode;
  /** 1, 2, 3: the node's Pod range is 10.244.<index>.0/24. */
  index: number;
  /** <lab>/kubelet/<node>. */
  dir: string;
  /** --cgroup-root, e.g. /pk-node1. */
  cgroupRoot: string;
  binDir: string;
  imagesDir: string;
  /** Admin kubeconfig (the server is 127.0.0.1:<port>, relayed into the node). */
  kubeconfig: string;
}

export function podCidr(index: number): string {
  return `10.244.${index}.0/24`;
}

export function nodeDir(labDir: string, node: LabNode): string {
  return join(labDir, 'kubelet', node.name);
}

/** Writes the node's containerd, CNI, kubelet and kube-proxy configuration. */
export function writeNodeFiles(spec: KubeletNodeSpec): void {
  const { dir, node } = spec;
  for (const sub of ['logs', 'kubelet', 'cni', 'images', 'pod-logs', 'containerd']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'bin-dir'), spec.binDir);
  writeFileSync(join(dir, 'kubeconfig'), readFileSync(spec.kubeconfig));
  for (const archive of LAB_IMAGE_ARCHIVES) {
    const link = join(dir, 'images', archive);
    if (!existsSync(link)) symlinkSync(join(spec.imagesDir, archive), link);
  }
  writeFileSync(join(dir, 'containerd.toml'), [
    'version = 2',
    `root = "${dir}/containerd/root"`,
    `state = "${dir}/containerd/state"`,
    // Only overlayfs: the others probe the host and log errors.
    'disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]',
    '[grpc]', `  address = "${dir}/containerd.sock"`,
    '[ttrpc]', `  address = "${dir}/containerd.ttrpc.sock"`,
    '[plugins."io.containerd.internal.v1.opt"]', `  path = "${dir}/containerd/opt"`,
    '[plugins."io.containerd.grpc.v1.cri"]',
    `  sandbox_image = "${PAUSE_IMAGE}"`,
    // This VM gives root no CAP_SYS_RESOURCE, so the sandbox's oom_score_adj -998 fails (../shared/lab/packaging.md).
    '  restrict_oom_score_adj = true',
    '  stream_server_address = "127.0.0.1"',
    '  [plugins."io.containerd.grpc.v1.cri".containerd]',
    '    snapshotter = "overlayfs"',
    '    default_runtime_name = "runc"',
    '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
    '      runtime_type = "io.containerd.runc.v2"',
    '      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
    '        SystemdCgroup = false',
    '  [plugins."io.containerd.grpc.v1.cri".cni]',
    '    bin_dir = "/usr/lib/cni"', `    conf_dir = "${dir}/cni"`, '    max_conf_num = 1',
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'cni', '10-lab.conflist'), JSON.stringify({
    cniVersion: '0.4.0', name: 'lab',
    plugins: [
      {
        type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: false, hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: podCidr(spec.index) }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  }, null, 2));
  writeFileSync(join(dir, 'kubelet.yaml'), JSON.stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration',
    // This machine has cgroup v1 (hybrid); kubelet 1.35 refuses it unless told (../shared/lab/packaging.md).
    failCgroupV1: false, cgroupDriver: 'cgroupfs', cgroupRoot: spec.cgroupRoot,
    containerRuntimeEndpoint: `unix://${dir}/containerd.sock`,
    address: node.ipv4, healthzBindAddress: '127.0.0.1', readOnlyPort: 0,
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    failSwapOn: false, podLogsDir: join(dir, 'pod-logs'),
    // The machine's disk and memory are shared with everything else: never evict or collect the lab's images.
    evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    imageGCHighThresholdPercent: 100, imageGCLowThresholdPercent: 99,
    serializeImagePulls: false, maxPods: 30, resolvConf: '/etc/resolv.conf',
  }, null, 2));
  writeFileSync(join(dir, 'kubelet.flags'), [`--hostname-override=${node.name}`, `--node-ip=${node.ipv4},${node.ipv6}`, '--v=1'].join(' '));
  writeFileSync(join(dir, 'kube-proxy.yaml'), JSON.stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration',
    mode: 'iptables', hostnameOverride: node.name, clusterCIDR: CLUSTER_CIDR,
    clientConnection: { kubeconfig: join(dir, 'kubeconfig') },
    metricsBindAddress: '127.0.0.1:10249', healthzBindAddress: '127.0.0.1:10256',
    // nf_conntrack_max is the machine's, not the namespace's: leave the conntrack settings alone.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
  }, null, 2));
  writeFileSync(join(dir, 'kube-proxy.flags'), '--v=1');
}

/** The node's sysctls and routes to the other nodes' Pod ranges (inside its network namespace). */
export async function prepareNodeNetwork(spec: KubeletNodeSpec, all: readonly KubeletNodeSpec[]): Promise<void> {
  const ns = spec.node.netns;
  await runOk('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
  // Pod → Service → Pod on the same bridge must pass iptables (kube-proxy's DNAT).
  await runOk('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1', 'net.bridge.bridge-nf-call-ip6tables=1']);
  for (const other of all) {
    if (other !== spec) await runOk('ip', ['-n', ns, 'route', 'replace', podCidr(other.index), 'via', other.node.ipv4]);
  }
}

/** Starts kubelet-node.sh for the node; returns its PID once containerd runs with the lab's images imported. */
export async function startKubeletNode(spec: KubeletNodeSpec): Promise<number> {
  const script = join(repoRoot(), 'src', 'lab', 'kubelet-node.sh');
  const pid = startDaemon({
    command: 'ip',
    args: ['netns', 'exec', spec.node.netns, 'bash', script, spec.dir, spec.cgroupRoot, String(process.pid)],
    logFile: join(spec.dir, 'logs', 'node.log'),
  });
  await waitFor(`containerd in ${spec.node.netns} with the lab images`, 180_000, () => {
    if (existsSync(join(spec.dir, 'images.ready'))) return true;
    if (!isAlive(pid)) throw new StopWaiting(`kubelet-node.sh exited; see ${join(spec.dir, 'logs')}`);
    return false;
  }, 200);
  return pid;
}

/** Waits until every node's Node object is Ready (the kubelet registered it and the runtime and CNI work). */
export async function waitNodesReady(cluster: TestCluster, specs: readonly KubeletNodeSpec[], pids: readonly number[], timeoutMs = 120_000): Promise<void> {
  await waitFor(`Nodes ${specs.map((s) => s.node.name).join(', ')} Ready`, timeoutMs, async () => {
    specs.forEach((s, i) => {
      if (!isAlive(pids[i]!)) throw new StopWaiting(`the processes of ${s.node.name} exited; see ${join(s.dir, 'logs')}`);
    });
    const out = await cluster.kubectlResult(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']);
    const ready = new Set(out.stdout.split('\n').filter((l) => l.endsWith('=True')).map((l) => l.split('=')[0]));
    return specs.every((s) => ready.has(s.node.name));
  }, 500);
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Every cgroup directory under the node's cgroup root, deepest first, in every hierarchy. */
function cgroupDirs(cgroupRoot: string): string[] {
  const out: string[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) if (entry.isDirectory()) walk(join(path, entry.name));
    out.push(path);
  };
  for (const hierarchy of readdirSync('/sys/fs/cgroup')) {
    const root = join('/sys/fs/cgroup', hierarchy, cgroupRoot);
    if (existsSync(root) && statSync(root).isDirectory()) walk(root);
  }
  return out;
}

function cgroupPids(cgroupRoot: string): number[] {
  const pids = new Set<number>();
  for (const dir of cgroupDirs(cgroupRoot)) {
    try {
      for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (line.trim()) pids.add(Number(line));
    } catch { /* gone meanwhile */ }
  }
  return [...pids];
}

/**
 * Takes the node down, leaving nothing on the host: the kubelet and kube-proxy first (so nothing restarts Pods),
 * then every process in the node's cgroups (all Pods' containers: they may sit in Pod network namespaces that
 * `ip netns pids` on the node cannot see), then containerd, its shims and kubelet-node.sh, then the cgroup dirs. The
 * mounts went with the node's mount namespace. Returns what it could not remove.
 */
export async function stopKubeletNode(dir: string, cgroupRoot: string, netns: string, say: (line: string) => void): Promise<string[]> {
  const t0 = Date.now();
  await Promise.all(['kubelet', 'kube-proxy'].map(async (name) => {
    const pid = readPid(join(dir, `${name}.pid`));
    if (pid !== undefined) await stopPid(pid, 3000);
  }));
  for (let round = 0; round < 20; round++) {
    const pids = cgroupPids(cgroupRoot);
    if (pids.length === 0) break;
    if (round === 0) say(`lab: killing ${pids.length} Pod processes in cgroup ${cgroupRoot}`);
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    await sleep(200);
  }
  const containerd = readPid(join(dir, 'containerd.pid'));
  if (containerd !== undefined) await stopPid(containerd, 3000);
  // What is left in the node's namespace is containerd's shims and kubelet-node.sh: all the lab's own.
  for (const pid of await netnsPids(netns)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  const tCgroups = Date.now();
  const left: string[] = [];
  for (const cgroup of cgroupDirs(cgroupRoot)) {
    for (let attempt = 0; ; attempt++) {
      try {
        rmdirSync(cgroup);
        break;
      } catch (err) {
        if (attempt >= 20) { left.push(`${cgroup} (${(err as Error).message})`); break; }
        await sleep(100);
      }
    }
  }
  say(`lab: cgroups of ${cgroupRoot} removed in ${((Date.now() - tCgroups) / 1000).toFixed(1)} s (${((Date.now() - t0) / 1000).toFixed(1)} s for the node)`);
  return left;
}
