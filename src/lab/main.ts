// npm run lab -- up [--config FILE] [--router bird|frr|gobgp] [--kubelet] | down | status | restart-speaker NODE | config FILE
//
// --kubelet: real nodes instead (kubelet-lab.ts, kubelet-nodes.ts): a containerd, a kubelet and a kube-proxy in
// each node namespace, kube-scheduler, and MetalLB installed as the README says, running as Pods of its image.
//
// A local MetalLB lab on one machine: a real Kubernetes control plane (no kubelet), three "nodes" that are
// network namespaces on one L2 segment with a client, a BIRD router and an external host behind it, the
// manifests and a layer-2 config applied, the controller and a speaker per node as local processes with
// their own ServiceAccount tokens, stand-ins for the kubelet (Pods and their status, kubelet.ts) and kube-proxy
// (kube-proxy-main.ts), and a dual-stack demo LoadBalancer Service that `up` curls from the client. Needs root.
// State lives in .lab/ (METALLB_TS_LAB_DIR); namespaces are named mlts-* (METALLB_TS_LAB_PREFIX).
import { existsSync, mkdirSync, copyFileSync, cpSync, symlinkSync, rmSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { request } from 'node:http';
import { TestCluster } from '../testing/cluster/cluster.js';
import { ensureBinaries, repoRoot } from '../testing/cluster/binaries.js';
import { startDaemon, stopPid, stopOwnPid, commandLineMentions, isAlive, waitFor, freePort, run, StopWaiting } from '../testing/cluster/processes.js';
import { labPaths, labPrefix, readState, writeState, type LabPaths, type LabState } from './state.js';
import { buildTopology, topologyNames, netnsExists, netnsPids, deleteNetns, checkConnectivity } from './topology.js';
import { startBird, birdProtocols, reconfigureBird } from './router.js';
import { startFrr, vtysh, reconfigureFrr } from './frr.js';
import { startGobgp, gobgp, gobgpSocket } from './gobgp.js';
import { routerSessionsFromFile, sessionsUseBfd } from './peering.js';
import { checkLabConfig } from './config-check.js';
import { createNodes, applyFiles, createDemoService, demoExternalIps, DEMO_SERVICE } from './kube.js';
import { writeSpeakerPods, writeDemoPods } from './kubelet.js';
import { cliPath, cliHasSpeaker, startSpeaker, waitSpeakerReady, memberlistKey, startKubeProxy, ensureKubeProxyAccount, type SpeakerLaunch } from './speakers.js';
import { announcements, ownersOf, curlOnce } from './observe.js';
import { ensureLabImages, writeKubernetesEndpoints, startKubeletNodes, installAsReadme, KUBELET_DEMO } from './kubelet-lab.js';
import { stopKubeletNode } from './kubelet-nodes.js';
import type { LabNode } from './topology.js';

const say = (line: string) => process.stdout.write(`${line}\n`);
const seconds = (t0: number) => ((Date.now() - t0) / 1000).toFixed(2);

/** Set by SIGINT/SIGTERM during `up`; checked between steps so `up` stops and cleans up after itself. */
let interrupted: string | undefined;
function checkpoint(): void {
  if (interrupted) throw new Error(`interrupted by ${interrupted}`);
}

type Router = 'bird' | 'frr' | 'gobgp';
const ROUTERS: readonly Router[] = ['bird', 'frr', 'gobgp'];

async function up(configFile: string | undefined, router: Router = 'bird', kubelet = false): Promise<void> {
  const t0 = Date.now();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) process.exit(130); // a second signal: give up on the cleanup
      interrupted = signal;
      say(`lab: ${signal}: stopping after the current step and cleaning up (again to quit at once)`);
    });
  }
  const paths = labPaths();
  const prefix = labPrefix();
  await checkPrerequisites(kubelet);
  if (readState(paths) || topologyNames(prefix).all.some(netnsExists)) {
    say('lab: an old lab is still here; taking it down first');
    await down();
  }
  const config = configFile ?? join(repoRoot(), 'examples', 'lab-layer2.yaml');
  if (!existsSync(config)) throw new Error(`config file not found: ${config}`);
  // The router's side of the BGP sessions follows the config (peers, ASNs, passwords, families).
  const sessions = routerSessionsFromFile(config);
  ensureBinaries(kubelet);
  const imagesDir = kubelet ? ensureLabImages(say) : '';

  mkdirSync(paths.logs, { recursive: true });
  const state: LabState = { version: 1, prefix, namespaces: [], pids: {}, ports: [], startedAt: new Date().toISOString() };
  const save = () => { writeState(paths, state); checkpoint(); };
  save();
  try {
    const topo = topologyNames(prefix);
    // Both at once; allSettled so that a failure in one never lets the cleanup race the other.
    const [started, built] = await Promise.allSettled([
      TestCluster.start({ dir: paths.clusterDir, keepAfterExit: true, kubelet }).then((c) => {
        state.clusterInfo = c.infoFile;
        state.ports.push(c.info.port, c.info.etcdPort, c.info.etcdPeerPort);
        save();
        return c;
      }),
      buildTopology(prefix, (ns) => { state.namespaces.push(ns); save(); }),
    ]);
    if (started.status === 'rejected') throw started.reason;
    if (built.status === 'rejected') throw built.reason;
    const cluster = started.value;
    say(`lab: cluster ${cluster.server} and network namespaces ${topo.all.join(' ')} up after ${seconds(t0)} s`);
    checkpoint();
    const unreachable = await checkConnectivity(prefix);
    if (unreachable.length > 0) throw new Error(`the lab network is broken, no ping: ${unreachable.join(', ')}`);
    say('lab: network ok (client and ext reach the nodes over IPv4 and IPv6, through the router)');

    // Speakers will run inside the node namespaces; there 127.0.0.1:<port> leads to the apiserver too.
    // --kubelet: on every address, since the nodes' addresses are the `kubernetes` Service's endpoints.
    await cluster.exposeInNetns(topo.nodes.map((n) => n.netns), { allAddresses: kubelet });
    if (router === 'frr') {
      const frr = await startFrr(topo.router, paths.dir, topo.nodes, sessions);
      state.pids.zebra = frr.pids.zebra;
      state.pids.bgpd = frr.pids.bgpd;
      if (frr.pids.bfdd) state.pids.bfdd = frr.pids.bfdd;
    } else if (router === 'gobgp') {
      if (sessionsUseBfd(sessions)) throw new Error('GoBGP has no BFD: use --router bird or --router frr with a bfd-profile');
      state.pids.gobgpd = (await startGobgp(topo.router, paths.dir, topo.nodes, sessions)).pid;
    } else {
      const bird = await startBird(topo.router, paths.dir, topo.nodes, sessions);
      state.pids.bird = bird.pid;
    }
    save();

    mkdirSync(join(paths.dir, 'bin'), { recursive: true });
    copyFileSync(cluster.adminKubeconfig, paths.kubeconfig);
    rmSync(paths.kubectl, { force: true });
    symlinkSync(cluster.kubectlPath, paths.kubectl);

    checkpoint();
    if (kubelet) {
      await writeKubernetesEndpoints(cluster, topo.nodes);
      await startKubeletNodes(cluster, paths, state, save, topo.nodes, imagesDir, say);
      checkpoint();
      const ips = await installAsReadme(cluster, config, say);
      say('');
      say((await cluster.kubectl(['get', 'service', KUBELET_DEMO, '-n', 'default', '-o', 'wide'])).trimEnd());
      say('');
      const unanswered = await curlDemo(topo.client, ips);
      upFooter(paths, topo.nodes[0]!.netns, t0);
      if (unanswered > 0) throw new LabUpButBroken(`the demo did not answer on ${unanswered} of ${ips.length} IPs; the lab stays up for a look (logs in ${paths.dir}/kubelet/<node>/{logs,pod-logs})`);
      return;
    }
    await createNodes(cluster, topo.nodes);
    const manifests = join(repoRoot(), 'manifests');
    await applyFiles(cluster, [join(manifests, 'namespace.yaml'), join(manifests, 'metallb.yaml')]);
    await applyFiles(cluster, [config]);
    say(`lab: nodes ${topo.nodes.map((n) => n.name).join(', ')} Ready; manifests and ${config} applied`);

    checkpoint();
    const controllerRunning = await startController(cluster, paths, state, save);

    // kube-proxy's stand-in on every node, then what the kubelets would write: speaker and demo Pods.
    const proxyKubeconfig = await ensureKubeProxyAccount(cluster);
    for (const node of topo.nodes) {
      state.pids[`kube-proxy-${node.name}`] = startKubeProxy(node, proxyKubeconfig, join(paths.logs, `kube-proxy-${node.name}.log`));
      save();
    }
    await writeSpeakerPods(cluster, topo.nodes);
    await writeDemoPods(cluster, topo.nodes);
    say(`lab: kube-proxy stand-ins running; Pods speaker-node1..3 and demo-node1..3 Running and Ready (the lab writes what kubelets would)`);

    checkpoint();
    const speakersRunning = controllerRunning && await startSpeakers(cluster, paths, state, save, topo.nodes);

    checkpoint();
    await createDemoService(cluster);
    let ips: string[] = [];
    if (controllerRunning) {
      try {
        await waitFor(`an EXTERNAL-IP for Service ${DEMO_SERVICE}`, 20_000, async () => (ips = await demoExternalIps(cluster)).length > 0, 200);
      } catch (err) {
        say(`lab: ${(err as Error).message}; see ${join(paths.logs, 'controller.log')}`);
      }
    }
    say('');
    say((await cluster.kubectl(['get', 'service', DEMO_SERVICE, '-n', 'default', '-o', 'wide'])).trimEnd());
    say('');
    let unanswered = 0;
    if (router === 'gobgp') {
      // gobgpd installs no kernel routes (no zebra here): nothing forwards to the demo; its RIB is the view.
      say(`lab: gobgpd installs no kernel routes, so the demo is not reachable through the router; its RIB: gobgp --target unix://${gobgpSocket(paths.dir)} global rib -a ipv4 (or -a ipv6)`);
    } else if (speakersRunning) {
      unanswered = await curlDemo(topo.client, ips);
    }
    upFooter(paths, topo.nodes[0]!.netns, t0);
    if (unanswered > 0) throw new LabUpButBroken(`the demo did not answer on ${unanswered} of ${ips.length} IPs; the lab stays up for a look (logs in ${paths.logs})`);
  } catch (err) {
    if (err instanceof LabUpButBroken) throw err;
    say(`lab: up failed: ${(err as Error).message}`);
    keepLogs(paths);
    say('lab: cleaning up');
    await down();
    throw err;
  }
}

/** Copies the logs (the cluster's, the lab's, each real node's and its Pods') to <lab dir>.failed before cleanup. */
function keepLogs(paths: LabPaths): void {
  const target = `${paths.dir}.failed`;
  rmSync(target, { recursive: true, force: true });
  const copy = (from: string, to: string) => { if (existsSync(from)) cpSync(from, join(target, to), { recursive: true, dereference: false }); };
  copy(paths.logs, 'logs');
  copy(join(paths.clusterDir, 'logs'), 'cluster-logs');
  for (const node of readState(paths)?.kubeletNodes ?? []) {
    copy(join(node.dir, 'logs'), join(node.node, 'logs'));
    copy(join(node.dir, 'pod-logs'), join(node.node, 'pod-logs'));
  }
  if (existsSync(target)) say(`lab: logs kept in ${target}`);
}

function upFooter(paths: LabPaths, netns: string, t0: number): void {
  say(`lab up in ${seconds(t0)} s`);
  say(`  kubeconfig: ${paths.kubeconfig}`);
  say(`  kubectl:    ${paths.kubectl}`);
  say(`  try:        ${paths.kubectl} --kubeconfig ${paths.kubeconfig} get nodes,svc -A`);
  say(`  in a node:  ip netns exec ${netns} ${paths.kubectl} --kubeconfig ${paths.kubeconfig} get nodes`);
  say(`  shell:      export KUBECONFIG=${paths.kubeconfig} PATH=${dirname(paths.kubectl)}:$PATH   # bare kubectl, npx metallb-ts status`);
  // A lab with its own prefix or state dir is stopped with the same variables.
  const env = ['METALLB_TS_LAB_PREFIX', 'METALLB_TS_LAB_DIR'].filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]} `).join('');
  say(`  stop:       ${env}npm run lab -- down`);
}

/** Runs `metallb-ts controller` with its ServiceAccount token if the CLI has it; true when it runs. */
async function startController(cluster: TestCluster, paths: LabPaths, state: LabState, save: () => void): Promise<boolean> {
  // METALLB_TS_CLI: run another build of the CLI (or a stand-in in tests) instead of this checkout's.
  const cli = cliPath();
  if (!existsSync(cli)) {
    say(`controller: not implemented yet (no ${cli})`);
    return false;
  }
  const kubeconfig = await cluster.kubeconfigFor('metallb-system', 'controller');
  const port = await freePort();
  const logFile = join(paths.logs, 'controller.log');
  const pid = startDaemon({
    command: process.execPath,
    args: [cli, 'controller', '--kubeconfig', kubeconfig, '--namespace', 'metallb-system', '--port', String(port), '--log-level', 'info'],
    env: { ...process.env, METALLB_ML_SECRET_NAME: 'memberlist', METALLB_DEPLOYMENT: 'controller' },
    logFile,
  });
  state.pids.controller = pid;
  state.ports.push(port);
  save();
  try {
    // Generous: with both cores busy a Node.js start alone can take several seconds.
    await waitFor('the controller metrics endpoint', 30_000, async () => {
      if (!isAlive(pid)) throw new StopWaiting('it exited');
      return (await httpStatus(`http://127.0.0.1:${port}/metrics`)) === 200;
    }, 100);
  } catch (err) {
    say(`controller: not running (${(err as Error).message}; log ${logFile}: ${lastLine(logFile)})`);
    await stopPid(pid, 1000);
    delete state.pids.controller;
    state.ports = state.ports.filter((p) => p !== port);
    save();
    return false;
  }
  say(`controller: running as system:serviceaccount:metallb-system:controller, pid ${pid}, metrics http://127.0.0.1:${port}/metrics, log ${logFile}`);
  return true;
}

/** `lab up` finished but the demo does not answer: the lab stays up (no cleanup), the exit status says so. */
class LabUpButBroken extends Error {}

/**
 * Starts a speaker in every node namespace, as the DaemonSet would, once the controller has created the
 * memberlist Secret; true when all three serve /metrics. Without a `speaker` subcommand in the CLI it says so.
 */
async function startSpeakers(cluster: TestCluster, paths: LabPaths, state: LabState, save: () => void, nodes: LabNode[]): Promise<boolean> {
  const cli = cliPath();
  if (!(await cliHasSpeaker(cli))) {
    say(`speaker: not implemented yet (no speaker subcommand in ${cli})`);
    return false;
  }
  const secretKey = await memberlistKey(cluster);
  const kubeconfig = await cluster.kubeconfigFor('metallb-system', 'speaker');
  state.speakers = {};
  const started: Array<[LabNode, number]> = [];
  for (const node of nodes) {
    const launch: SpeakerLaunch = { node, kubeconfig, secretKey, logFile: join(paths.logs, `speaker-${node.name}.log`) };
    const pid = startSpeaker(launch);
    state.pids[`speaker-${node.name}`] = pid;
    state.speakers[node.name] = { kubeconfig, secretKey, logFile: launch.logFile };
    save();
    started.push([node, pid]);
  }
  try {
    await Promise.all(started.map(([node, pid]) => waitSpeakerReady(pid, node)));
  } catch (err) {
    say(`speaker: not running (${(err as Error).message}; logs ${join(paths.logs, 'speaker-<node>.log')})`);
    return false;
  }
  for (const [node, pid] of started) {
    say(`speaker: running in ${node.netns} as system:serviceaccount:metallb-system:speaker, pid ${pid}, METALLB_NODE_NAME=${node.name}, metrics http://${node.ipv4}:7472/metrics`);
  }
  return true;
}

/** Curls every demo IP from the client until it answers (30 s each); prints who answered; returns the failures. */
async function curlDemo(clientNetns: string, ips: string[]): Promise<number> {
  let failures = 0;
  for (const ip of ips) {
    const url = ip.includes(':') ? `http://[${ip}]/` : `http://${ip}/`;
    let answer: string | undefined;
    try {
      await waitFor(`an answer from ${url}`, 30_000, async () => (answer = await curlOnce(clientNetns, ip)) !== undefined, 200);
      say(`curl ${url} from ${clientNetns}: answered by ${answer}`);
    } catch {
      say(`curl ${url} from ${clientNetns}: NO ANSWER within 30 s`);
      failures += 1;
    }
  }
  return failures;
}

function lastLine(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).slice(0, 2).join(' / ').slice(0, 200);
  } catch {
    return '(empty)';
  }
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function down(): Promise<void> {
  const t0 = Date.now();
  const paths = labPaths();
  const state = readState(paths);
  const prefix = state?.prefix ?? labPrefix();
  // Our processes first (by recorded PID), then the cluster, then anything left inside our namespaces. Each of
  // our processes has the lab dir in its arguments; a recorded PID whose process does not is a reused PID (a lab
  // killed long ago) and belongs to someone else. Real nodes first: their kubelets would restart what we stop.
  await Promise.all((state?.kubeletNodes ?? []).map(async (node) => {
    say(`lab: stopping the kubelet, Pods and containerd of ${node.node}`);
    const left = await stopKubeletNode(node.dir, node.cgroupRoot, `${prefix}${node.node}`, say);
    for (const l of left) say(`lab: could not remove ${l}`);
  }));
  for (const [role, pid] of Object.entries(state?.pids ?? {})) {
    if (isAlive(pid) && commandLineMentions(pid, paths.dir)) say(`lab: stopping ${role} (pid ${pid})`);
    await stopOwnPid(pid, paths.dir, 3000);
  }
  // cluster.json is written as soon as etcd starts, so this also finds a cluster whose start was interrupted.
  const clusterInfo = state?.clusterInfo ?? join(paths.clusterDir, 'cluster.json');
  if (existsSync(clusterInfo)) {
    const tCluster = Date.now();
    await TestCluster.attach(clusterInfo).stop();
    say(`lab: cluster stopped in ${seconds(tCluster)} s`);
  }
  const namespaces = [...new Set([...(state?.namespaces ?? []), ...topologyNames(prefix).all])].filter(netnsExists);
  const tNetns = Date.now();
  for (const ns of namespaces) {
    for (const pid of await netnsPids(ns)) {
      say(`lab: stopping pid ${pid} left in ${ns}`);
      await stopPid(pid, 3000);
    }
  }
  for (const ns of namespaces.reverse()) await deleteNetns(ns);
  if (namespaces.length > 0) say(`lab: namespaces emptied and deleted in ${seconds(tNetns)} s`);
  rmSync(paths.dir, { recursive: true, force: true });
  say(state || namespaces.length > 0 ? `lab down in ${seconds(t0)} s` : 'lab: nothing to stop');
}

async function status(): Promise<void> {
  const paths = labPaths();
  const state = readState(paths);
  if (!state) {
    say(`lab: not running (no ${paths.stateFile})`);
    return;
  }
  say(`lab: started ${state.startedAt}, state in ${paths.dir}, prefix ${state.prefix}`);
  const cluster = state.clusterInfo && existsSync(state.clusterInfo) ? TestCluster.attach(state.clusterInfo) : undefined;
  const processes: Record<string, number> = { ...state.pids };
  if (cluster) {
    const { pids } = cluster.info;
    Object.assign(processes, { etcd: pids.etcd, 'kube-apiserver': pids.apiserver, 'kube-controller-manager': pids.controllerManager });
    pids.relays.forEach((pid, i) => { processes[`netns-relay-${i}`] = pid; });
  }
  for (const [role, pid] of Object.entries(processes)) say(`  ${role.padEnd(24)} pid ${String(pid).padEnd(8)} ${isAlive(pid) ? 'running' : 'NOT RUNNING'}`);
  for (const ns of state.namespaces) say(`  netns ${ns.padEnd(20)} ${netnsExists(ns) ? 'present' : 'MISSING'}`);
  if (!cluster) return;
  say(`  apiserver ${cluster.server}; kubeconfig ${paths.kubeconfig}; kubectl ${paths.kubectl}`);
  if (isAlive(cluster.info.pids.apiserver)) {
    const out = await cluster.kubectlResult(['get', 'nodes,services', '-A', '-o', 'wide']);
    say(out.code === 0 ? out.stdout.trimEnd() : out.stderr.trim());
  }
  const socket = join(paths.dir, 'bird.ctl');
  if (existsSync(socket)) say((await birdProtocols(socket)).trimEnd());
  if (existsSync(join(paths.dir, 'frr'))) say((await vtysh(join(paths.dir, 'frr'), 'show bgp summary')).stdout.trimEnd());
  if (existsSync(gobgpSocket(paths.dir))) say((await gobgp(gobgpSocket(paths.dir), 'neighbor')).stdout.trimEnd());
  if (isAlive(cluster.info.pids.apiserver)) await serviceOwners(cluster, topologyNames(state.prefix).nodes);
}

/**
 * Per LoadBalancer Service: its IPs and, per IP, the node whose speaker announces it in layer 2, or `bgp: <nodes>`
 * for the nodes that advertise it over BGP (their metallb_speaker_announced series say so).
 */
async function serviceOwners(cluster: TestCluster, nodes: LabNode[]): Promise<void> {
  const out = await cluster.kubectlResult(['get', 'services', '-A', '-o', 'json']);
  if (out.code !== 0) return;
  const list = JSON.parse(out.stdout) as { items: Array<{ metadata: { name: string; namespace: string }; spec: { type?: string }; status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } }> };
  const announced = await announcements(nodes);
  const rows: string[][] = [['SERVICE', 'IP', 'OWNER (metallb_speaker_announced)']];
  for (const svc of list.items.filter((s) => s.spec.type === 'LoadBalancer')) {
    const name = `${svc.metadata.namespace}/${svc.metadata.name}`;
    const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '?');
    if (ips.length === 0) rows.push([name, '<pending>', '-']);
    for (const ip of ips) {
      const layer2 = ownersOf(announced, ip, 'layer2');
      const bgp = ownersOf(announced, ip, 'bgp');
      rows.push([name, ip, [...layer2, ...(bgp.length > 0 ? [`bgp: ${bgp.join(',')}`] : [])].join(' ') || '<none>']);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) say(r.map((c, i) => c.padEnd(widths[i]!)).join('   ').trimEnd());
}

/** Stops one node's speaker and starts it again exactly as `lab up` did (a speaker restart, as in a rollout). */
async function restartSpeaker(nodeName: string | undefined): Promise<void> {
  const paths = labPaths();
  const state = readState(paths);
  if (!state) throw new Error(`not running (no ${paths.stateFile})`);
  const node = topologyNames(state.prefix).nodes.find((n) => n.name === nodeName);
  const recorded = nodeName ? state.speakers?.[nodeName] : undefined;
  if (!node || !recorded) throw new Error(`no speaker recorded for node ${JSON.stringify(nodeName)} (nodes: ${Object.keys(state.speakers ?? {}).join(', ') || 'none'})`);
  const role = `speaker-${node.name}`;
  const old = state.pids[role];
  if (old !== undefined) await stopOwnPid(old, paths.dir, 3000);
  const pid = startSpeaker({ node, ...recorded });
  state.pids[role] = pid;
  writeState(paths, state);
  await waitSpeakerReady(pid, node);
  say(`speaker: restarted on ${node.name}, pid ${old ?? '-'} -> ${pid}`);
}

/**
 * `lab config FILE`: applies another MetalLB config and gives the router the matching side (peers, ASNs,
 * passwords, families): BIRD reloads its config, FRR's bgpd and gobgpd restart on the new one. First the same
 * prediction as `validate --cluster` (src/lab/config-check.ts): a config MetalLB would refuse (a Service holds an
 * address outside its pools) changes nothing, and the exit code is 4 (1 for an invalid file). Resolves to the exit code.
 */
async function applyConfig(file: string | undefined): Promise<number> {
  if (!file || !existsSync(file)) throw new Error(`config file not found: ${file ?? '(none given)'}`);
  const paths = labPaths();
  const state = readState(paths);
  if (!state?.clusterInfo) throw new Error(`not running (no ${paths.stateFile})`);
  const cluster = TestCluster.attach(state.clusterInfo);
  const verdict = await checkLabConfig(file, cluster.adminKubeconfig);
  if (!verdict.ok) {
    process.stderr.write(verdict.message);
    return verdict.code;
  }
  const sessions = routerSessionsFromFile(file);
  const topo = topologyNames(state.prefix);
  await applyFiles(cluster, [file]);
  if (state.pids.gobgpd !== undefined) {
    // gobgpd restarts on the new file (its sessions restart; it installs no kernel routes to keep).
    await stopOwnPid(state.pids.gobgpd, paths.dir, 5000);
    rmSync(gobgpSocket(paths.dir), { force: true });
    state.pids.gobgpd = (await startGobgp(topo.router, paths.dir, topo.nodes, sessions)).pid;
    writeState(paths, state);
  } else if (state.pids.bgpd !== undefined) {
    if (sessionsUseBfd(sessions) && state.pids.bfdd === undefined) throw new Error('lab config: BFD needs bfdd, which this FRR lab did not start; take the lab down and up with --config');
    state.pids.bgpd = await reconfigureFrr(topo.router, paths.dir, topo.nodes, sessions, state.pids.bgpd);
    writeState(paths, state);
  } else {
    await reconfigureBird(paths.dir, topo.nodes, sessions);
  }
  say(`lab: ${file} applied; the router has ${sessions.map((s) => `${s.ibgp ? 'iBGP' : 'eBGP'} ${s.routerAddress} (${s.families.map((f) => `IPv${f}`).join('+')}${s.password !== undefined ? ', TCP-MD5' : ''})`).join(', ')}`);
  return 0;
}

async function checkPrerequisites(kubelet: boolean): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the lab needs root (network namespaces: CAP_SYS_ADMIN and CAP_NET_ADMIN)');
  const missing: string[] = [];
  const kubeletCommands = ['containerd', 'ctr', 'runc', 'iptables', 'podman', 'gcc', 'busybox'];
  for (const command of ['ip', 'bird', 'birdc', 'openssl', 'bash', 'curl', ...(kubelet ? kubeletCommands : [])]) {
    if ((await run('sh', ['-c', `command -v ${command}`])).code !== 0) missing.push(command);
  }
  if (missing.length > 0) throw new Error(`missing commands: ${missing.join(', ')} (scripts/setup.sh installs them)`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const configIndex = rest.indexOf('--config');
  const config = configIndex >= 0 ? rest[configIndex + 1] : undefined;
  if (configIndex >= 0 && !config) throw new Error('--config needs a file');
  const routerIndex = rest.indexOf('--router');
  const router = (routerIndex >= 0 ? rest[routerIndex + 1] : 'bird') as Router;
  if (!ROUTERS.includes(router)) throw new Error('--router must be bird, frr or gobgp');
  switch (command) {
    case 'up': await up(config, router, rest.includes('--kubelet')); return 0;
    case 'down': await down(); return 0;
    case 'status': await status(); return 0;
    case 'restart-speaker': await restartSpeaker(rest[0]); return 0;
    case 'config': return applyConfig(rest[0]);
    default:
      process.stderr.write('usage: npm run lab -- up [--config FILE] [--router bird|frr|gobgp] [--kubelet] | down | status | restart-speaker NODE | config FILE\n'
        + 'env: METALLB_TS_LAB_DIR (state, default .lab), METALLB_TS_LAB_PREFIX (namespace prefix, default mlts-); the speakers\n'
        + '     inherit the environment, so METALLB_ML_* (e.g. METALLB_ML_PASSIVE_ROUNDS=2) set on `up` reach them\n');
      return 2;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`lab: ${err.message}\n`);
  process.exit(1);
});
