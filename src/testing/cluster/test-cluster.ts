// The one cluster a test run shares.
//
//   import { getTestCluster, requirePrerequisite } from '../../src/testing/cluster/test-cluster.js';
//   test('…', async () => {
//     const cluster = await getTestCluster();
//     const ns = await cluster.createNamespace('my-test');          // isolation per test
//     await cluster.kubectl(['apply', '-n', ns, '-f', '-'], { input: yaml });
//     const kubeconfig = await cluster.kubeconfigFor('metallb-system', 'controller');
//   });
//
// scripts/run-tests.mjs starts the cluster once and exports METALLB_TS_TEST_CLUSTER=<dir>/cluster.json to
// every test process. Without it (a test file run by hand) the first call starts a private cluster that is
// stopped when the process is about to exit. A missing prerequisite is an error with a plain reason.
import type { TestContext } from 'node:test';
import { TestCluster, uniqueName } from './cluster.js';
import { ensureBinaries } from './binaries.js';

export { TestCluster, uniqueName };
export const TEST_CLUSTER_ENV = 'METALLB_TS_TEST_CLUSTER';

let shared: Promise<TestCluster> | undefined;

export function getTestCluster(): Promise<TestCluster> {
  shared ??= openCluster();
  return shared;
}

async function openCluster(): Promise<TestCluster> {
  const infoFile = process.env[TEST_CLUSTER_ENV];
  if (infoFile) return TestCluster.attach(infoFile);
  ensureBinaries();
  const cluster = await TestCluster.start();
  let stopping = false;
  process.on('beforeExit', () => {
    if (stopping) return;
    stopping = true;
    void cluster.stop();
  });
  // process.exit() or a crash skips beforeExit; TestCluster.start's own exit handler then kills it.
  return cluster;
}

/** True in CI, where a missing prerequisite must fail the run rather than skip. */
export function inCi(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1';
}

/**
 * For prerequisites the suite cannot provide itself (root for network namespaces): fails the test in CI
 * with the reason, skips it elsewhere. Returns true when the test may go on.
 */
export function requirePrerequisite(t: TestContext, ok: boolean, reason: string): boolean {
  if (ok) return true;
  if (inCi()) throw new Error(`missing prerequisite: ${reason}`);
  t.skip(reason);
  return false;
}
