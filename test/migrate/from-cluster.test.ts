/**
 * End to end: `metallb-ts migrate --from-cluster` as a child process against the real test apiserver.
 *  - every ConfigMap in examples/ (as the README applies them), put into a fresh namespace, converts to
 *    exactly what file mode produces for the same manifest, and the server accepts the result;
 *  - with renamed pools, the Services whose address-pool annotation names an old pool are listed with
 *    the exact `kubectl annotate` commands, and running those commands fixes them.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { load, loadAll } from 'js-yaml';
import { getTestCluster, type TestCluster } from '../../src/testing/cluster/test-cluster.js';
import { migrate } from '../../src/core/migrate/migrate.js';
import { validateLegacy } from '../../src/core/migrate/validator.js';
import { goldenDir } from './golden-cases.js';
import { installCrds } from './crds.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const cliMain = join(root, 'dist/src/cli/main.js');
const run = promisify(execFile);

let cluster: TestCluster;
before(async () => {
  cluster = await getTestCluster();
  await installCrds(cluster);
});

async function migrateFromCluster(namespace: string): Promise<{ stdout: string; stderr: string }> {
  const args = [cliMain, 'migrate', '--from-cluster', '--kubeconfig', cluster.adminKubeconfig, '--namespace', namespace];
  return run(process.execPath, args, { encoding: 'utf8' });
}

/** A manifest's `metadata.namespace` replaced (or added) so the ConfigMap lands in a test namespace. */
function inNamespace(manifest: string, namespace: string): string {
  const doc = load(manifest) as { metadata: Record<string, unknown> };
  const meta = manifest.match(/^metadata:\n((?: {2}.*\n)+)/m);
  assert.ok(meta, 'manifest has a block-style metadata');
  const body = meta[1]?.replace(/^ {2}namespace: .*\n/m, '') ?? '';
  assert.equal(doc.metadata['name'], 'config');
  return manifest.replace(meta[0], `metadata:\n  namespace: ${namespace}\n${body}`);
}

function exampleConfigMaps(): string[] {
  const dir = join(root, 'examples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .filter((f) => {
      const docs = loadAll(readFileSync(join(dir, f), 'utf8')).filter(Boolean) as { kind?: string }[];
      return docs.length === 1 && docs[0]?.kind === 'ConfigMap';
    });
}

test('examples/ has ConfigMaps to migrate', () => {
  assert.ok(exampleConfigMaps().length > 0);
});

for (const example of exampleConfigMaps()) {
  test(`--from-cluster on examples/${example} equals file mode and the server accepts it`, async () => {
    const namespace = await cluster.createNamespace('migrate-example');
    const manifest = inNamespace(readFileSync(join(root, 'examples', example), 'utf8'), namespace);
    await cluster.kubectl(['apply', '-f', '-'], { input: manifest });
    const { stdout, stderr } = await migrateFromCluster(namespace);
    const fileMode = migrate({ text: manifest, onlyData: false, passwordSecrets: false }, validateLegacy);
    assert.ok(fileMode.ok);
    assert.equal(stdout, fileMode.yaml);
    assert.match(stderr, new RegExp(`object\\(s\\) in namespace ${namespace}\\n`));
    const dryRun = await cluster.kubectlResult(['apply', '--dry-run=server', '-f', '-'], { input: stdout });
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.equal(dryRun.stderr, '');
  });
}

const service = (namespace: string, name: string, pool: string | undefined) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${namespace}
${pool ? `  annotations:\n    metallb.universe.tf/address-pool: ${pool}\n` : ''}spec:
  type: LoadBalancer
  selector: {app: ${name}}
  ports:
  - port: 80
`;

test('--from-cluster lists Services annotated with renamed pools, with commands that fix them', async () => {
  const namespace = await cluster.createNamespace('migrate-renames');
  const appNamespace = await cluster.createNamespace('migrate-apps');
  const manifest = inNamespace(readFileSync(join(goldenDir, 'names.yaml'), 'utf8'), namespace);
  await cluster.kubectl(['apply', '-f', '-'], { input: manifest });
  const services = [
    service(appNamespace, 'web', '01-numbered-addresspool'),
    service(appNamespace, 'office', 'Capitalized_AddressPool'),
    service(appNamespace, 'kept', 'already-valid'),
    service(appNamespace, 'plain', undefined),
  ];
  await cluster.kubectl(['apply', '-f', '-'], { input: services.join('---\n') });

  const { stdout, stderr } = await migrateFromCluster(namespace);
  const golden = readFileSync(join(goldenDir, 'names.golden.yaml'), 'utf8');
  assert.equal(stdout, golden.replaceAll('namespace: metallb-system', `namespace: ${namespace}`));
  const fix = (svc: string, pool: string) =>
    `kubectl annotate service --namespace ${appNamespace} ${svc} metallb.universe.tf/address-pool=${pool} --overwrite`;
  const commands = stderr.split('\n').filter((l) => l.includes(appNamespace)).map((l) => l.trim());
  assert.deepEqual(commands, [fix('office', 'capitalized-addresspool'), fix('web', 'numbered-addresspool')]);

  for (const command of commands) {
    const [, ...args] = command.split(' ');
    await cluster.kubectl(args);
  }
  const annotation = await cluster.kubectl(['get', 'service', 'web', '-n', appNamespace, '-o', 'jsonpath={.metadata.annotations.metallb\\.universe\\.tf/address-pool}']);
  assert.equal(annotation, 'numbered-addresspool');
});

test('--from-cluster: a missing ConfigMap is exit 1 with a plain reason', async () => {
  const namespace = await cluster.createNamespace('migrate-missing');
  await assert.rejects(migrateFromCluster(namespace), (err: { code?: number; stderr?: string }) => {
    assert.equal(err.code, 1);
    assert.match(err.stderr ?? '', new RegExp(`ConfigMap ${namespace}/config not found`));
    return true;
  });
});

test('--from-cluster without permission to list Services still converts, and says what it could not check', async () => {
  const namespace = await cluster.createNamespace('migrate-rbac');
  const manifest = inNamespace(readFileSync(join(goldenDir, 'names.yaml'), 'utf8'), namespace);
  await cluster.kubectl(['apply', '-f', '-'], { input: manifest });
  const rbac = `apiVersion: v1
kind: ServiceAccount
metadata: {name: migrator, namespace: ${namespace}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: read-config, namespace: ${namespace}}
rules:
- {apiGroups: [""], resources: [configmaps], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-config, namespace: ${namespace}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: read-config}
subjects:
- {kind: ServiceAccount, name: migrator, namespace: ${namespace}}
`;
  await cluster.kubectl(['apply', '-f', '-'], { input: rbac });
  const kubeconfig = await cluster.kubeconfigFor(namespace, 'migrator');
  const args = [cliMain, 'migrate', '--from-cluster', '--kubeconfig', kubeconfig, '--namespace', namespace];
  const { stdout, stderr } = await run(process.execPath, args, { encoding: 'utf8' });
  const golden = readFileSync(join(goldenDir, 'names.golden.yaml'), 'utf8');
  assert.equal(stdout, golden.replaceAll('namespace: metallb-system', `namespace: ${namespace}`));
  assert.match(stderr, /warning: listing Services: 403: .*forbidden.*; check metallb.universe.tf\/address-pool annotations yourself/);
  assert.match(stderr, /Services could not be checked/);
});
