/**
 * `status` and `validate --cluster` with no Kubernetes configuration anywhere (no --kubeconfig, no KUBECONFIG, no
 * ~/.kube/config, not in a Pod) say what to do, and both exit 2; client-node alone would try http://localhost:8080
 * and report an unrelated TLS rule. Also the pure choice of where the configuration comes from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfigSource, NO_KUBECONFIG } from '../../src/adapters/k8s/client.js';
import { repoRoot } from '../conformance/vectors.js';

const MAIN = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

test('status and validate --cluster without any kubeconfig: "no kubeconfig: …", exit 2', () => {
  const home = mkdtempSync(join(tmpdir(), 'metallb-ts-nohome-'));
  const config = join(home, 'config.yaml');
  writeFileSync(config, 'address-pools: []\n');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home };
  for (const args of [['status'], ['status', '--json'], ['validate', '--cluster', config]]) {
    const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd: repoRoot, env, timeout: 60_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: stderr ${r.stderr}`);
    assert.equal(r.stderr, `metallb-ts ${args[0]}: ${NO_KUBECONFIG}\n`, args.join(' '));
  }
});

test('defaultConfigSource: in-cluster, KUBECONFIG, ~/.kube/config, the token alone, or none', () => {
  const files = (...paths: string[]) => (p: string) => paths.includes(p);
  assert.equal(defaultConfigSource({ KUBERNETES_SERVICE_HOST: '10.0.0.1', HOME: '/h' }, files(TOKEN)), 'in-cluster');
  assert.equal(defaultConfigSource({ KUBERNETES_SERVICE_HOST: '10.0.0.1', HOME: '/h' }, files()), 'none', 'service host without a token');
  assert.equal(defaultConfigSource({ KUBECONFIG: '/k', HOME: '/h' }, files()), 'default', 'KUBECONFIG is loaded (a missing file is its own error)');
  assert.equal(defaultConfigSource({ KUBECONFIG: '', HOME: '/h' }, files()), 'none', 'empty KUBECONFIG');
  assert.equal(defaultConfigSource({ HOME: '/h' }, files('/h/.kube/config')), 'default');
  assert.equal(defaultConfigSource({}, files(TOKEN)), 'default', "client-node's own in-cluster fallback");
  assert.equal(defaultConfigSource({ HOME: '/h' }, files()), 'none');
});
