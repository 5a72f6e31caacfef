// MetalLB installed as users install it, on real nodes (issue 14): `lab up --kubelet` starts three kubelets, each
// with its own containerd and kube-proxy inside its lab node's network namespace, and does what the README says
// (`kubectl apply -f manifests/namespace.yaml -f manifests/metallb.yaml`, the ConfigMap, a Deployment and a
// LoadBalancer Service). The controller and the speakers then run as Pods of the image scripts/build-image.sh
// built. Checked: Pods Running and Ready (their probes pass), the Service's IP, the client's curl through it, no
// Pod interface or process in the host's network namespace, both Pods' user and effective capabilities from
// /proc/<pid>/status, a ConfigMap edit reaching the controller (it allocates from a new pool) and the speakers
// (they announce it), a deleted speaker Pod replaced by one that announces again, and `lab down` leaving nothing
// on the host. One lab for the file; needs root, the --kubelet binaries and podman (scripts/setup.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePrerequisite } from '../../src/testing/cluster/test-cluster.js';
import { pidsMentioning, waitFor } from '../../src/testing/cluster/processes.js';
import { runLab } from './lab-harness.js';
import { topologyNames, type LabNode } from '../../src/lab/topology.js';
import { announcements, ownersOf, curlOnce } from '../../src/lab/observe.js';

const PREFIX = process.env.METALLB_TS_KUBELET_TEST_PREFIX ?? 'kl-';
const DIR = join(tmpdir(), `metallb-ts-lab-${PREFIX}e2e`);
const NODES = topologyNames(PREFIX).nodes;
const CLIENT = topologyNames(PREFIX).client;
/** Generous: Pods start on a 2-core machine that other suites keep busy. */
const WAIT_MS = 180_000;
const CAP_NET_RAW = 1n << 13n;

function lab(command: string): Promise<{ code: number; output: string }> {
  return runLab(PREFIX, DIR, [command, ...(command === 'up' ? ['--kubelet'] : [])]);
}

const sh = (cmd: string, args: string[], input?: string) => spawnSync(cmd, args, { encoding: 'utf8', input });
const kubectl = (args: string[], input?: string) => {
  const r = sh(join(DIR, 'bin', 'kubectl'), ['--kubeconfig', join(DIR, 'kubeconfig'), ...args], input);
  assert.equal(r.status, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const eventually = <T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> => {
  let value: T | undefined;
  return waitFor(what, WAIT_MS, async () => (value = await probe()) !== undefined, 500).then(() => value as T);
};

interface PodInfo { name: string; node: string; phase: string; ready: boolean; containerId: string; deleting: boolean }
function pods(namespace: string, selector: string): PodInfo[] {
  const list = JSON.parse(kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])) as {
    items: Array<{ metadata: { name: string; deletionTimestamp?: string }; spec: { nodeName?: string };
      status: { phase?: string; conditions?: Array<{ type: string; status: string }>; containerStatuses?: Array<{ containerID?: string }> } }>;
  };
  return list.items.map((p) => ({
    name: p.metadata.name, node: p.spec.nodeName ?? '', phase: p.status.phase ?? '',
    ready: p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    containerId: (p.status.containerStatuses?.[0]?.containerID ?? '').replace(/^containerd:\/\//, ''),
    deleting: p.metadata.deletionTimestamp !== undefined,
  }));
}
const readyPods = (namespace: string, selector: string) => pods(namespace, selector).filter((p) => p.phase === 'Running' && p.ready && !p.deleting);

/** PID of a container on its node, from that node's containerd (`ctr tasks ls`). */
function containerPid(node: string, containerId: string): number {
  const out = sh('ctr', ['--address', join(DIR, 'kubelet', node, 'containerd.sock'), '-n', 'k8s.io', 'tasks', 'ls']).stdout;
  const line = out.split('\n').find((l) => l.startsWith(containerId));
  assert.ok(line, `container ${containerId} not in ${node}'s containerd: ${out}`);
  return Number(line.split(/\s+/)[1]);
}

function procStatus(pid: number): { uids: string[]; capEff: bigint; capPrm: bigint; capBnd: bigint; capAmb: bigint } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => (new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(status)?.[1] ?? '').trim();
  const cap = (name: string) => BigInt(`0x${field(name)}`);
  return { uids: field('Uid').split(/\s+/), capEff: cap('CapEff'), capPrm: cap('CapPrm'), capBnd: cap('CapBnd'), capAmb: cap('CapAmb') };
}

const netnsOf = (pid: number) => readlinkSync(`/proc/${pid}/ns/net`);
const netnsInode = (path: string) => statSync(path).ino;
const hostInterfaces = () => sh('ip', ['-o', 'link', 'show']).stdout.split('\n').filter(Boolean).map((l) => l.split(':')[1]!.trim().split('@')[0]!).sort();
const ourCgroups = () => readdirSync('/sys/fs/cgroup').flatMap((h) => {
  try { return readdirSync(join('/sys/fs/cgroup', h)).filter((d) => d.startsWith(PREFIX)).map((d) => `${h}/${d}`); } catch { return []; }
});
const ourMounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(DIR));
const ourProcesses = () => pidsMentioning(DIR);

test('kubectl apply of the manifests on real kubelet nodes: Pods Ready, curl through the EXTERNAL-IP, capabilities, config edits, speaker restart, clean down', { timeout: 1_500_000 }, async (t) => {
  const root = process.getuid?.() === 0;
  const tools = ['containerd', 'ctr', 'runc', 'podman', 'busybox', 'iptables'].every((c) => sh('sh', ['-c', `command -v ${c}`]).status === 0);
  if (!requirePrerequisite(t, root && tools, 'root with containerd, runc, podman, busybox-static and iptables (scripts/setup.sh installs them)')) return;
  const interfacesBefore = hostInterfaces();
  const hostNetns = readlinkSync('/proc/self/ns/net');
  t.after(async () => {
    const down = await lab('down');
    if (down.code !== 0) process.stderr.write(down.output);
  });

  const up = await lab('up');
  assert.equal(up.code, 0, `lab up --kubelet failed:\n${up.output}`);
  assert.match(up.output, /curl http:\/\/192\.0\.2\.\d+\/ from \S+client: answered by demo-/, up.output);

  await t.test('the only Nodes are the kubelets\', Ready, with the nodes\' IPv4 and IPv6', () => {
    const nodes = JSON.parse(kubectl(['get', 'nodes', '-o', 'json'])) as { items: Array<{ metadata: { name: string }; status: { addresses: Array<{ type: string; address: string }>; nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string } } }> };
    assert.deepEqual(nodes.items.map((n) => n.metadata.name).sort(), NODES.map((n) => n.name));
    for (const n of nodes.items) {
      const lab = NODES.find((l) => l.name === n.metadata.name)!;
      assert.deepEqual(n.status.addresses.filter((a) => a.type === 'InternalIP').map((a) => a.address), [lab.ipv4, lab.ipv6]);
      assert.equal(n.status.nodeInfo.kubeletVersion, 'v1.35.4');
      assert.match(n.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\//);
    }
  });

  await t.test('controller and a speaker per node are Running and Ready; the Service has an IP the client reaches', async () => {
    assert.equal(readyPods('metallb-system', 'component=controller').length, 1);
    assert.deepEqual(readyPods('metallb-system', 'component=speaker').map((p) => p.node).sort(), NODES.map((n) => n.name));
    const ip = kubectl(['get', 'service', 'demo', '-n', 'default', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}']).trim();
    assert.match(ip, /^192\.0\.2\.(1\d\d)$/);
    const answer = await eventually(`curl ${ip} from the client`, () => curlOnce(CLIENT, ip));
    assert.match(answer, /^demo-/);
  });

  await t.test('no lab Pod has an interface or a process in the host\'s network namespace', () => {
    assert.deepEqual(hostInterfaces(), interfacesBefore);
    for (const node of NODES) {
      const nodeNetns = netnsInode(`/run/netns/${node.netns}`);
      for (const pod of pods('metallb-system', 'app=metallb').filter((p) => p.node === node.name)) {
        const pid = containerPid(node.name, pod.containerId);
        assert.notEqual(netnsOf(pid), hostNetns, `${pod.name} runs in the host's network namespace`);
        // The speaker is hostNetwork: that host is the lab node.
        if (pod.name.startsWith('speaker-')) assert.equal(statSync(`/proc/${pid}/ns/net`).ino, nodeNetns, `${pod.name} is not in ${node.netns}`);
      }
    }
  });

  await t.test('the controller runs as 65534 with no capabilities, the speaker as UID 0 with only NET_RAW', () => {
    const [controller] = readyPods('metallb-system', 'component=controller');
    const c = procStatus(containerPid(controller!.node, controller!.containerId));
    assert.deepEqual(c.uids, ['65534', '65534', '65534', '65534']);
    assert.deepEqual([c.capEff, c.capPrm, c.capBnd, c.capAmb], [0n, 0n, 0n, 0n]);
    for (const speaker of readyPods('metallb-system', 'component=speaker')) {
      const s = procStatus(containerPid(speaker.node, speaker.containerId));
      assert.deepEqual(s.uids, ['0', '0', '0', '0']);
      assert.equal(s.capEff, CAP_NET_RAW, `${speaker.name} CapEff ${s.capEff.toString(16)}`);
      assert.equal(s.capBnd, CAP_NET_RAW);
      assert.equal(s.capAmb, 0n);
    }
  });

  await t.test('a ConfigMap edit reaches the controller (it allocates from a new pool) and the speakers (they announce it)', async () => {
    const config = [
      'address-pools:',
      '- name: lab-layer2', '  protocol: layer2', '  addresses:', '  - 192.0.2.100-192.0.2.199', '  - 2001:db8::100-2001:db8::1ff',
      '- name: edited', '  protocol: layer2', '  addresses:', '  - 192.0.2.240/29',
    ].join('\n');
    kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config', namespace: 'metallb-system' }, data: { config } }));
    kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'edited', namespace: 'default', annotations: { 'metallb.universe.tf/address-pool': 'edited' } },
      spec: { type: 'LoadBalancer', selector: { app: 'demo' }, ports: [{ port: 80, targetPort: 'http' }] },
    }));
    const ip = await eventually('an IP from the edited pool', () => {
      const got = kubectl(['get', 'service', 'edited', '-n', 'default', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}']).trim();
      return got === '' ? undefined : got;
    });
    assert.match(ip, /^192\.0\.2\.24[0-7]$/);
    assert.match(await eventually(`curl ${ip} from the client`, () => curlOnce(CLIENT, ip)), /^demo-/);
    assert.equal((await announcements(NODES)).filter((a) => a.ip === ip && a.protocol === 'layer2').length, 1);
  });

  await t.test('deleting the announcing speaker Pod brings a new one that announces again', async () => {
    const ip = kubectl(['get', 'service', 'demo', '-n', 'default', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}']).trim();
    const [owner] = await eventually(`one owner of ${ip}`, async () => {
      const owners = ownersOf(await announcements(NODES), ip, 'layer2');
      return owners.length === 1 ? owners : undefined;
    });
    const old = readyPods('metallb-system', 'component=speaker').find((p) => p.node === owner)!;
    kubectl(['delete', 'pod', old.name, '-n', 'metallb-system', '--wait=true']);
    const replacement = await eventually(`a new speaker Pod on ${owner!} Running and Ready`, () =>
      readyPods('metallb-system', 'component=speaker').find((p) => p.node === owner && p.name !== old.name));
    const node = NODES.find((n) => n.name === owner) as LabNode;
    // Layer 2 picks the owner by hashing node and Service names: with every speaker back, the same node wins again.
    await eventually(`${replacement.name} announcing ${ip}`, async () => (ownersOf(await announcements([node]), ip, 'layer2').length === 1 ? true : undefined));
    assert.match(await eventually(`curl ${ip} from the client`, () => curlOnce(CLIENT, ip)), /^demo-/);
  });

  await t.test('lab down leaves nothing on the host: no namespaces, cgroups, mounts, processes or interfaces', async () => {
    const down = await lab('down');
    assert.equal(down.code, 0, down.output);
    assert.deepEqual(topologyNames(PREFIX).all.filter((ns) => existsSync(`/run/netns/${ns}`)), []);
    assert.deepEqual(ourCgroups(), []);
    assert.deepEqual(ourMounts(), []);
    assert.deepEqual(ourProcesses(), []);
    assert.deepEqual(hostInterfaces(), interfacesBefore);
    assert.equal(existsSync(DIR), false);
  });
});
