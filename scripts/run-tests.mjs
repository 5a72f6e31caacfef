#!/usr/bin/env node
// npm test: make sure the cluster binaries exist (cached = instant), start ONE Kubernetes control plane for
// the whole run, hand its connection info to every test file through METALLB_TS_TEST_CLUSTER, run
// `node --test` over dist/test/**/*.test.js, stop the cluster, and exit with the tests' exit code.
// In CI (CI=true) a missing prerequisite fails the run with a plain reason; elsewhere the tests that need
// the cluster fail one by one with the same reason while the others still run.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ci = process.env.CI === 'true' || process.env.CI === '1';
const say = (msg) => process.stderr.write(`run-tests: ${msg}\n`);

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = testFiles(join(root, 'dist', 'test'));
const filter = process.argv.slice(2);
const selected = filter.length ? files.filter((f) => filter.some((s) => f.includes(s))) : files;

let cluster;
const build = spawnSync('bash', [join(root, 'test', 'cluster', 'build-binaries.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
if (build.status !== 0) {
  const reason = 'the Kubernetes test binaries are not available (see the message above)';
  if (ci) { say(`FAILED: ${reason}`); process.exit(1); }
  say(`WARNING: ${reason}; tests that need the cluster will fail`);
} else {
  const { TestCluster } = await import(join(root, 'dist', 'src', 'testing', 'cluster', 'cluster.js'));
  const t0 = Date.now();
  try {
    cluster = await TestCluster.start();
  } catch (err) {
    say(`FAILED to start the test cluster: ${err.message}`);
    process.exit(1);
  }
  say(`cluster ready in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${cluster.server} (admin kubeconfig ${cluster.adminKubeconfig})`);
}

const env = { ...process.env };
if (cluster) env.METALLB_TS_TEST_CLUSTER = cluster.infoFile;
const child = spawn(process.execPath, ['--test', ...selected], { stdio: 'inherit', env });
let stopping = false;
const stopAndExit = async (code) => {
  if (stopping) return;
  stopping = true;
  if (cluster) await cluster.stop();
  cluster = undefined;
  process.exit(code);
};
// Interrupted: pass the signal on, and if the tests do not wind down within 10 s, stop the cluster anyway.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    child.kill(signal);
    setTimeout(() => { say(`tests still running 10 s after ${signal}; stopping the cluster`); void stopAndExit(130); }, 10_000).unref();
  });
}
// Last resort if this process dies some other way: kill the cluster's processes synchronously.
process.on('exit', () => { if (cluster) cluster.killNow(); });
child.on('exit', (code, signal) => { void stopAndExit(code ?? (signal ? 1 : 0)); });
