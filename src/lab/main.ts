// npm run lab -- up [--config FILE] | down | status
//
// A local MetalLB lab on one machine: a real Kubernetes control plane (no kubelet), three "nodes" that are
// network namespaces on one L2 segment with a client, a BIRD router and an external host behind it, the
// manifests and a layer-2 config applied, the controller (and later the speakers) as local processes with
// their own ServiceAccount tokens, and a demo LoadBalancer Service. Needs root (ip netns).
// State lives in .lab/ (METALLB_TS_LAB_DIR); namespaces are named mlts-* (METALLB_TS_LAB_PREFIX).
import { existsSync, mkdirSync, copyFileSync, symlinkSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { TestCluster } from '../testing/cluster/cluster.js';
import { ensureBinaries, repoRoot } from '../testing/cluster/binaries.js';
import { startDaemon, stopPid, isAlive, waitFor, freePort, run, StopWaiting } from '../testing/cluster/processes.js';
import { labPaths, labPrefix, readState, writeState, type LabPaths, type LabState } from './state.js';
import { buildTopology, topologyNames, netnsExists, netnsPids, deleteNetns, checkConnectivity } from './topology.js';
import { startBird, birdProtocols } from './router.js';
import { createNodes, applyFiles, createDemoService, demoExternalIp, DEMO_SERVICE } from './kube.js';

const say = (line: string) => process.stdout.write(`${line}\n`);
const seconds = (t0: number) => ((Date.now() - t0) / 1000).toFixed(2);

/** Set by SIGINT/SIGTERM during `up`; checked between steps so `up` stops and cleans up after itself. */
let interrupted: string | undefined;
function checkpoint(): void {
  if (interrupted) throw new Error(`interrupted by ${interrupted}`);
}

async function up(configFile: string | undefined): Promise<void> {
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
  await checkPrerequisites();
  if (readState(paths) || topologyNames(prefix).all.some(netnsExists)) {
    say('lab: an old lab is still here; taking it down first');
    await down();
  }
  const config = configFile ?? join(repoRoot(), 'examples', 'lab-layer2.yaml');
  if (!existsSync(config)) throw new Error(`config file not found: ${config}`);
  ensureBinaries();

  mkdirSync(paths.logs, { recursive: true });
  const state: LabState = { version: 1, prefix, namespaces: [], pids: {}, ports: [], startedAt: new Date().toISOString() };
  const save = () => { writeState(paths, state); checkpoint(); };
  save();
  try {
    const topo = topologyNames(prefix);
    // Both at once; allSettled so that a failure in one never lets the cleanup race the other.
    const [started, built] = await Promise.allSettled([
      TestCluster.start({ dir: paths.clusterDir, keepAfterExit: true }).then((c) => {
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
    await cluster.exposeInNetns(topo.nodes.map((n) => n.netns));
    const bird = await startBird(topo.router, paths.dir, topo.nodes);
    state.pids.bird = bird.pid;
    save();

    mkdirSync(join(paths.dir, 'bin'), { recursive: true });
    copyFileSync(cluster.adminKubeconfig, paths.kubeconfig);
    rmSync(paths.kubectl, { force: true });
    symlinkSync(cluster.kubectlPath, paths.kubectl);

    checkpoint();
    await createNodes(cluster, topo.nodes);
    const manifests = join(repoRoot(), 'manifests');
    await applyFiles(cluster, [join(manifests, 'namespace.yaml'), join(manifests, 'metallb.yaml')]);
    await applyFiles(cluster, [config]);
    say(`lab: nodes ${topo.nodes.map((n) => n.name).join(', ')} Ready; manifests and ${config} applied`);

    checkpoint();
    const controllerRunning = await startController(cluster, paths, state, save);
    // With the speaker: per node, startDaemon({ command: 'ip', args: ['netns', 'exec', node.netns, process.execPath,
    // cli, 'speaker', '--kubeconfig', await cluster.kubeconfigFor('metallb-system', 'speaker'), …] }) with
    // METALLB_NODE_NAME=node.name; `ip netns exec` execs, so the recorded PID is the speaker's own. The same
    // kubeconfig works inside the namespace (the relay above).
    say('speaker: not implemented yet (coming with the speaker issue)');

    checkpoint();
    await createDemoService(cluster);
    if (controllerRunning) {
      try {
        await waitFor(`an EXTERNAL-IP for Service ${DEMO_SERVICE}`, 20_000, async () => (await demoExternalIp(cluster)) !== undefined, 200);
      } catch (err) {
        say(`lab: ${(err as Error).message}; see ${join(paths.logs, 'controller.log')}`);
      }
    }
    say('');
    say((await cluster.kubectl(['get', 'service', DEMO_SERVICE, '-n', 'default', '-o', 'wide'])).trimEnd());
    say('');
    say(`lab up in ${seconds(t0)} s`);
    say(`  kubeconfig: ${paths.kubeconfig}`);
    say(`  kubectl:    ${paths.kubectl}`);
    say(`  try:        ${paths.kubectl} --kubeconfig ${paths.kubeconfig} get nodes,svc -A`);
    say(`  in a node:  ip netns exec ${topo.nodes[0]!.netns} ${paths.kubectl} --kubeconfig ${paths.kubeconfig} get nodes`);
    say('  stop:       npm run lab -- down');
  } catch (err) {
    say(`lab: up failed: ${(err as Error).message}`);
    say('lab: cleaning up');
    await down();
    throw err;
  }
}

/** Runs `metallb-ts controller` with its ServiceAccount token if the CLI has it; true when it runs. */
async function startController(cluster: TestCluster, paths: LabPaths, state: LabState, save: () => void): Promise<boolean> {
  // METALLB_TS_CLI: run another build of the CLI (or a stand-in in tests) instead of this checkout's.
  const cli = process.env.METALLB_TS_CLI ?? join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
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
    await waitFor('the controller metrics endpoint', 10_000, async () => {
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
  // Our processes first (by recorded PID), then the cluster, then anything left inside our namespaces.
  for (const [role, pid] of Object.entries(state?.pids ?? {})) {
    if (isAlive(pid)) say(`lab: stopping ${role} (pid ${pid})`);
    await stopPid(pid, 3000);
  }
  // cluster.json is written as soon as etcd starts, so this also finds a cluster whose start was interrupted.
  const clusterInfo = state?.clusterInfo ?? join(paths.clusterDir, 'cluster.json');
  if (existsSync(clusterInfo)) await TestCluster.attach(clusterInfo).stop();
  const namespaces = [...new Set([...(state?.namespaces ?? []), ...topologyNames(prefix).all])].filter(netnsExists);
  for (const ns of namespaces) {
    for (const pid of await netnsPids(ns)) {
      say(`lab: stopping pid ${pid} left in ${ns}`);
      await stopPid(pid, 3000);
    }
  }
  for (const ns of namespaces.reverse()) await deleteNetns(ns);
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
}

async function checkPrerequisites(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the lab needs root (network namespaces: CAP_SYS_ADMIN and CAP_NET_ADMIN)');
  const missing: string[] = [];
  for (const command of ['ip', 'bird', 'birdc', 'openssl', 'bash']) {
    if ((await run('sh', ['-c', `command -v ${command}`])).code !== 0) missing.push(command);
  }
  if (missing.length > 0) throw new Error(`missing commands: ${missing.join(', ')} (apt-get install iproute2 bird2 openssl)`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const configIndex = rest.indexOf('--config');
  const config = configIndex >= 0 ? rest[configIndex + 1] : undefined;
  if (configIndex >= 0 && !config) throw new Error('--config needs a file');
  switch (command) {
    case 'up': await up(config); return 0;
    case 'down': await down(); return 0;
    case 'status': await status(); return 0;
    default:
      process.stderr.write('usage: npm run lab -- up [--config FILE] | down | status\n');
      return 2;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`lab: ${err.message}\n`);
  process.exit(1);
});
