// The install manifests against a real kube-apiserver: they apply cleanly, re-apply as a no-op, and give the
// two ServiceAccounts exactly the permissions in rbac-allowlist.json. Plus static v0.11-compatibility checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import yaml from 'js-yaml';
import { getTestCluster, uniqueName, type TestCluster } from '../../src/testing/cluster/test-cluster.js';
import { repoRoot } from '../../src/testing/cluster/binaries.js';

const manifests = join(repoRoot(), 'manifests');
const FILES = ['namespace.yaml', 'metallb.yaml'].map((f) => join(manifests, f));

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

function load(file: string): K8sObject[] {
  return yaml.loadAll(readFileSync(join(manifests, file), 'utf8')).filter((d): d is K8sObject => d !== null && d !== undefined);
}

function applyArgs(): string[] {
  return ['apply', ...FILES.flatMap((f) => ['-f', f])];
}

/** kubectl's "kind.group/name" for an object, as printed by apply. */
function applyName(o: K8sObject): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  return `${o.kind.toLowerCase()}${group ? `.${group}` : ''}/${o.metadata.name}`;
}

test('apply creates every object with no error and no warning; a second apply is a no-op', async () => {
  const cluster = await getTestCluster();
  const objects = [...load('namespace.yaml'), ...load('metallb.yaml')];
  const first = await cluster.kubectlResult(applyArgs());
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stderr, '', 'kubectl printed warnings or errors');
  const printed = first.stdout.trim().split('\n').map((l) => l.split(' ')[0]);
  assert.deepEqual(printed.sort(), objects.map(applyName).sort());

  const versions = await resourceVersions(cluster);
  const second = await cluster.kubectlResult(applyArgs());
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stderr, '');
  for (const line of second.stdout.trim().split('\n')) assert.match(line, / unchanged$/);
  assert.deepEqual(await resourceVersions(cluster), versions, 'the second apply changed an object');
});

async function resourceVersions(cluster: TestCluster): Promise<Record<string, string>> {
  const out = await cluster.kubectl(['get', ...FILES.flatMap((f) => ['-f', f]), '-o', 'json']);
  const list = JSON.parse(out) as { items: Array<K8sObject & { metadata: { resourceVersion: string } }> };
  return Object.fromEntries(list.items.map((o) => [`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.metadata.resourceVersion]));
}

// ---- RBAC allowlist

interface Rule { scope: 'cluster' | 'metallb-system'; resource: string; resourceNames?: string[]; verbs: string[]; why: string }
const allowlist = JSON.parse(readFileSync(join(repoRoot(), 'test', 'manifests', 'rbac-allowlist.json'), 'utf8')) as Record<'controller' | 'speaker', Rule[]>;

/** Parses `kubectl auth can-i --list` (a fixed-width table) into "resource|names|nonResourceURL" -> verbs. */
export function parseCanIList(table: string): Map<string, Set<string>> {
  const [header, ...rows] = table.split('\n').filter((l) => l.trim() !== '');
  assert.ok(header);
  const colUrls = header.indexOf('Non-Resource URLs');
  const colNames = header.indexOf('Resource Names');
  const colVerbs = header.indexOf('Verbs');
  const rules = new Map<string, Set<string>>();
  for (const row of rows) {
    const resource = row.slice(0, colUrls).trim();
    const urls = row.slice(colUrls, colNames).trim();
    const names = row.slice(colNames, colVerbs).trim();
    const verbs = row.slice(colVerbs).trim().replace(/^\[|\]$/g, '').split(' ').filter(Boolean);
    const key = `${resource}|${names}|${urls}`;
    const set = rules.get(key) ?? new Set<string>();
    for (const v of verbs) set.add(v);
    rules.set(key, set);
  }
  return rules;
}

async function canIList(cluster: TestCluster, user: string, namespace: string): Promise<Map<string, Set<string>>> {
  return parseCanIList(await cluster.kubectl(['auth', 'can-i', '--list', `--as=${user}`, '-n', namespace]));
}

/** What `user` may do beyond `baseline` (an unbound ServiceAccount), as sorted "key: verbs" lines. */
function beyond(actual: Map<string, Set<string>>, baseline: Map<string, Set<string>>): string[] {
  const lines: string[] = [];
  for (const [key, verbs] of actual) {
    const extra = [...verbs].filter((v) => !baseline.get(key)?.has(v) && !baseline.get(key)?.has('*')).sort();
    if (extra.length) lines.push(`${key}: ${extra.join(' ')}`);
  }
  return lines.sort();
}

function expected(rules: Rule[], namespace: string): string[] {
  const merged = new Map<string, Set<string>>();
  for (const r of rules) {
    if (r.scope !== 'cluster' && r.scope !== namespace) continue;
    const key = `${r.resource}|${r.resourceNames ? `[${r.resourceNames.join(' ')}]` : '[]'}|[]`;
    const set = merged.get(key) ?? new Set<string>();
    for (const v of r.verbs) set.add(v);
    merged.set(key, set);
  }
  return [...merged].map(([k, v]) => `${k}: ${[...v].sort().join(' ')}`).sort();
}

for (const account of ['controller', 'speaker'] as const) {
  test(`RBAC: ${account} may do exactly what rbac-allowlist.json lists`, async () => {
    const cluster = await getTestCluster();
    await cluster.kubectl(applyArgs());
    for (const rule of allowlist[account]) assert.ok(rule.why.length > 10, `rule ${rule.resource} needs a why`);
    const user = `system:serviceaccount:metallb-system:${account}`;
    const nobody = `system:serviceaccount:metallb-system:${uniqueName('nobody')}`;
    for (const namespace of ['metallb-system', 'default']) {
      const actual = beyond(await canIList(cluster, user, namespace), await canIList(cluster, nobody, namespace));
      assert.deepEqual(actual, expected(allowlist[account], namespace), `${account} in namespace ${namespace}`);
    }
  });
}

test('a ServiceAccount token kubeconfig gets exactly the manifest RBAC (controller reads Services, not Secrets)', async () => {
  const cluster = await getTestCluster();
  await cluster.kubectl(applyArgs());
  const kubeconfig = await cluster.kubeconfigFor('metallb-system', 'controller');
  const whoami = await cluster.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfig });
  assert.equal(whoami, 'system:serviceaccount:metallb-system:controller');
  await cluster.kubectl(['get', 'services', '-A'], { kubeconfig });
  const denied = await cluster.kubectlResult(['get', 'secrets', '-n', 'kube-system'], { kubeconfig });
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /forbidden/);
});

// ---- static checks: v0.11 names, modernised bits

test('manifests keep v0.11 names and leave out the user-owned ConfigMap and Secret', () => {
  const objects = load('metallb.yaml');
  const names = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
  assert.deepEqual(names, [
    'ClusterRole/metallb-system:controller', 'ClusterRole/metallb-system:speaker',
    'ClusterRoleBinding/metallb-system:controller', 'ClusterRoleBinding/metallb-system:speaker',
    'ConfigMap/config-last-applied', 'DaemonSet/speaker', 'Deployment/controller',
    'Role/config-watcher', 'Role/controller', 'Role/pod-lister',
    'RoleBinding/config-watcher', 'RoleBinding/controller', 'RoleBinding/pod-lister',
    'ServiceAccount/controller', 'ServiceAccount/speaker',
    'ValidatingAdmissionPolicy/metallb-speaker-announce-only', 'ValidatingAdmissionPolicyBinding/metallb-speaker-announce-only',
  ]);
  for (const o of objects) assert.equal(o.metadata.labels?.app, 'metallb', `${o.kind}/${o.metadata.name} label app`);
  const ns = load('namespace.yaml')[0]!;
  assert.equal(ns.metadata.name, 'metallb-system');
  assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'privileged');
});

test('workloads: v0.11 args and env, probes, no CPU limits, speaker host network with NET_RAW only', () => {
  const objects = load('metallb.yaml');
  const pod = (kind: string) => {
    const o = objects.find((x) => x.kind === kind) as unknown as { spec: { template: { spec: { hostNetwork?: boolean; containers: Array<Record<string, any>> } } } };
    return o.spec.template.spec;
  };
  const speaker = pod('DaemonSet');
  const controller = pod('Deployment');
  assert.equal(speaker.hostNetwork, true);
  const envNames = (c: Record<string, any>) => (c.env as Array<{ name: string }>).map((e) => e.name);
  assert.deepEqual(envNames(speaker.containers[0]!), ['METALLB_NODE_NAME', 'METALLB_HOST', 'METALLB_ML_BIND_ADDR', 'METALLB_ML_LABELS', 'METALLB_ML_SECRET_KEY']);
  assert.deepEqual(envNames(controller.containers[0]!), ['METALLB_ML_SECRET_NAME', 'METALLB_DEPLOYMENT']);
  assert.deepEqual(speaker.containers[0]!.securityContext.capabilities, { drop: ['ALL'], add: ['NET_RAW'] });
  for (const spec of [speaker, controller]) {
    const c = spec.containers[0]!;
    assert.deepEqual(c.args.slice(1), ['--port=7472', '--config=config', '--log-level=info']);
    assert.equal(c.resources?.limits?.cpu, undefined, 'no CPU limit');
    assert.equal(c.livenessProbe.httpGet.port, 'monitoring');
    assert.equal(c.readinessProbe.httpGet.path, '/metrics');
  }
  const ports = (speaker.containers[0]!.ports as Array<{ name: string; containerPort: number; protocol?: string }>)
    .map((p) => `${p.name}:${p.containerPort}/${p.protocol ?? 'TCP'}`);
  assert.deepEqual(ports, ['monitoring:7472/TCP', 'memberlist-tcp:7946/TCP', 'memberlist-udp:7946/UDP']);
  const all = readFileSync(join(manifests, 'metallb.yaml'), 'utf8') + readFileSync(join(manifests, 'kustomization.yaml'), 'utf8');
  assert.doesNotMatch(all, /PodSecurityPolicy/);
  assert.doesNotMatch(all, /kind: Secret\b/);
  // The only ConfigMap is the controller-written fail-static store, shipped without data (re-applying keeps its data).
  const configMaps = objects.filter((o) => o.kind === 'ConfigMap');
  assert.deepEqual(configMaps.map((o) => [o.metadata.name, (o as { data?: unknown }).data]), [['config-last-applied', undefined]]);
});

test('kustomization.yaml builds exactly namespace.yaml + metallb.yaml, object for object', async () => {
  const cluster = await getTestCluster();
  const built = yaml.loadAll(await cluster.kubectl(['kustomize', manifests])) as K8sObject[];
  // kustomize does not know ValidatingAdmissionPolicy(Binding) are cluster-scoped and gives them the namespace;
  // the apiserver drops metadata.namespace of a cluster-scoped object, so it is dropped for them here.
  const clusterScopedUnknownToKustomize = new Set(['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
  for (const o of built) if (clusterScopedUnknownToKustomize.has(o.kind)) delete (o.metadata as { namespace?: string }).namespace;
  const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  const expectedObjects = [...load('namespace.yaml'), ...load('metallb.yaml')];
  assert.deepEqual(built.map(key).sort(), expectedObjects.map(key).sort());
  for (const o of expectedObjects) assert.deepEqual(built.find((b) => key(b) === key(o)), o, `${key(o)} differs`);
});

test('a kustomize overlay with `images:` (as the README shows) sets the image of both workloads', async () => {
  const cluster = await getTestCluster();
  const overlay = mkdtempSync(join(tmpdir(), 'mlts-overlay-'));
  try {
    // kustomize wants the base as a relative path.
    writeFileSync(join(overlay, 'kustomization.yaml'), [
      'resources:', `- ${relative(overlay, manifests)}`,
      'images:', '- name: metallb-ts', '  newName: registry.example.org/you/metallb-ts', '  newTag: "0.1.0"', ''].join('\n'));
    const built = yaml.loadAll(await cluster.kubectl(['kustomize', overlay])) as K8sObject[];
    const images = built.filter((o) => o.kind === 'DaemonSet' || o.kind === 'Deployment')
      .map((o) => (o as unknown as { spec: { template: { spec: { containers: Array<{ image: string }> } } } }).spec.template.spec.containers[0]!.image);
    assert.deepEqual(images, ['registry.example.org/you/metallb-ts:0.1.0', 'registry.example.org/you/metallb-ts:0.1.0']);
  } finally {
    rmSync(overlay, { recursive: true, force: true });
  }
});

test('prometheus-operator.yaml: PodMonitors for both components on port monitoring', () => {
  const objects = load('prometheus-operator.yaml');
  const monitors = objects.filter((o) => o.kind === 'PodMonitor') as unknown as Array<{ metadata: { name: string }; spec: { podMetricsEndpoints: Array<{ port: string }> } }>;
  assert.deepEqual(monitors.map((m) => m.metadata.name).sort(), ['metallb-controller', 'metallb-speaker']);
  for (const m of monitors) assert.equal(m.spec.podMetricsEndpoints[0]?.port, 'monitoring');
});
