/**
 * Every golden output against a real kube-apiserver with MetalLB's v0.16.1 CRDs: accepted by
 * `kubectl apply --dry-run=server` with no error and no warning, then applied and read back equal to
 * what was written, modulo server-set fields and CRD defaults. Each golden gets its own namespace.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { getTestCluster, type TestCluster } from '../../src/testing/cluster/test-cluster.js';
import { goldenCases, goldenDir } from './golden-cases.js';
import { crdSpecDefaults, installCrds, withoutServerFields } from './crds.js';

let cluster: TestCluster;
before(async () => {
  cluster = await getTestCluster();
  await installCrds(cluster);
});

/** The golden text with its namespace replaced by a fresh one (goldens use metallb-system or lb-config). */
async function goldenInFreshNamespace(name: string): Promise<{ namespace: string; text: string }> {
  const namespace = await cluster.createNamespace(`migrate-${name}`);
  const golden = readFileSync(join(goldenDir, `${name}.golden.yaml`), 'utf8');
  return { namespace, text: golden.replace(/^(\s*namespace: )(metallb-system|lb-config)$/gm, `$1${namespace}`) };
}

for (const golden of goldenCases) {
  test(`golden ${golden.name}: server dry-run accepts it silently; apply and read back`, async () => {
    const { namespace, text } = await goldenInFreshNamespace(golden.name);
    const dryRun = await cluster.kubectlResult(['apply', '--dry-run=server', '-f', '-'], { input: text });
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.equal(dryRun.stderr, '', 'no warnings');
    const applied = await cluster.kubectlResult(['create', '-f', '-'], { input: text });
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(applied.stderr, '', 'no warnings');
    const written = (loadAll(text) as Record<string, unknown>[]).filter(Boolean);
    const defaults = crdSpecDefaults();
    for (const object of written) {
      const meta = object['metadata'] as { name: string };
      const resource = `${String(object['kind']).toLowerCase()}${object['apiVersion'] === 'v1' ? '' : `.${String(object['apiVersion']).split('/')[1]}.metallb.io`}`;
      const json = await cluster.kubectl(['get', resource, meta.name, '-n', namespace, '-o', 'json']);
      const readBack = withoutServerFields(JSON.parse(json) as Record<string, unknown>, object, defaults);
      assert.deepEqual(readBack, object, `${String(object['kind'])} ${meta.name}`);
    }
  });
}
