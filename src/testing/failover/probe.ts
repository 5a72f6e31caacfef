/**
 * Drives src/testing/failover/probe-child.ts in a network namespace for the failover e2e tests and the bench.
 * `startProbe` resolves once the child had its first answer (ready); `result` resolves at the first answer from
 * another node than `avoidNode` (or rejects at the child's deadline or if it dies).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ProbeResult {
  /** Wall-clock ms (sub-ms) of the first answer from another node. */
  readonly at: number;
  readonly node: string;
  readonly attempts: number;
  /** Attempts that failed (timeout, refused, reset) before that answer (with `holdMs`: over the whole run). */
  readonly failures: number;
  /** With `holdMs`: the node that answered last, and attempts still unanswered when the probe gave up waiting. */
  readonly lastNode?: string;
  readonly unsettled?: number;
  /** With `holdMs`: the first failed attempts (wall-clock ms of start and failure, error code). */
  readonly failed?: ReadonlyArray<{ readonly startedAt: number; readonly at: number; readonly error: string }>;
  /** With `holdMs`: when the first attempt answered by another node began (its SYN went there), wall-clock ms. */
  readonly switchStartedAt?: number;
}

export interface Probe {
  /** The node that answered first (before any fault). */
  readonly firstNode: string;
  readonly result: Promise<ProbeResult>;
  kill(): void;
}

/** Wall-clock ms with sub-ms resolution, comparable with the child's `at`. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * `holdMs` > 0: `result` resolves only after the client kept connecting for that long past the first answer from
 * another node (a make-before-break handoff, where the old node may answer meanwhile), its failures counted over
 * the whole run.
 */
export function startProbe(o: { netns: string; ip: string; port: number; avoidNode: string; intervalMs?: number; deadlineMs?: number; holdMs?: number }): Promise<Probe> {
  const child = fileURLToPath(new URL('./probe-child.js', import.meta.url));
  const proc = spawn('ip', ['netns', 'exec', o.netns, process.execPath, child, o.ip, String(o.port), o.avoidNode,
    String(o.intervalMs ?? 10), String(o.deadlineMs ?? 60_000), String(o.holdMs ?? 0)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buffered = '';
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += String(d); });
  let onReady: (node: string) => void = () => {};
  let onResult: (r: ProbeResult) => void = () => {};
  let onFail: (e: Error) => void = () => {};
  const ready = new Promise<string>((resolve, reject) => { onReady = resolve; onFail = reject; });
  const result = new Promise<ProbeResult>((resolve, reject) => {
    onResult = resolve;
    const prevFail = onFail;
    onFail = (e) => { prevFail(e); reject(e); };
  });
  result.catch(() => {}); // the caller may only await ready
  proc.stdout.on('data', (d) => {
    buffered += String(d);
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let msg: Record<string, unknown>;
      try { msg = JSON.parse(line) as Record<string, unknown>; } catch { continue; }
      if (msg['ready'] === true) onReady(String(msg['node']));
      else if (msg['ok'] === true) onResult(msg as unknown as ProbeResult);
      else if (msg['ok'] === false) onFail(new Error(`no answer from a node other than ${o.avoidNode} (${String(msg['attempts'])} attempts, ${String(msg['failures'])} failed)`));
    }
  });
  proc.on('exit', (code) => onFail(new Error(`probe exited with ${code}: ${stderr.slice(-500)}`)));
  return ready.then((firstNode) => ({ firstNode, result, kill: () => { proc.kill('SIGKILL'); } }));
}
