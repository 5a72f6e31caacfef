// `npm run lab -- config FILE` with a config MetalLB would refuse: it says why (the blocking Services) and what to
// do, exits 4 and changes nothing (neither the ConfigMap nor the router). Needs no root: the lab state points at the
// harness's apiserver and records no router, so a `lab config` that went on would fail reconfiguring BIRD instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTestCluster } from '../../src/testing/cluster/test-cluster.js';
import { installMetallb } from '../../src/testing/metallb/process.js';
import { adminClients } from '../../src/testing/metallb/kube.js';
import { refusalAdvice } from '../../src/lab/config-check.js';
import { repoRoot } from '../conformance/vectors.js';

// One address no Service of any suite holds: every Service that holds an address blocks this config.
const REFUSED = `apiVersion: v1
kind: ConfigMap
metadata:
  namespace: metallb-system
  name: config
data:
  config: |
    address-pools:
    - name: lab-config-refused
      protocol: layer2
      addresses:
      - 203.0.113.255/32
`;

test('lab config: a config MetalLB would refuse names its blockers and the way out, exits 4, changes nothing', { timeout: 300_000 }, async () => {
  const cluster = await getTestCluster();
  await installMetallb(cluster);
  const admin = await adminClients(cluster);
  const ns = await cluster.createNamespace('lab-cfg-refused');
  try {
    const svc = await admin.core.createNamespacedService({
      namespace: ns,
      body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'demo', namespace: ns }, spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80, protocol: 'TCP' }] } },
    });
    await admin.core.replaceNamespacedServiceStatus({ namespace: ns, name: 'demo', body: { ...svc, status: { loadBalancer: { ingress: [{ ip: '192.0.2.100' }] } } } });
    const dir = mkdtempSync(join(tmpdir(), 'metallb-ts-lab-config-'));
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ version: 1, prefix: 'xu-', namespaces: [], pids: {}, clusterInfo: cluster.infoFile, ports: [], startedAt: new Date().toISOString() }));
    const file = join(dir, 'refused.yaml');
    writeFileSync(file, REFUSED);

    const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'src', 'lab', 'main.js'), 'config', file], {
      encoding: 'utf8', timeout: 120_000, env: { ...process.env, METALLB_TS_LAB_DIR: dir },
    });
    assert.equal(r.status, 4, `exit ${r.status}; stdout ${r.stdout}; stderr ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^lab config: MetalLB would refuse ${file} and keep running its current config: new config not compatible with assigned IPs`));
    // Another suite's controller may give this Service another address meanwhile: any address is outside the pool.
    assert.match(r.stderr, new RegExp(`blocking Services \\(hold addresses outside every pool of .*\\): .*${ns}/demo`));
    assert.match(r.stderr, new RegExp(`npm run lab -- down && npm run lab -- up --config ${file}`));
    assert.match(r.stderr, new RegExp(`kubectl delete service -n ${ns} demo`));
    assert.doesNotMatch(r.stdout, /applied/);
    const after = await cluster.kubectlResult(['get', 'configmap', 'config', '-n', 'metallb-system', '-o', 'jsonpath={.data.config}']);
    // Other suites edit this ConfigMap too: what matters is that it does not hold this config.
    assert.doesNotMatch(after.stdout, /lab-config-refused/, 'the refused config was not applied');
  } finally {
    await cluster.kubectl(['delete', 'namespace', ns, '--wait=false']).catch(() => '');
  }
});

test('refusalAdvice: the reason, each blocker with its delete command, and a fresh lab on the file', () => {
  assert.equal(refusalAdvice('examples/lab-bgp.yaml', { kind: 'refuse', reason: 'R', blockers: ['default/demo', 'a/b'] }), [
    'lab config: MetalLB would refuse examples/lab-bgp.yaml and keep running its current config: R',
    'blocking Services (hold addresses outside every pool of examples/lab-bgp.yaml): default/demo, a/b',
    'nothing changed (ConfigMap and router as they were). To switch to this config, either:',
    '  npm run lab -- down && npm run lab -- up --config examples/lab-bgp.yaml    # a fresh lab on it',
    '  kubectl delete service -n default demo    # then run lab config again',
    '  kubectl delete service -n a b    # then run lab config again',
    '',
  ].join('\n'));
});
