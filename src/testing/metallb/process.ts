/**
 * Runs `metallb-ts controller` as a real child process against the test cluster, with the `controller`
 * ServiceAccount's token (exactly the RBAC of manifests/metallb.yaml), and observes it: JSON log lines, /metrics.
 * Used by the e2e tests and the bench (which must not import test/).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestCluster } from '../cluster/test-cluster.js';
import { repoRoot } from '../cluster/binaries.js';
import { freePort, StopWaiting, waitFor } from '../cluster/processes.js';

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

  /** Resolves once /readyz says the controller synced. */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    await eventually(async () => (await httpGet(this.port, '/readyz').catch(() => ({ status: 0 }))).status === 200, timeoutMs, `controller ready (${this.tail()})`);
  }

  async metrics(): Promise<string> {
    return (await httpGet(this.port, '/metrics')).body;
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

async function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}
