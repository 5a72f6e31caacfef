// Where the cluster binaries live. test/cluster/build-binaries.sh holds the only version pin; we ask it.
import { existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

export const BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl'] as const;
/** What real lab nodes add (`build-binaries.sh --kubelet`): same Kubernetes pin. */
export const KUBELET_BINARIES = ['kube-scheduler', 'kubelet', 'kube-proxy'] as const;

/** The repository root, found from this compiled file (dist/src/testing/cluster/) or its source. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'test', 'cluster', 'build-binaries.sh'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error('cannot find the metallb-ts repository root (with test/cluster/build-binaries.sh)');
}

function buildScript(): string {
  return join(repoRoot(), 'test', 'cluster', 'build-binaries.sh');
}

/** The cache directory for the pinned version, whether or not it is complete. */
export function binaryDir(): string {
  const result = spawnSync('bash', [buildScript(), '--dir'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`build-binaries.sh --dir failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** kubelet: also the binaries real lab nodes need. */
export function missingBinaries(dir = binaryDir(), kubelet = false): string[] {
  return [...BINARIES, ...(kubelet ? KUBELET_BINARIES : [])].filter((b) => !existsSync(join(dir, b)));
}

/**
 * Makes sure the binaries exist: instant when cached, otherwise a cold build (tens of minutes) that prints
 * its progress. Throws with the script's plain reason (no Go, no disk space) when it cannot.
 */
export function ensureBinaries(kubelet = false): string {
  const dir = binaryDir();
  if (missingBinaries(dir, kubelet).length === 0) return dir;
  const result = spawnSync('bash', [buildScript(), ...(kubelet ? ['--kubelet'] : [])], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`cluster binaries are missing and the build failed (exit ${result.status}); see the message above`);
  const missing = missingBinaries(dir, kubelet);
  if (missing.length > 0) throw new Error(`cluster binaries still missing after the build: ${missing.join(', ')}`);
  return dir;
}
