/**
 * File mode never loads the Kubernetes client: the real CLI runs as a child process under a module
 * hook that fails any resolution of @kubernetes/client-node. The --from-cluster case proves the hook
 * bites (it must load the client and so fails with the hook's message).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goldenDir } from './golden-cases.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const cliMain = join(root, 'dist/src/cli/main.js');
const hook = `export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@kubernetes/client-node')) throw new Error('KUBERNETES CLIENT LOADED');
  return next(specifier, context);
}`;
const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
const importFlag = `--import=data:text/javascript,${encodeURIComponent(register)}`;

function cli(args: string[]) {
  return spawnSync(process.execPath, [importFlag, cliMain, 'migrate', ...args], { encoding: 'utf8' });
}

test('migrate FILE does not load @kubernetes/client-node', () => {
  const got = cli([join(goldenDir, 'pools.yaml')]);
  assert.equal(got.status, 0, got.stderr);
  assert.match(got.stdout, /kind: IPAddressPool/);
});

test('the hook is effective: --from-cluster needs the client and trips it', () => {
  const got = cli(['--from-cluster', '--kubeconfig', join(goldenDir, 'pools.yaml')]);
  assert.notEqual(got.status, 0);
  assert.match(got.stderr, /KUBERNETES CLIENT LOADED/);
});
