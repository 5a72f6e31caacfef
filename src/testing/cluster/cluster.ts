// A real, throwaway Kubernetes control plane: etcd + kube-apiserver + kube-controller-manager, no kubelet.
//
// API (stable; tests, the lab and the controller's tests use it):
//   TestCluster.start(options?: StartOptions): Promise<TestCluster>   start a new cluster (binaries must be built);
//                                                                       killed when this process exits unless
//                                                                       options.keepAfterExit
//   TestCluster.attach(infoFile: string): TestCluster                   use a cluster another process started
//   cluster.info: ClusterInfo                                           ports, PIDs, files (also in <dir>/cluster.json)
//   cluster.server: string                                              https://127.0.0.1:<port>
//   cluster.adminKubeconfig: string                                     path; user in group system:masters
//   cluster.kubectlPath: string                                         the kubectl built with the apiserver
//   cluster.kubectl(args, { input?, kubeconfig? }): Promise<string>     stdout; throws with stderr on failure
//   cluster.kubectlResult(args, { input?, kubeconfig? })                {stdout, stderr, code}; never throws on exit code
//   cluster.createNamespace(prefix): Promise<string>                    new namespace uniqueName(prefix) for one test
//   cluster.kubeconfigFor(namespace, serviceAccount): Promise<string>   path of a kubeconfig holding a TokenRequest
//                                                                       token (1 year) for that ServiceAccount
//   cluster.exposeInNetns(netnsNames, {allAddresses?}): Promise<number> makes 127.0.0.1:<port> (every address with
//                                                                       allAddresses) inside those network namespaces
//                                                                       reach the apiserver (PID of the relay)
//   cluster.stop(): Promise<void>                                       stops every process by PID, removes dir
//   cluster.killNow(): void                                             synchronous SIGKILL + remove (exit handlers)
//   uniqueName(prefix): string                                          DNS-1123 name unique in this run
//
// The apiserver listens on 127.0.0.1 only. Processes in a lab network namespace (`ip netns exec`) reach it
// through a relay (netns-relay.ts) that listens on 127.0.0.1:<same port> inside each namespace, so the one
// kubeconfig works on the host and in every node namespace. See docs/design/test-cluster.md.
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { createPki, type Pki } from './pki.js';
import { binaryDir, missingBinaries } from './binaries.js';
import { startDaemon, stopOwnPid, commandLineMentions, waitFor, freePort, run, isAlive, StopWaiting, type RunResult } from './processes.js';
import { startNetnsRelay } from './netns-relay.js';

export interface ClusterInfo {
  version: 1;
  /** Every file of this cluster (certs, data, logs, kubeconfigs) lives under dir. */
  dir: string;
  server: string;
  port: number;
  etcdPort: number;
  etcdPeerPort: number;
  binDir: string;
  adminKubeconfig: string;
  caFile: string;
  pids: { etcd: number; apiserver: number; controllerManager: number; relays: number[]; scheduler?: number };
  /** Service ClusterIP ranges; nothing routes them (there is no kube-proxy). */
  serviceCidrs: string[];
}

export interface StartOptions {
  /** Parent for the cluster's temp dir (default os.tmpdir()). */
  parentDir?: string;
  /** Fixed directory instead of a new temp dir (the lab uses .lab/cluster). Must not exist or be empty. */
  dir?: string;
  /**
   * Keep the cluster running after the starting process exits (the lab: `lab up` returns, `lab down` stops it).
   * By default a process 'exit' handler kills a cluster that was not stopped, so a crashed test leaks nothing.
   */
  keepAfterExit?: boolean;
  /** Log progress lines (JSON) to this function. */
  log?: (event: string, fields?: Record<string, unknown>) => void;
  /**
   * For real kubelets (`lab up --kubelet`): also run kube-scheduler; kube-controller-manager also runs the
   * deployment, replicaset, daemonset and root-CA publisher controllers (Pods get kube-root-ca.crt); the
   * apiserver's certificate is valid for the `kubernetes` Service's ClusterIPs (10.96.0.1, fd00:10:96::1) so
   * in-cluster clients can verify it. The binaries come from `build-binaries.sh --kubelet`.
   */
  kubelet?: boolean;
}

// ClusterIPs are only labels here: no kube-proxy, no route, nothing ever sends to them. They come from
// Kubernetes' usual private ranges rather than the documentation ranges because (1) tests create hundreds of
// Services and an IPv4 documentation /24 holds 254, and (2) they must never look like the pool and lab
// addresses, which are all in the documentation ranges. IPv4 first: single-stack Services are IPv4.
const SERVICE_CIDRS = ['10.96.0.0/16', 'fd00:10:96::/108'];
/** The `kubernetes` Service's ClusterIPs: the first address of each range, as the apiserver allocates them. */
export const KUBERNETES_SERVICE_IPS = ['10.96.0.1', 'fd00:10:96::1'];
const TOKEN_LIFETIME = '8760h';

export function uniqueName(prefix: string): string {
  uniqueCounter += 1;
  const suffix = `${process.pid.toString(36)}-${uniqueCounter.toString(36)}-${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
  const base = prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+/, '').slice(0, 63 - suffix.length - 1);
  return `${base || 'x'}-${suffix}`;
}
let uniqueCounter = 0;

export class TestCluster {
  private readonly tokenKubeconfigs = new Map<string, Promise<string>>();

  readonly info: ClusterInfo;

  private constructor(info: ClusterInfo) {
    this.info = info;
  }

  get server(): string { return this.info.server; }
  get adminKubeconfig(): string { return this.info.adminKubeconfig; }
  get kubectlPath(): string { return join(this.info.binDir, 'kubectl'); }
  get infoFile(): string { return join(this.info.dir, 'cluster.json'); }

  static attach(infoFile: string): TestCluster {
    const info = JSON.parse(readFileSync(infoFile, 'utf8')) as ClusterInfo;
    if (info.version !== 1) throw new Error(`${infoFile}: unknown cluster info version ${String(info.version)}`);
    return new TestCluster(info);
  }

  static async start(options: StartOptions = {}): Promise<TestCluster> {
    const log = options.log ?? (() => {});
    const binDir = binaryDir();
    const kubelet = options.kubelet === true;
    const missing = missingBinaries(binDir, kubelet);
    if (missing.length > 0) {
      throw new Error(`cluster binaries missing in ${binDir}: ${missing.join(', ')}; build them with: bash test/cluster/build-binaries.sh${kubelet ? ' --kubelet' : ''}`);
    }
    const dir = options.dir ?? mkdtempSync(join(options.parentDir ?? tmpdir(), 'metallb-ts-cluster-'));
    mkdirSync(join(dir, 'pki'), { recursive: true });
    mkdirSync(join(dir, 'logs'), { recursive: true });
    const port = await freePort();
    const etcdPort = await freePort();
    const etcdPeerPort = await freePort();
    const server = `https://127.0.0.1:${port}`;
    const pids: ClusterInfo['pids'] = { etcd: 0, apiserver: 0, controllerManager: 0, relays: [] };
    const info: ClusterInfo = {
      version: 1, dir, server, port, etcdPort, etcdPeerPort, binDir,
      adminKubeconfig: join(dir, 'admin.kubeconfig'), caFile: join(dir, 'pki', 'ca.crt'),
      pids, serviceCidrs: SERVICE_CIDRS,
    };
    const cluster = new TestCluster(info);
    const writeInfo = () => writeFileSync(cluster.infoFile, JSON.stringify(info, null, 2) + '\n');
    try {
      pids.etcd = startEtcd(binDir, dir, etcdPort, etcdPeerPort);
      writeInfo();
      const pki = await createPki(join(dir, 'pki'), ['127.0.0.1', ...(kubelet ? KUBERNETES_SERVICE_IPS : [])],
        ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local']);
      writeAdminKubeconfig(info.adminKubeconfig, server, pki);
      pids.apiserver = startApiserver(binDir, dir, pki, port, etcdPort);
      writeInfo();
      log('apiserverStarting', { server, pid: pids.apiserver });
      await waitFor('kube-apiserver /readyz', 60_000, async () => {
        if (!isAlive(pids.apiserver)) throw new StopWaiting(`kube-apiserver exited; see ${join(dir, 'logs', 'kube-apiserver.log')}`);
        return (await getReadyz(port, pki)) === 200;
      }, 200);
      pids.controllerManager = startControllerManager(binDir, dir, info.adminKubeconfig, kubelet ? info.caFile : undefined);
      if (kubelet) pids.scheduler = startScheduler(binDir, dir, info.adminKubeconfig);
      writeInfo();
      // The serviceaccount controller creating "default" proves the controller manager is working.
      await waitFor('kube-controller-manager (default ServiceAccount)', 30_000, async () => {
        if (!isAlive(pids.controllerManager)) throw new StopWaiting(`kube-controller-manager exited; see ${join(dir, 'logs', 'kube-controller-manager.log')}`);
        return (await cluster.kubectlResult(['get', 'serviceaccount', 'default', '-n', 'default', '-o', 'name'])).code === 0;
      }, 200);
      if (pids.scheduler !== undefined && !isAlive(pids.scheduler)) {
        throw new Error(`kube-scheduler exited; see ${join(dir, 'logs', 'kube-scheduler.log')}`);
      }
      log('clusterReady', { server, dir });
      if (!options.keepAfterExit) cluster.killOnExit();
      return cluster;
    } catch (err) {
      await cluster.stop({ keepDir: true });
      throw err;
    }
  }

  kubectlResult(args: string[], options: { input?: string; kubeconfig?: string } = {}): Promise<RunResult> {
    const runOptions = options.input === undefined ? {} : { input: options.input };
    return run(this.kubectlPath, ['--kubeconfig', options.kubeconfig ?? this.adminKubeconfig, ...args], runOptions);
  }

  async kubectl(args: string[], options: { input?: string; kubeconfig?: string } = {}): Promise<string> {
    const result = await this.kubectlResult(args, options);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}`);
    return result.stdout;
  }

  /** Creates a namespace named uniqueName(prefix) for one test's objects; returns its name. */
  async createNamespace(prefix: string): Promise<string> {
    const name = uniqueName(prefix);
    await this.kubectl(['create', 'namespace', name]);
    return name;
  }

  /**
   * A kubeconfig that authenticates as system:serviceaccount:<namespace>:<serviceAccount> with a token from the
   * TokenRequest API (`kubectl create token`), valid for a year because client-node never refreshes it.
   * The ServiceAccount must exist. Cached per account for the life of this object.
   */
  kubeconfigFor(namespace: string, serviceAccount: string): Promise<string> {
    const key = `${namespace}/${serviceAccount}`;
    let pending = this.tokenKubeconfigs.get(key);
    if (!pending) {
      pending = this.writeTokenKubeconfig(namespace, serviceAccount);
      pending.catch(() => this.tokenKubeconfigs.delete(key));
      this.tokenKubeconfigs.set(key, pending);
    }
    return pending;
  }

  private async writeTokenKubeconfig(namespace: string, serviceAccount: string): Promise<string> {
    const token = (await this.kubectl(['create', 'token', serviceAccount, '-n', namespace, `--duration=${TOKEN_LIFETIME}`])).trim();
    const dir = join(this.info.dir, 'kubeconfigs');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${namespace}.${serviceAccount}.kubeconfig`);
    writeFileSync(file, kubeconfigYaml(this.server, this.info.caFile, `${namespace}:${serviceAccount}`, { token }), { mode: 0o600 });
    return file;
  }

  /**
   * Makes the apiserver reachable as https://127.0.0.1:<port> from inside each named network namespace (so the
   * same kubeconfigs work there) by starting a relay process; returns its PID (also recorded in info.pids.relays).
   */
  async exposeInNetns(netnsNames: string[], options: { allAddresses?: boolean } = {}): Promise<number> {
    const pid = await startNetnsRelay({
      port: this.info.port,
      namespaces: netnsNames,
      allAddresses: options.allAddresses === true,
      logFile: join(this.info.dir, 'logs', `netns-relay-${this.info.pids.relays.length}.log`),
      readyFile: join(this.info.dir, `netns-relay-${this.info.pids.relays.length}.ready`),
    });
    this.info.pids.relays.push(pid);
    writeFileSync(this.infoFile, JSON.stringify(this.info, null, 2) + '\n');
    return pid;
  }

  private exitHandler: (() => void) | undefined;

  private killOnExit(): void {
    this.exitHandler = () => this.killNow();
    process.on('exit', this.exitHandler);
  }

  /** Stops the relays, the controller manager, the apiserver and etcd (that order), by PID; removes dir. */
  async stop(options: { keepDir?: boolean } = {}): Promise<void> {
    if (this.exitHandler) process.off('exit', this.exitHandler);
    this.exitHandler = undefined;
    const { pids, dir } = this.info;
    // Every process of ours has `dir` in its arguments; a PID from an old cluster.json may be someone else's now.
    await Promise.all(pids.relays.map((pid) => stopOwnPid(pid, dir, 2000)));
    if (pids.scheduler) await stopOwnPid(pids.scheduler, dir);
    if (pids.controllerManager) await stopOwnPid(pids.controllerManager, dir);
    if (pids.apiserver) await stopOwnPid(pids.apiserver, dir);
    if (pids.etcd) await stopOwnPid(pids.etcd, dir);
    if (!options.keepDir && existsSync(this.info.dir)) rmSync(this.info.dir, { recursive: true, force: true });
  }

  /** Synchronous last resort (for a process 'exit' handler): SIGKILL every process, remove dir. */
  killNow(): void {
    for (const pid of this.alivePids()) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    rmSync(this.info.dir, { recursive: true, force: true });
  }

  /** PIDs of this cluster's processes that are still running. */
  alivePids(): number[] {
    const { pids } = this.info;
    return [pids.etcd, pids.apiserver, pids.controllerManager, pids.scheduler ?? 0, ...pids.relays]
      .filter((p) => p > 0 && isAlive(p) && commandLineMentions(p, this.info.dir));
  }
}

function startEtcd(binDir: string, dir: string, port: number, peerPort: number): number {
  const client = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return startDaemon({
    command: join(binDir, 'etcd'),
    args: [
      '--name=metallb-ts', `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=metallb-ts=${peer}`,
      // A test cluster's data is disposable: skipping fsync makes every write fast on a shared disk.
      '--unsafe-no-fsync', '--log-level=warn',
    ],
    logFile: join(dir, 'logs', 'etcd.log'),
  });
}

function startApiserver(binDir: string, dir: string, pki: Pki, port: number, etcdPort: number): number {
  return startDaemon({
    command: join(binDir, 'kube-apiserver'),
    args: [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1', `--secure-port=${port}`, '--advertise-address=127.0.0.1',
      // Nothing runs behind the "kubernetes" Service here, and a loopback endpoint would be invalid anyway.
      '--endpoint-reconciler-type=none',
      `--tls-cert-file=${pki.servingCert}`, `--tls-private-key-file=${pki.servingKey}`, `--client-ca-file=${pki.caCert}`,
      `--cert-dir=${join(dir, 'pki')}`,
      '--authorization-mode=Node,RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.saPub}`, `--service-account-signing-key-file=${pki.saKey}`,
      `--service-account-max-token-expiration=${TOKEN_LIFETIME}`,
      `--service-cluster-ip-range=${SERVICE_CIDRS.join(',')}`,
      '--profiling=false', '--v=1',
    ],
    logFile: join(dir, 'logs', 'kube-apiserver.log'),
  });
}

/** rootCaFile: real kubelets run Pods; they need Deployments, DaemonSets and the kube-root-ca.crt ConfigMap. */
function startControllerManager(binDir: string, dir: string, kubeconfig: string, rootCaFile?: string): number {
  // Namespaces delete, ownerReferences collect, Endpoints/EndpointSlices appear, "default" SAs exist.
  const controllers = ['namespace-controller', 'garbage-collector-controller', 'endpoints-controller', 'endpointslice-controller', 'serviceaccount-controller'];
  // node-lifecycle: the apiserver taints new Nodes not-ready:NoSchedule; this controller lifts it once they are Ready.
  if (rootCaFile) controllers.push('deployment-controller', 'replicaset-controller', 'daemonset-controller', 'root-ca-certificate-publisher-controller', 'node-lifecycle-controller');
  return startDaemon({
    command: join(binDir, 'kube-controller-manager'),
    args: [
      `--kubeconfig=${kubeconfig}`,
      `--controllers=${controllers.join(',')}`,
      ...(rootCaFile ? [`--root-ca-file=${rootCaFile}`] : []),
      '--leader-elect=false', '--secure-port=0', '--use-service-account-credentials=false',
      '--profiling=false', '--v=1',
    ],
    logFile: join(dir, 'logs', 'kube-controller-manager.log'),
  });
}

function startScheduler(binDir: string, dir: string, kubeconfig: string): number {
  return startDaemon({
    command: join(binDir, 'kube-scheduler'),
    args: [
      `--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
      '--leader-elect=false', '--secure-port=0', '--profiling=false', '--v=1',
    ],
    logFile: join(dir, 'logs', 'kube-scheduler.log'),
  });
}

function getReadyz(port: number, pki: Pki): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, path: '/readyz', method: 'GET', timeout: 2000,
      ca: readFileSync(pki.caCert), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey),
    }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('timeout', () => req.destroy(new Error('readyz timeout')));
    req.on('error', reject);
    req.end();
  });
}

function writeAdminKubeconfig(file: string, server: string, pki: Pki): void {
  writeFileSync(file, kubeconfigYaml(server, pki.caCert, 'metallb-ts-admin', {
    clientCertificate: pki.adminCert, clientKey: pki.adminKey,
  }), { mode: 0o600 });
}

function kubeconfigYaml(server: string, caFile: string, user: string,
  credentials: { token: string } | { clientCertificate: string; clientKey: string }): string {
  const auth = 'token' in credentials
    ? `    token: ${credentials.token}`
    : `    client-certificate: ${credentials.clientCertificate}\n    client-key: ${credentials.clientKey}`;
  return [
    'apiVersion: v1', 'kind: Config',
    'clusters:', '- name: metallb-ts', '  cluster:', `    server: ${server}`, `    certificate-authority: ${caFile}`,
    'users:', `- name: ${JSON.stringify(user)}`, '  user:', auth,
    'contexts:', '- name: metallb-ts', '  context:', '    cluster: metallb-ts', `    user: ${JSON.stringify(user)}`,
    'current-context: metallb-ts', '',
  ].join('\n');
}


