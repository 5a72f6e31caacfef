// The shared test cluster itself: it is a real apiserver with RBAC, TokenRequest works, namespaces isolate,
// the controller manager runs its controllers, and the netns relay reaches it from a network namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { getTestCluster, requirePrerequisite, uniqueName } from '../../src/testing/cluster/test-cluster.js';
import { TestCluster } from '../../src/testing/cluster/cluster.js';
import { waitFor } from '../../src/testing/cluster/processes.js';

test('uniqueName gives distinct DNS-1123 names', () => {
  const names = new Set(Array.from({ length: 50 }, () => uniqueName('My_Test.Name')));
  assert.equal(names.size, 50);
  for (const n of names) assert.match(n, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  assert.ok(uniqueName('x'.repeat(100)).length <= 63);
});

test('the cluster is v1.35 with RBAC on; TokenRequest kubeconfigs authenticate as the ServiceAccount', async () => {
  const cluster = await getTestCluster();
  const version = JSON.parse(await cluster.kubectl(['version', '-o', 'json'])) as { serverVersion: { gitVersion: string } };
  assert.match(version.serverVersion.gitVersion, /^v1\.35\./);
  const ns = await cluster.createNamespace('harness');
  await cluster.kubectl(['create', 'serviceaccount', 'probe', '-n', ns]);
  const kubeconfig = await cluster.kubeconfigFor(ns, 'probe');
  assert.equal(await cluster.kubeconfigFor(ns, 'probe'), kubeconfig, 'cached per account');
  const who = await cluster.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfig });
  assert.equal(who, `system:serviceaccount:${ns}:probe`);
  const denied = await cluster.kubectlResult(['get', 'pods', '-n', ns], { kubeconfig });
  assert.match(denied.stderr, /forbidden/, 'an unbound ServiceAccount may not list pods');
});

test('the controller manager runs: EndpointSlices appear, namespaces delete, owners collect', async () => {
  const cluster = await getTestCluster();
  const ns = await cluster.createNamespace('kcm');
  await cluster.kubectl(['create', 'service', 'clusterip', 'web', '--tcp=80:8080', '-n', ns]);
  await waitFor('an EndpointSlice for web', 15_000, async () =>
    (await cluster.kubectl(['get', 'endpointslices', '-n', ns, '-l', 'kubernetes.io/service-name=web', '-o', 'name'])).trim() !== '');
  const owner = JSON.parse(await cluster.kubectl(['create', 'configmap', 'owner', '-n', ns, '-o', 'json'])) as { metadata: { uid: string } };
  const child = {
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: 'child', namespace: ns, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }] },
  };
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(child) });
  await cluster.kubectl(['delete', 'configmap', 'owner', '-n', ns]);
  await waitFor('the garbage collector to delete the child', 30_000, async () =>
    (await cluster.kubectlResult(['get', 'configmap', 'child', '-n', ns])).code !== 0, 250);
  await cluster.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=30s']);
});

test('exposeInNetns: kubectl inside a network namespace reaches the apiserver on 127.0.0.1', async (t) => {
  if (!requirePrerequisite(t, process.getuid?.() === 0, 'network namespaces need root')) return;
  // A private cluster: the relay is stopped with it, and the shared one stays as it was.
  const cluster = await TestCluster.start();
  const netns = `mltc-${process.pid}`;
  try {
    assert.equal(spawnSync('ip', ['netns', 'add', netns]).status, 0);
    spawnSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    const before = spawnSync('ip', ['netns', 'exec', netns, cluster.kubectlPath, '--kubeconfig', cluster.adminKubeconfig,
      'get', 'ns', 'default', '--request-timeout=2s'], { encoding: 'utf8' });
    assert.notEqual(before.status, 0, 'without the relay the namespace cannot reach the host loopback');
    await cluster.exposeInNetns([netns]);
    const after = spawnSync('ip', ['netns', 'exec', netns, cluster.kubectlPath, '--kubeconfig', cluster.adminKubeconfig,
      'get', 'ns', 'default', '-o', 'name'], { encoding: 'utf8' });
    assert.equal(after.status, 0, after.stderr);
    assert.equal(after.stdout.trim(), 'namespace/default');
  } finally {
    await cluster.stop();
    spawnSync('ip', ['netns', 'del', netns]);
  }
  assert.deepEqual(cluster.alivePids(), []);
});
