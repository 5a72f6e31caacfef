// The Helm chart charts/metallb-ts: `helm lint --strict` passes, `helm template` with default values renders
// exactly the objects of manifests/metallb.yaml (parsed and compared as objects, so comments and key order do not
// matter), and each value does what values.yaml says. Helm is the pinned build of scripts/build-helm.sh; a
// missing binary fails the test in CI with how to get it (requirePrerequisite), and is a visible skip elsewhere.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import yaml from 'js-yaml';
import { repoRoot } from '../../src/testing/cluster/binaries.js';
import { getTestCluster, requirePrerequisite } from '../../src/testing/cluster/test-cluster.js';

const root = repoRoot();
const chart = join(root, 'charts', 'metallb-ts');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}
type PodSpec = {
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  affinity?: unknown;
  imagePullSecrets?: unknown[];
  containers: Array<{ image: string; imagePullPolicy?: string; args: string[]; ports: Array<{ name: string; containerPort: number }>; livenessProbe?: unknown }>;
};
type Workload = K8sObject & { spec: { template: { metadata: { annotations?: Record<string, string> }; spec: PodSpec } } };

function helmPath(): string {
  const r = spawnSync('bash', [join(root, 'scripts', 'build-helm.sh'), '--path'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/** The pinned helm, or undefined after failing (CI) or skipping (elsewhere) the test with the reason. */
function requireHelm(t: TestContext): string | undefined {
  const helm = helmPath();
  const ok = existsSync(helm);
  return requirePrerequisite(t, ok, `helm is not built at ${helm}: run scripts/setup.sh (or scripts/build-helm.sh)`) ? helm : undefined;
}

function helm(bin: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(bin, args, { encoding: 'utf8', cwd: root, env: { ...process.env, HELM_CACHE_HOME: '/nonexistent', HELM_CONFIG_HOME: '/nonexistent' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `helm template` into metallb-system with --set flags; the objects it renders. */
function render(bin: string, sets: string[] = [], extra: string[] = []): K8sObject[] {
  const r = helm(bin, ['template', 'metallb', chart, '--namespace', 'metallb-system', ...sets.flatMap((s) => ['--set', s]), ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return objects(r.stdout);
}

function objects(text: string): K8sObject[] {
  return (yaml.loadAll(text) as Array<K8sObject | null | undefined>).filter((o): o is K8sObject => o !== null && o !== undefined);
}

function manifest(file: string): K8sObject[] {
  return objects(readFileSync(join(root, 'manifests', file), 'utf8'));
}

/** Objects keyed by kind/namespace/name, so two lists compare as sets of whole objects. */
function byKey(list: K8sObject[]): Map<string, K8sObject> {
  const map = new Map<string, K8sObject>();
  for (const o of list) {
    const key = `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    assert.ok(!map.has(key), `rendered twice: ${key}`);
    map.set(key, o);
  }
  return map;
}

function assertSameObjects(actual: K8sObject[], expected: K8sObject[]): void {
  const a = byKey(actual);
  const e = byKey(expected);
  assert.deepEqual([...a.keys()].sort(), [...e.keys()].sort());
  for (const [key, o] of e) assert.deepEqual(a.get(key), o, `${key} differs`);
}

function workload(list: K8sObject[], kind: 'DaemonSet' | 'Deployment'): Workload {
  const found = list.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0] as Workload;
}

test('helm lint --strict passes with the default values and with every optional part on', (t) => {
  const bin = requireHelm(t);
  if (!bin) return;
  for (const sets of [[], ['configInline.address-pools[0].name=default', 'configInline.address-pools[0].protocol=layer2',
    'configInline.address-pools[0].addresses[0]=192.0.2.240/28', 'prometheus.podMonitor.enabled=true', 'prometheus.rbacPrometheus=true']]) {
    const r = helm(bin, ['lint', '--strict', chart, '--namespace', 'metallb-system', ...sets.flatMap((s) => ['--set', s])]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    assert.doesNotMatch(r.stdout, /\[(WARNING|ERROR)\]/);
  }
});

test('helm template with default values renders exactly manifests/metallb.yaml', (t) => {
  const bin = requireHelm(t);
  if (!bin) return;
  assertSameObjects(render(bin), manifest('metallb.yaml'));
});

test('prometheus.podMonitor.enabled + rbacPrometheus + prometheusRule.enabled add exactly manifests/prometheus-operator.yaml', (t) => {
  const bin = requireHelm(t);
  if (!bin) return;
  assertSameObjects(render(bin, ['prometheus.podMonitor.enabled=true', 'prometheus.rbacPrometheus=true', 'prometheus.prometheusRule.enabled=true']),
    [...manifest('metallb.yaml'), ...manifest('prometheus-operator.yaml')]);
  const [monitor] = render(bin, ['prometheus.podMonitor.enabled=true', 'prometheus.podMonitor.interval=30s', 'prometheus.podMonitor.additionalLabels.release=kps'])
    .filter((o) => o.kind === 'PodMonitor') as Array<K8sObject & { spec: { podMetricsEndpoints: Array<{ interval?: string }> } }>;
  assert.equal(monitor?.spec.podMetricsEndpoints[0]?.interval, '30s');
  assert.equal(monitor?.metadata.labels?.['release'], 'kps');
});

test('image, log level, metrics port and annotations reach both workloads', (t) => {
  const bin = requireHelm(t);
  if (!bin) return;
  const list = render(bin, ['image.repository=registry.example.org/you/metallb-ts', 'image.tag=0.1.0-rc1', 'image.pullPolicy=Always',
    'speaker.logLevel=debug', 'prometheus.metricsPort=7473', 'controller.podAnnotations.team=net', 'imagePullSecrets[0].name=regcred']);
  for (const kind of ['DaemonSet', 'Deployment'] as const) {
    const w = workload(list, kind);
    const c = w.spec.template.spec.containers[0]!;
    assert.equal(c.image, 'registry.example.org/you/metallb-ts:0.1.0-rc1');
    assert.equal(c.imagePullPolicy, 'Always');
    assert.ok(c.args.includes('--port=7473'), c.args.join(' '));
    assert.ok(c.args.includes(kind === 'DaemonSet' ? '--log-level=debug' : '--log-level=info'), c.args.join(' '));
    assert.equal(c.ports.find((p) => p.name === 'monitoring')?.containerPort, 7473);
    assert.equal(w.spec.template.metadata.annotations?.['prometheus.io/port'], '7473');
    assert.deepEqual(w.spec.template.spec.imagePullSecrets, [{ name: 'regcred' }]);
  }
  assert.equal(workload(list, 'Deployment').spec.template.metadata.annotations?.['team'], 'net');
  const quiet = render(bin, ['prometheus.scrapeAnnotations=false', 'speaker.livenessProbe.enabled=false']);
  assert.equal(workload(quiet, 'DaemonSet').spec.template.metadata.annotations, undefined);
  assert.equal(workload(quiet, 'DaemonSet').spec.template.spec.containers[0]!.livenessProbe, undefined);
});

test('speaker tolerations and node selectors add to the defaults; tolerateMaster=false drops the control-plane ones', (t) => {
  const bin = requireHelm(t);
  if (!bin) return;
  const list = render(bin, ['speaker.tolerations[0].key=dedicated', 'speaker.tolerations[0].operator=Exists',
    'speaker.nodeSelector.metallb=yes', 'controller.nodeSelector.infra=yes']);
  const speaker = workload(list, 'DaemonSet').spec.template.spec;
  assert.deepEqual(speaker.tolerations, [
    { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'dedicated', operator: 'Exists' },
  ]);
  assert.deepEqual(speaker.nodeSelector, { 'kubernetes.io/os': 'linux', metallb: 'yes' });
  assert.deepEqual(workload(list, 'Deployment').spec.template.spec.nodeSelector, { 'kubernetes.io/os': 'linux', infra: 'yes' });
  assert.equal(workload(render(bin, ['speaker.tolerateMaster=false']), 'DaemonSet').spec.template.spec.tolerations, undefined);
});

test('speaker.bgpListen passes --bgp-listen and adds NET_BIND_SERVICE, only then', (t) => {
  const bin = requireHelm(t);
  if (!bin) return;
  type Caps = { securityContext?: { capabilities?: { add?: string[] } } };
  const speaker = (sets: string[]) => workload(render(bin, sets), 'DaemonSet').spec.template.spec.containers[0]! as Workload['spec']['template']['spec']['containers'][number] & Caps;
  const off = speaker([]);
  assert.deepEqual(off.securityContext?.capabilities?.add, ['NET_RAW']);
  assert.ok(!off.args.some((a) => a.startsWith('--bgp-listen')), off.args.join(' '));
  for (const listen of ['0.0.0.0:179', '[::]:179']) {
    const on = speaker([`speaker.bgpListen=${listen}`]);
    assert.deepEqual(on.args.filter((a) => a.startsWith('--bgp-listen')), [`--bgp-listen=${listen}`]);
    assert.deepEqual(on.securityContext?.capabilities?.add, ['NET_RAW', 'NET_BIND_SERVICE']);
  }
  // The controller is untouched.
  assert.ok(!workload(render(bin, ['speaker.bgpListen=0.0.0.0:179']), 'Deployment').spec.template.spec.containers[0]!.args.some((a) => a.startsWith('--bgp-listen')));
});

test('configInline renders the ConfigMap config; existingConfigMap is passed as --config; both at once is refused', (t) => {
  const bin = requireHelm(t);
  if (!bin) return;
  const pools = ['configInline.address-pools[0].name=default', 'configInline.address-pools[0].protocol=layer2',
    'configInline.address-pools[0].addresses[0]=192.0.2.240/28'];
  const inline = render(bin, pools).filter((o) => o.kind === 'ConfigMap' && o.metadata.name === 'config') as Array<K8sObject & { data: { config: string } }>;
  assert.equal(inline.length, 1);
  assert.equal(inline[0]!.metadata.namespace, 'metallb-system');
  assert.deepEqual(yaml.load(inline[0]!.data.config), { 'address-pools': [{ name: 'default', protocol: 'layer2', addresses: ['192.0.2.240/28'] }] });

  const existing = render(bin, ['existingConfigMap=my-metallb']);
  assert.ok(!existing.some((o) => o.kind === 'ConfigMap' && o.metadata.name === 'config'));
  for (const kind of ['DaemonSet', 'Deployment'] as const) {
    assert.ok(workload(existing, kind).spec.template.spec.containers[0]!.args.includes('--config=my-metallb'));
  }
  const both = helm(bin, ['template', 'metallb', chart, '--namespace', 'metallb-system', '--set', 'existingConfigMap=x', ...pools.flatMap((s) => ['--set', s])]);
  assert.notEqual(both.code, 0);
  assert.match(both.stderr, /configInline and existingConfigMap exclude each other/);
});

test('the config configInline renders is one `metallb-ts validate` accepts', (t) => {
  const bin = requireHelm(t);
  if (!bin) return;
  const list = render(bin, ['configInline.address-pools[0].name=default', 'configInline.address-pools[0].protocol=layer2',
    'configInline.address-pools[0].addresses[0]=192.0.2.240/28', 'configInline.address-pools[1].name=bgp',
    'configInline.address-pools[1].protocol=bgp', 'configInline.address-pools[1].addresses[0]=198.51.100.0/24',
    'configInline.peers[0].peer-address=203.0.113.1', 'configInline.peers[0].peer-asn=64501', 'configInline.peers[0].my-asn=64500']);
  const configMap = list.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'config');
  assert.ok(configMap);
  const r = spawnSync(process.execPath, [join(root, 'dist', 'src', 'cli', 'main.js'), 'validate', '-'], { input: yaml.dump(configMap), encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /valid \(2 address pools, 1 BGP peer\)/);
});

test('a rendering with every value set passes the API server\'s validation (kubectl apply --dry-run=server)', async (t) => {
  const bin = requireHelm(t);
  if (!bin) return;
  const cluster = await getTestCluster();
  await cluster.kubectl(['apply', '-f', join(root, 'manifests', 'namespace.yaml')]);
  const r = helm(bin, ['template', 'metallb', chart, '--namespace', 'metallb-system',
    '--set', 'image.repository=registry.example.org/you/metallb-ts', '--set', 'image.pullPolicy=IfNotPresent',
    '--set', 'imagePullSecrets[0].name=regcred', '--set', 'rbac.create=true', '--set', 'prometheus.rbacPrometheus=true',
    '--set', 'configInline.address-pools[0].name=default', '--set', 'configInline.address-pools[0].protocol=layer2',
    '--set', 'configInline.address-pools[0].addresses[0]=192.0.2.240/28',
    '--set', 'speaker.tolerations[0].key=dedicated', '--set', 'speaker.tolerations[0].operator=Exists',
    '--set', 'speaker.nodeSelector.metallb=yes', '--set', 'speaker.bgpListen=0.0.0.0:179', '--set', 'controller.tolerations[0].key=infra', '--set', 'controller.tolerations[0].operator=Exists',
    '--set', 'controller.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=infra',
    '--set', 'controller.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator=Exists',
    '--set', 'controller.serviceAccount.annotations.owner=net']);
  assert.equal(r.code, 0, r.stderr);
  const applied = await cluster.kubectlResult(['apply', '--dry-run=server', '-f', '-'], { input: r.stdout });
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal(applied.stderr, '', 'warnings from the API server');
  assert.equal(applied.stdout.trim().split('\n').length, objects(r.stdout).length);
});
