/**
 * Restarts etcd and kube-apiserver of a test cluster this process started, with the exact command lines and
 * log files they were started with (read from /proc), keeping the data directory: what a control-plane
 * upgrade or node reboot looks like to the controller. The cluster's recorded PIDs are updated so stop() still
 * stops the new processes. Only for private clusters (a shared cluster's owner would lose track of the PIDs).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestCluster } from '../../../src/testing/cluster/test-cluster.js';
import { startDaemon, stopPid } from '../../../src/testing/cluster/processes.js';
import { eventually } from '../../../src/testing/metallb/process.js';

function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s !== '');
}

export async function restartEtcdAndApiserver(cluster: TestCluster): Promise<void> {
  const { pids, dir } = cluster.info;
  const etcd = commandLine(pids.etcd);
  const apiserver = commandLine(pids.apiserver);
  await stopPid(pids.apiserver);
  await stopPid(pids.etcd);
  pids.etcd = startDaemon({ command: etcd[0] as string, args: etcd.slice(1), logFile: join(dir, 'logs', 'etcd.log') });
  pids.apiserver = startDaemon({ command: apiserver[0] as string, args: apiserver.slice(1), logFile: join(dir, 'logs', 'kube-apiserver.log') });
  await eventually(async () => (await cluster.kubectlResult(['get', '--raw', '/readyz'])).code === 0, 60_000, 'apiserver ready after restart', 200);
}
