// Long-lived helper processes (etcd, kube-apiserver, the lab's daemons) are started detached with their
// output in a log file, so they outlive the command that started them (`lab up` returns at once) and can
// be stopped later by the PID written to disk. Nothing here ever kills by name.
import { spawn, execFile } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:net';

export interface DaemonSpec {
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts a detached process with stdin closed and stdout+stderr appended to logFile; returns its PID. */
export function startDaemon(spec: DaemonSpec): number {
  const out = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      detached: true,
      stdio: ['ignore', out, out],
      env: spec.env ?? process.env,
      cwd: spec.cwd,
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.command} (see ${spec.logFile})`);
    child.on('error', () => { /* reported through the readiness checks and the log file */ });
    child.unref();
    return child.pid;
  } finally {
    closeSync(out);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0); PID 1 on these machines reaps orphans lazily, so read its state.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after graceMs if the process is still there. Safe on dead or unknown PIDs. */
export async function stopPid(pid: number, graceMs = 5000): Promise<void> {
  if (!isAlive(pid)) return;
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(50);
  }
  try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  const hardDeadline = Date.now() + 2000;
  while (isAlive(pid) && Date.now() < hardDeadline) await sleep(20);
}

/**
 * Whether a running process's command line mentions `marker` (a state dir path its arguments contain).
 * A PID written to disk by a run that was killed half-way may since have been reused by an unrelated process
 * (pid_max is 32768 on the lab machines and wraps within the hour under test load): check before killing.
 */
export function commandLineMentions(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => arg.includes(marker));
  } catch {
    return false;
  }
}

/** Live processes (not this one) whose command line mentions `marker`: what a run started, found without pid files. */
export function pidsMentioning(marker: string): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number)
    .filter((pid) => pid !== process.pid && commandLineMentions(pid, marker) && isAlive(pid));
}

/** stopPid for a PID read back from disk: only if the process still is ours (its command line mentions marker). */
export async function stopOwnPid(pid: number, marker: string, graceMs = 5000): Promise<void> {
  if (isAlive(pid) && commandLineMentions(pid, marker)) await stopPid(pid, graceMs);
}

/** Thrown from a waitFor() check to give up at once (the process being waited for died). */
export class StopWaiting extends Error {}

/**
 * Polls check() every intervalMs until it resolves true; throws with `what` after timeoutMs. A check that
 * throws is retried (connection refused while starting), unless it throws StopWaiting.
 */
export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      if (err instanceof StopWaiting) throw new Error(`${what}: ${err.message}`);
      lastError = err;
    }
    await sleep(intervalMs);
  }
  const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
}

/** A TCP port that was free on 127.0.0.1 a moment ago (the kernel picked it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** True when nothing accepts connections on 127.0.0.1:port. */
export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export interface RunResult { stdout: string; stderr: string; code: number }

/** Runs a short command to completion; never throws on a non-zero exit (callers decide). */
export function run(command: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { env: options.env ?? process.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
          reject(new Error(`${command}: ${err.message}`));
          return;
        }
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ stdout: String(stdout), stderr: String(stderr), code: typeof code === 'number' ? code : 1 });
      });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Like run() but throws with the command's stderr when it fails. */
export async function runOk(command: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result.stdout;
}

/** Runs a command that daemonizes itself, with stdio in logFile; resolves when the direct child exits 0. */
export function runToLog(command: string, args: string[], logFile: string): Promise<void> {
  const out = openSync(logFile, 'a');
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', out, out] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code} (see ${logFile})`))));
  }).finally(() => closeSync(out));
}
