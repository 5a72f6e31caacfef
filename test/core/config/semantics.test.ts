/** MetalLB rules beyond the vectors: durations, selectors, error positions, dump round trips, purity. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { compileNodeSelector } from '../../../src/core/config/selector.js';
import { parseConfig, parseConfigDocument } from '../../../src/core/config/parse.js';
import { dumpConfig } from '../../../src/core/config/dump.js';
import { repoRoot } from '../../conformance/vectors.js';
import { vectorForm } from './vector-form.js';

test('node selectors: Kubernetes matching, String() form and validation', () => {
  const compiled = compileNodeSelector({
    'match-labels': { zone: 'a' },
    'match-expressions': [
      { key: 'rack', operator: 'NotIn', values: ['r2', 'r1', 'r1'] },
      { key: 'gpu', operator: 'DoesNotExist' },
      { key: 'arch', operator: 'Exists' },
    ],
  });
  assert.ok(compiled.ok);
  assert.equal(compiled.selector.text, 'arch,!gpu,rack notin (r1,r2),zone=a');
  const cases: { labels: Record<string, string>; want: boolean }[] = [
    { labels: { zone: 'a', arch: 'x' }, want: true },
    { labels: { zone: 'a', arch: 'x', rack: 'r3' }, want: true },
    { labels: { zone: 'a', arch: 'x', rack: 'r1' }, want: false },
    { labels: { zone: 'a', arch: 'x', gpu: '' }, want: false },
    { labels: { zone: 'b', arch: 'x' }, want: false },
    { labels: { zone: 'a' }, want: false },
  ];
  for (const c of cases) assert.equal(compiled.selector.matches(c.labels), c.want, JSON.stringify(c.labels));
  const invalid: { desc: string; raw: Parameters<typeof compileNodeSelector>[0]; value: string }[] = [
    { desc: 'bad operator', raw: { 'match-expressions': [{ key: 'a', operator: 'Surrounds', values: ['x'] }] }, value: 'Surrounds' },
    { desc: 'In without values', raw: { 'match-expressions': [{ key: 'a', operator: 'In' }] }, value: 'a' },
    { desc: 'Exists with values', raw: { 'match-expressions': [{ key: 'a', operator: 'Exists', values: ['x'] }] }, value: 'a' },
    { desc: 'bad key', raw: { 'match-labels': { 'bad key': 'x' } }, value: 'bad key' },
    { desc: 'bad value', raw: { 'match-labels': { k: 'bad value!' } }, value: 'bad value!' },
  ];
  for (const c of invalid) {
    const got = compileNodeSelector(c.raw);
    assert.equal(got.ok ? undefined : got.value, c.value, c.desc);
  }
});

test('semantic errors point at the offending node, or at the item missing it', () => {
  const cases: { desc: string; input: string; want: [string, string] }[] = [
    { desc: 'missing peer-address → the peer', input: 'peers:\n- my-asn: 1\n  peer-asn: 2\n', want: ['invalid-peer-address', '2:3'] },
    { desc: 'bad hold-time → its value', input: 'peers:\n- my-asn: 1\n  peer-asn: 2\n  peer-address: 1.2.3.4\n  hold-time: 2s\n', want: ['invalid-hold-time', '5:14'] },
    { desc: 'community alias', input: 'bgp-communities:\n  a: 1:2:3\n', want: ['invalid-community-alias', '2:6'] },
    { desc: 'ad community: the first bad one (x)', input: 'address-pools:\n- name: p\n  protocol: bgp\n  addresses: [10.0.0.0/24]\n  bgp-advertisements:\n  - communities: [x, "1:99999"]\n', want: ['invalid-community', '6:19'] },
    { desc: 'duplicate peer → second peer', input: 'peers:\n- {my-asn: 1, peer-asn: 2, peer-address: 1.2.3.4}\n- {my-asn: 1, peer-asn: 2, peer-address: 1.2.3.4}\n', want: ['duplicate-peer', '3:3'] },
    { desc: 'aggregation → its key value', input: 'address-pools:\n- name: p\n  protocol: bgp\n  addresses: [10.0.0.0/24]\n  bgp-advertisements:\n  - aggregation-length: 20\n', want: ['invalid-aggregation-length', '6:25'] },
  ];
  for (const c of cases) {
    const got = parseConfig(c.input);
    assert.ok(!got.ok, c.desc);
    const e = got.errors[0]!;
    assert.deepEqual([e.kind, `${e.position?.line}:${e.position?.column}`], c.want, `${c.desc}: ${e.message}`);
  }
});

test('dumpConfig round-trips every example', () => {
  for (const name of readdirSync(join(repoRoot, 'examples')).filter((f) => f.endsWith('.yaml'))) {
    const first = parseConfigDocument(readFileSync(join(repoRoot, 'examples', name), 'utf8'));
    assert.ok(first.ok, name);
    const again = parseConfig(dumpConfig(first.config));
    assert.ok(again.ok, `${name}: ${JSON.stringify(!again.ok && again.errors)}`);
    assert.deepEqual(vectorForm(again.config), vectorForm(first.config), name);
    assert.deepEqual([...again.config.communityAliases], [...first.config.communityAliases], name);
  }
});

/**
 * Modules reachable from a compiled module: relative files by path, packages as `pkg:<name>`.
 * Static imports only unless `dynamic`: a dynamic `import()` runs only on the path that reaches it.
 */
function importGraph(entry: string, dynamic = true): Set<string> {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    const pattern = dynamic ? /(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g : /(?:from\s+|^import\s+)['"]([^'"]+)['"]/gm;
    for (const m of text.matchAll(pattern)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec));
      else seen.add(`pkg:${spec}`);
    }
  }
  return seen;
}

test('validate without --cluster and the config core never load the Kubernetes client, and the core does no I/O', () => {
  const dist = join(repoRoot, 'dist', 'src');
  const validate = importGraph(join(dist, 'cli', 'validate.js'), false);
  assert.ok(!validate.has('pkg:@kubernetes/client-node'), 'validate statically imports @kubernetes/client-node');
  // Only --cluster reaches the client, through its dynamic import of validate-cluster.js.
  assert.ok(importGraph(join(dist, 'cli', 'validate.js')).has('pkg:@kubernetes/client-node'), 'the pattern no longer sees the --cluster path');
  const core = [...importGraph(join(dist, 'core', 'config', 'parse.js'))];
  const packages = core.filter((f) => f.startsWith('pkg:')).sort();
  assert.deepEqual(packages, ['pkg:js-yaml'], 'the ajv compiler is not loaded at run time (the validator is pre-generated)');
  assert.ok(core.filter((f) => !f.startsWith('pkg:')).every((f) => f.includes(`${join('dist', 'src', 'core')}`)), 'core imports only core');
});
