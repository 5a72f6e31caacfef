// Where the lab keeps its state, and what it records: every PID it started and every network namespace it
// made, written as soon as each exists, so `lab down` can always undo a partial `lab up`.
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../testing/cluster/binaries.js';

export interface LabState {
  version: 1;
  prefix: string;
  /** Network namespaces this lab created (full names). */
  namespaces: string[];
  /** Long-running processes by role ("bird", "controller", …), not counting the cluster's own. */
  pids: Record<string, number>;
  /** Cluster info file (cluster.json) once the cluster runs. */
  clusterInfo?: string;
  /** TCP ports on 127.0.0.1 the lab's processes listen on. */
  ports: number[];
  startedAt: string;
  /** How each node's speaker was started (by node name), so `lab restart-speaker` starts it the same way. */
  speakers?: Record<string, { kubeconfig: string; secretKey: string; logFile: string }>;
  /** `up --kubelet`: each real node's directory and --cgroup-root, so `lab down` removes its Pods and cgroups. */
  kubeletNodes?: Array<{ node: string; dir: string; cgroupRoot: string }>;
}

export interface LabPaths {
  dir: string;
  stateFile: string;
  clusterDir: string;
  logs: string;
  kubeconfig: string;
  kubectl: string;
}

/** The lab directory: METALLB_TS_LAB_DIR, or .lab/ in the repository. */
export function labPaths(): LabPaths {
  const dir = resolve(process.env.METALLB_TS_LAB_DIR ?? join(repoRoot(), '.lab'));
  return {
    dir,
    stateFile: join(dir, 'state.json'),
    clusterDir: join(dir, 'cluster'),
    logs: join(dir, 'logs'),
    kubeconfig: join(dir, 'kubeconfig'),
    kubectl: join(dir, 'bin', 'kubectl'),
  };
}

/** Network-namespace name prefix: METALLB_TS_LAB_PREFIX or "mlts-" (short: it ends up in socket paths). */
export function labPrefix(): string {
  const prefix = process.env.METALLB_TS_LAB_PREFIX ?? 'mlts-';
  if (!/^[a-z0-9-]{1,12}$/.test(prefix)) throw new Error(`METALLB_TS_LAB_PREFIX must be 1-12 of [a-z0-9-], got "${prefix}"`);
  return prefix;
}

export function readState(paths: LabPaths): LabState | undefined {
  if (!existsSync(paths.stateFile)) return undefined;
  return JSON.parse(readFileSync(paths.stateFile, 'utf8')) as LabState;
}

export function writeState(paths: LabPaths, state: LabState): void {
  mkdirSync(paths.dir, { recursive: true });
  const tmp = `${paths.stateFile}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, paths.stateFile);
}
