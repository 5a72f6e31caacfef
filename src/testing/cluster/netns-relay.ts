// Starts netns-relay-main.js as a detached process and waits until it listens in every namespace.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startDaemon, waitFor, isAlive, StopWaiting } from './processes.js';

export interface NetnsRelayOptions {
  /** The apiserver's port on the host's 127.0.0.1; the relay listens on the same port inside each namespace. */
  port: number;
  namespaces: string[];
  logFile: string;
  readyFile: string;
  /**
   * Listen on every address of each namespace instead of only 127.0.0.1 (default false): with real kubelets the
   * `kubernetes` Service's endpoints are the nodes' own addresses, so Pods reach the apiserver through a node.
   */
  allAddresses?: boolean;
}

export async function startNetnsRelay(options: NetnsRelayOptions): Promise<number> {
  rmSync(options.readyFile, { force: true });
  const main = fileURLToPath(new URL('./netns-relay-main.js', import.meta.url));
  const pid = startDaemon({
    command: process.execPath,
    args: [main, '--port', String(options.port), '--ready-file', options.readyFile,
      ...(options.allAddresses ? ['--all-addresses'] : []), ...options.namespaces],
    logFile: options.logFile,
  });
  await waitFor(`the netns relay (pid ${pid}) to listen in ${options.namespaces.join(', ')}`, 15_000, () => {
    if (existsSync(options.readyFile)) return true;
    if (!isAlive(pid)) throw new StopWaiting(`netns relay exited: ${tail(options.logFile)}`);
    return false;
  }, 50);
  return pid;
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '(no log)';
  }
}
