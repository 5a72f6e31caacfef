/**
 * `metallb-ts validate` as a real child process: exit codes, FILE:LINE:COL lines that point into
 * the manifest file, --json, stdin, usage errors, and every example in examples/ passing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../conformance/vectors.js';

const MAIN = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function cli(args: string[], stdin?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { input: stdin ?? '', encoding: 'utf8', cwd: repoRoot });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'metallb-ts-validate-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const MANIFEST_WITH_ERRORS = `apiVersion: v1
kind: ConfigMap
metadata:
  namespace: metallb-system
  name: config
data:
  config: |
    peers:
    - my-asn: 64500
      peer-asn: "64501"
      peer-address: 10.0.0.1
      hold-tme: 90s
`;

test('validate: table of inputs, exit codes and output', () => {
  const cases = [
    { desc: 'valid example manifest', args: ['examples/bgp.yaml'], code: 0, stdout: /examples\/bgp\.yaml: valid \(1 address pool, 1 BGP peer\)/ },
    {
      desc: 'shape errors point at manifest lines, all reported',
      args: [file('bad.yaml', MANIFEST_WITH_ERRORS)],
      code: 1,
      stderr: /bad\.yaml:10:17: cannot unmarshal !!str `64501` into uint32\n.*bad\.yaml:12:7: field hold-tme not found in type config\.peer\n/,
    },
    {
      desc: 'semantic error with MetalLB information',
      args: [file('overlap.yaml', 'address-pools:\n- name: a\n  protocol: layer2\n  addresses: [10.0.0.0/8]\n- name: b\n  protocol: layer2\n  addresses: [10.1.0.0/16]\n')],
      code: 1,
      stderr: /overlap\.yaml:7:15: CIDR "10\.1\.0\.0\/16" in pool "b" overlaps with already defined CIDR "10\.0\.0\.0\/8"/,
    },
    { desc: 'ConfigMap without data.config is a valid empty config', args: [file('empty.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config}\n')], code: 0, stdout: /valid \(0 address pools, 0 BGP peers\)/ },
    { desc: 'stdin payload', args: ['-'], stdin: 'address-pools:\n- name: x\n  protocol: babel\n  addresses: [1.2.3.0/24]\n', code: 1, stderr: /^<stdin>:3:13: parsing address pool #1: unknown protocol "babel"\n$/ },
    { desc: 'no FILE is a usage error', args: [], code: 2, stderr: /missing FILE/ },
    { desc: 'unknown option is a usage error', args: ['--frob', 'x'], code: 2, stderr: /unknown option --frob/ },
    { desc: 'unreadable file', args: [join(dir, 'nope.yaml')], code: 2, stderr: /cannot read/ },
    { desc: '--help', args: ['--help'], code: 0, stdout: /usage: metallb-ts validate/ },
  ];
  for (const c of cases) {
    const got = cli(['validate', ...c.args], c.stdin);
    assert.equal(got.code, c.code, `${c.desc}: exit code (stderr: ${got.stderr})`);
    if (c.stdout) assert.match(got.stdout, c.stdout, c.desc);
    if (c.stderr) assert.match(got.stderr, c.stderr, c.desc);
  }
});

const NOT_CONFIG = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notconfig\n  namespace: foo\ndata:\n  config: |\n    address-pools: []\n';

test('validate: a ConfigMap other than the one MetalLB reads is named; --cluster stops with exit 2 before reading the cluster', () => {
  const path = file('notconfig.yaml', NOT_CONFIG);
  // No cluster is reachable at this kubeconfig: the verdict comes from the file alone.
  const nowhere = `--kubeconfig=${join(dir, 'no-such-kubeconfig')}`;
  const cluster = cli(['validate', '--cluster', nowhere, path]);
  assert.equal(cluster.code, 2, cluster.stderr);
  assert.match(cluster.stderr, /notconfig\.yaml is ConfigMap foo\/notconfig; MetalLB reads metallb-system\/config: applying it changes nothing/);
  assert.equal(cluster.stdout, '', 'no prediction printed');
  const named = cli(['validate', '--cluster', nowhere, '--namespace', 'foo', '--name', 'other', path]);
  assert.match(named.stderr, /is ConfigMap foo\/notconfig; MetalLB reads foo\/other:/);
  // Named as --namespace/--name say: on to the cluster (which cannot be read here).
  const matching = cli(['validate', '--cluster', nowhere, '--namespace', 'foo', '--name', 'notconfig', path]);
  assert.doesNotMatch(matching.stderr, /changes nothing/);
  const noNamespace = cli(['validate', '--cluster', nowhere, file('nons.yaml', NOT_CONFIG.replace('  namespace: foo\n', ''))]);
  assert.match(noNamespace.stderr, /is ConfigMap notconfig \(no namespace\); MetalLB reads metallb-system\/config/);
  // Offline: still valid (exit 0), with a warning.
  const offline = cli(['validate', path]);
  assert.equal(offline.code, 0, offline.stderr);
  assert.match(offline.stdout, /valid/);
  assert.match(offline.stderr, /warning: .*notconfig\.yaml is ConfigMap foo\/notconfig; MetalLB reads metallb-system\/config/);
  assert.equal(cli(['validate', 'examples/layer2.yaml']).stderr, '', 'no warning for metallb-system/config');
});

test('validate --json reports every error with position, kind and value', () => {
  const got = cli(['validate', '--json', file('bad.json.yaml', MANIFEST_WITH_ERRORS)]);
  assert.equal(got.code, 1);
  const report = JSON.parse(got.stdout) as { valid: boolean; errors: { line: number; column: number; kind: string; value: string }[] };
  assert.equal(report.valid, false);
  assert.deepEqual(
    report.errors.map((e) => [e.line, e.column, e.kind, e.value]),
    [[10, 17, 'type-mismatch', '64501'], [12, 7, 'unknown-key', 'hold-tme']],
  );
});

test('metallb-ts dispatcher: --help, unknown subcommand, no subcommand', () => {
  assert.equal(cli(['--help']).code, 0);
  assert.match(cli(['--help']).stdout, /validate/);
  const unknown = cli(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown subcommand "frobnicate"/);
  assert.equal(cli([]).code, 2);
});

test('every example in examples/ is a metallb-system/config ConfigMap that validates', () => {
  const examples = readdirSync(join(repoRoot, 'examples')).filter((f) => f.endsWith('.yaml'));
  for (const want of ['layer2.yaml', 'layer2-alt-range.yaml', 'bgp.yaml', 'complete.yaml', 'lab-layer2.yaml', 'lab-bgp.yaml', 'lab-bgp-mp.yaml', 'lab-ibgp.yaml']) {
    assert.ok(examples.includes(want), `examples/${want} exists`);
  }
  for (const name of examples) {
    const text = readFileSync(join(repoRoot, 'examples', name), 'utf8');
    assert.match(text, /^kind: ConfigMap$/m, name);
    assert.match(text, /^  name: config$/m, name);
    assert.match(text, /^  namespace: metallb-system$/m, name);
    const got = cli(['validate', `examples/${name}`]);
    assert.equal(got.code, 0, `${name}: ${got.stderr}`);
  }
});

test('manifests/config.schema.json is what validate --print-schema prints', () => {
  const got = cli(['validate', '--print-schema']);
  assert.equal(got.code, 0);
  const shipped = readFileSync(join(repoRoot, 'manifests', 'config.schema.json'), 'utf8');
  assert.deepEqual(JSON.parse(shipped), JSON.parse(got.stdout), 'regenerate: node dist/src/cli/main.js validate --print-schema > manifests/config.schema.json');
});
