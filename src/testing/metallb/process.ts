/**
 * Runs `metallb-ts controller` or `metallb-ts speaker` as a real child process against the test cluster, with the
 * component's ServiceAccount token (exactly the RBAC of manifests/metallb.yaml), and observes it: JSON log lines,
 * /metrics.
 * Used by the e2e tests and the bench (which must not import test/).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestCluster } from '../cluster/test-cluster.js';
import { repoRoot } from '../cluster/binaries.js';
import { freePort, run, StopWaiting, waitFor } from '../cluster/processes.js';

export const METALLB_NS = 'metallb-system';

/** Applies manifests/namespace.yaml and metallb.yaml (idempotent) and returns the controller's kubeconfig. */
export async function installMetallb(cluster: TestCluster): Promise<string> {
  for (const file of ['namespace.yaml', 'metallb.yaml']) {
    await cluster.kubectl(['apply', '-f', '-'], { input: readFileSync(join(repoRoot(), 'manifests', file), 'utf8') });
  }
  return cluster.kubeconfigFor(METALLB_NS, 'controller');
}

export interface LogLine { readonly [k: string]: unknown }

export class ControllerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  private partial = '';

  constructor(child: ChildProcess, port: number) {
    this.child = child;
    this.port = port;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.onStdout(chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  }

  get pid(): number { return this.child.pid ?? 0; }

  /** Lines that were not JSON (must stay empty: every stdout line is JSON). */
  readonly nonJson: string[] = [];

  private onStdout(chunk: string): void {
    const text = this.partial + chunk;
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      if (line === '') continue;
      try { this.lines.push(JSON.parse(line) as LogLine); } catch { this.nonJson.push(line); }
    }
  }

  /** Waits until a log line matches (checks lines already seen). */
  async waitForLog(match: (l: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> {
    let found: LogLine | undefined;
    await eventually(() => { found = this.lines.find(match); return found !== undefined; }, timeoutMs, `log line (${this.tail()})`);
    return found as LogLine;
  }

  /** Resolves once /readyz says the component synced. */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    await eventually(async () => (await this.get('/readyz').catch(() => ({ status: 0 }))).status === 200, timeoutMs, `ready (${this.tail()})`);
  }

  async metrics(): Promise<string> {
    return (await this.get('/metrics')).body;
  }

  /** GET on the monitoring port. */
  protected get(path: string): Promise<{ status: number; body: string }> {
    return httpGet(this.port, path);
  }

  /** One sample's value from /metrics, undefined when absent. */
  async metric(name: string, labels = ''): Promise<number | undefined> {
    const text = await this.metrics();
    const line = text.split('\n').find((l) => l.startsWith(labels ? `${name}{${labels}} ` : `${name} `));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  async stop(): Promise<void> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  tail(n = 5): string {
    return [...this.lines.slice(-n).map((l) => JSON.stringify(l)), ...this.stderr.slice(-2)].join(' | ');
  }
}

/** Starts the controller with the ServiceAccount kubeconfig; extra args are appended (e.g. --lb-class). */
export async function startController(kubeconfig: string, extraArgs: string[] = []): Promise<ControllerProcess> {
  const port = await freePort();
  const args = ['controller', `--kubeconfig=${kubeconfig}`, `--namespace=${METALLB_NS}`, `--port=${port}`,
    '--config=config', '--log-level=debug', '--ml-secret-name=memberlist', '--deployment=controller', ...extraArgs];
  // The real CLI entry, exactly as the Deployment runs it.
  const argv = [join(repoRoot(), 'dist', 'src', 'cli', 'main.js'), ...args];
  // e.g. METALLB_TS_CONTROLLER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the controller.
  const nodeArgs = (process.env['METALLB_TS_CONTROLLER_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...nodeArgs, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, METALLB_NAMESPACE: '' } });
  return new ControllerProcess(child, port);
}

/** A speaker process, possibly inside a network namespace (its monitoring port is then reached from there). */
export class SpeakerProcess extends ControllerProcess {
  readonly netns: string | undefined;
  readonly host: string;

  constructor(child: ChildProcess, port: number, host: string, netns: string | undefined) {
    super(child, port);
    this.host = host;
    this.netns = netns;
  }

  protected override async get(path: string): Promise<{ status: number; body: string }> {
    if (this.netns === undefined) return httpGet(this.port, path, this.host);
    const url = `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}${path}`;
    const r = await run('ip', ['netns', 'exec', this.netns, 'curl', '-s', '-m', '5', '-w', '\\n%{http_code}', url], { timeoutMs: 10_000 });
    const out = r.stdout;
    const cut = out.lastIndexOf('\n');
    const status = Number(out.slice(cut + 1));
    if (r.code !== 0 || !Number.isFinite(status) || status === 0) throw new Error(`GET ${url} in ${this.netns} failed: ${r.stderr}`);
    return { status, body: out.slice(0, cut) };
  }
}

export interface SpeakerStart {
  /** METALLB_NODE_NAME. */
  readonly nodeName: string;
  /** Run under `ip netns exec <netns>` (root), as on a node with host networking. */
  readonly netns?: string;
  /** METALLB_HOST, the /metrics bind address (default 127.0.0.1). */
  readonly host?: string;
  /** METALLB_ML_LABELS (default the DaemonSet's `app=metallb,component=speaker`). */
  readonly mlLabels?: string;
  /** Appended after the DaemonSet's args (e.g. --config=…, --disable-epslices). */
  readonly extraArgs?: readonly string[];
}

/**
 * Starts `metallb-ts speaker` as the DaemonSet does (`--port=7472 --config=config --log-level=info`, then the env
 * from the downward API), plus `--kubeconfig` (the speaker ServiceAccount's token) and `--namespace`, which a Pod
 * gets from its ServiceAccount mount. Outside a namespace the port is a free one instead of 7472.
 */
export async function startSpeaker(kubeconfig: string, o: SpeakerStart): Promise<SpeakerProcess> {
  const port = o.netns === undefined ? await freePort() : 7472;
  const host = o.host ?? '127.0.0.1';
  const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
  const args = ['speaker', `--port=${port}`, '--config=config', '--log-level=debug', `--kubeconfig=${kubeconfig}`, `--namespace=${METALLB_NS}`, ...(o.extraArgs ?? [])];
  const command = o.netns === undefined ? [process.execPath, cli, ...args] : ['ip', 'netns', 'exec', o.netns, process.execPath, cli, ...args];
  const env = {
    ...process.env, METALLB_NAMESPACE: '', METALLB_NODE_NAME: o.nodeName, METALLB_HOST: host, METALLB_ML_BIND_ADDR: host,
    METALLB_ML_LABELS: o.mlLabels ?? 'app=metallb,component=speaker', METALLB_ML_SECRET_KEY: 'not-used-by-the-tests',
  };
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
  return new SpeakerProcess(child, port, host, o.netns);
}

/**
 * Polls check until it returns true (the harness's waitFor). Unlike waitFor, a check that throws fails at
 * once: in these tests a throw is an assertion, not a server still starting.
 */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, intervalMs = 100): Promise<void> {
  const failFast = async (): Promise<boolean> => {
    try {
      return await check();
    } catch (err) {
      throw new StopWaiting((err as Error).message);
    }
  };
  await waitFor(what, timeoutMs, failFast, intervalMs);
}

async function httpGet(port: number, path: string, host = '127.0.0.1'): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${host}:${port}${path}`);
  return { status: res.status, body: await res.text() };
}
