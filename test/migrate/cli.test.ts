/** `metallb-ts migrate` in file mode, through run() with in-memory streams. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type MigrateIo } from '../../src/cli/migrate.js';
import { goldenDir } from './golden-cases.js';

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function migrateCli(argv: string[], stdin = ''): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const io: MigrateIo = {
    readStdin: async () => stdin,
    stdout: (t) => { stdout += t; },
    stderr: (t) => { stderr += t; },
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

const manifest = (config: string, namespace = 'lb-test') =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\n  namespace: ${namespace}\ndata:\n  config: |\n${config
    .split('\n')
    .map((l) => (l ? `    ${l}` : l))
    .join('\n')}`;

const dir = mkdtempSync(join(tmpdir(), 'migrate-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

test('a ConfigMap file converts to the golden output on stdout, warnings on stderr', async () => {
  const got = await migrateCli([join(goldenDir, 'names.yaml')]);
  assert.equal(got.code, 0);
  assert.equal(got.stdout, readFileSync(join(goldenDir, 'names.golden.yaml'), 'utf8'));
  assert.match(got.stderr, /names\.yaml:21:13: warning: pool "01-numbered-addresspool" is not a valid Kubernetes name: IPAddressPool "numbered-addresspool"/);
  assert.match(got.stderr, /renamed pools \(legacy name -> IPAddressPool\):\n  01-numbered-addresspool -> numbered-addresspool\n/);
  assert.match(got.stderr, /--from-cluster lists them/);
});

test('stdin with --only-data, -o FILE, --password-secrets', async () => {
  const out = join(dir, 'out.yaml');
  const payload = readFileSync(join(goldenDir, 'lenient.yaml'), 'utf8');
  const got = await migrateCli(['-', '--only-data', '-o', out], payload);
  assert.equal(got.code, 0);
  assert.equal(got.stdout, '');
  assert.equal(readFileSync(out, 'utf8'), readFileSync(join(goldenDir, 'lenient.golden.yaml'), 'utf8'));
  assert.match(got.stderr, /<stdin>:8:3: warning: field bfdProfile not found in type config.peer \(ignored\): not carried over/);
  assert.match(got.stderr, /<stdin>:11:13: warning: pool "office" has unknown protocol "l2"/);
  assert.match(got.stderr, /6 object\(s\) in namespace metallb-system written to /);
  const secrets = await migrateCli(['--password-secrets', join(goldenDir, 'password-secrets.yaml')]);
  assert.equal(secrets.stdout, readFileSync(join(goldenDir, 'password-secrets.golden.yaml'), 'utf8'));
});

const errorCases: { desc: string; config: string; want: RegExp }[] = [
  {
    desc: 'a name collision after renaming',
    config: 'address-pools:\n- name: my-pool\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n- name: My_Pool\n  protocol: layer2\n  addresses: [10.0.1.0/24]\n',
    want: /in\.yaml:12:13: error: pools "my-pool" and "My_Pool" would both become IPAddressPool "my-pool"\n  hint: rename one of them/,
  },
  {
    desc: 'a name without a letter',
    config: 'address-pools:\n- name: "0042"\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n',
    want: /in\.yaml:9:13: error: failed to make IPAddressPool K8S compatible: pool "0042" has no letter a-z/,
  },
  {
    desc: 'a name Kubernetes still rejects after conversion',
    config: 'bfd-profiles:\n- name: slow_\n',
    want: /in\.yaml:9:13: error: failed to make BFDProfile K8S compatible: BFD profile "slow_" would become "slow-", which Kubernetes rejects/,
  },
  {
    desc: 'a peer port the BGPPeer CRD rejects',
    config: 'peers:\n- my-asn: 64512\n  peer-asn: 64512\n  peer-address: 10.0.0.1\n  peer-port: 17900\n',
    want: /in\.yaml:12:18: error: peer #1: peer-port 17900 is above 16384, the BGPPeer CRD's maximum/,
  },
  {
    desc: 'a value of the wrong type (decoding error, both modes)',
    config: 'peers:\n- my-asn: lots\n  peer-asn: 64512\n  peer-address: 10.0.0.1\n',
    want: /in\.yaml:9:15: error: cannot unmarshal !!str `lots` into uint32/,
  },
  {
    desc: 'broken YAML',
    config: 'peers: [\n',
    want: /in\.yaml:\d+:\d+: error: /,
  },
  {
    desc: 'a ConfigMap without data.config',
    config: '',
    want: /error: bad ConfigMap: no data \(data.config is empty\): nothing to migrate/,
  },
];

for (const { desc, config, want } of errorCases) {
  test(`error, exit 1, nothing written: ${desc}`, async () => {
    const input = file('in.yaml', manifest(config));
    const out = join(dir, `never-${desc.length}.yaml`);
    const got = await migrateCli([input, '-o', out]);
    assert.equal(got.code, 1);
    assert.equal(got.stdout, '');
    assert.equal(existsSync(out), false);
    assert.match(got.stderr, want);
    assert.match(got.stderr, /nothing written\n$/);
  });
}

test('not a ConfigMap without --only-data', async () => {
  const got = await migrateCli([join(goldenDir, 'lenient.yaml')]);
  assert.equal(got.code, 1);
  assert.match(got.stderr, /not a ConfigMap manifest/);
});

const usageCases: { argv: string[]; want: RegExp }[] = [
  { argv: ['--bogus'], want: /unknown flag: --bogus/ },
  { argv: ['a.yaml', 'b.yaml'], want: /one input only/ },
  { argv: ['--from-cluster', 'a.yaml'], want: /--from-cluster reads the cluster/ },
  { argv: ['--namespace', 'x', 'a.yaml'], want: /need --from-cluster/ },
  { argv: ['-o'], want: /flag --o needs a value/ },
];

for (const { argv, want } of usageCases) {
  test(`usage error, exit 2: ${argv.join(' ')}`, async () => {
    const got = await migrateCli(argv);
    assert.equal(got.code, 2);
    assert.match(got.stderr, want);
    assert.match(got.stderr, /usage: metallb-ts migrate/);
  });
}

test('--help prints the usage on stdout', async () => {
  const got = await migrateCli(['--help']);
  assert.equal(got.code, 0);
  assert.match(got.stdout, /^usage: metallb-ts migrate/);
});

test('--only-data on a ConfigMap manifest is an error, not an empty conversion', async () => {
  const got = await migrateCli(['--only-data', join(goldenDir, 'pools.yaml')]);
  assert.equal(got.code, 1);
  assert.equal(got.stdout, '');
  assert.match(got.stderr, /the input is a ConfigMap manifest, not a bare data.config payload: drop --only-data/);
});

test('a ConfigMap without metadata.namespace converts into metallb-system', async () => {
  const input = file('no-ns.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\ndata:\n  config: |\n    address-pools:\n    - name: a\n      protocol: layer2\n      addresses: [10.0.0.0/24]\n');
  const got = await migrateCli([input]);
  assert.equal(got.code, 0, got.stderr);
  assert.deepEqual([...got.stdout.matchAll(/namespace: (.*)/g)].map((m) => m[1]), ['metallb-system', 'metallb-system']);
});

test('a duplicate key is a warning and the last value is converted (yaml.v2 Unmarshal, as upstream)', async () => {
  const input = file('dup.yaml', manifest('address-pools:\n- name: a\n  protocol: bgp\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n'));
  const got = await migrateCli([input]);
  assert.equal(got.code, 0, got.stderr);
  assert.match(got.stdout, /kind: L2Advertisement/);
  assert.doesNotMatch(got.stdout, /kind: BGPAdvertisement/);
  assert.match(got.stderr, /dup\.yaml:11:\d+: warning: .*protocol.*\n  hint: the last value is the one converted/);
});

test('nothing to migrate (issue 8 fault 4): configInline, an empty config, --only-data: exit 1, nothing written, the reason said', async () => {
  const helmValues = 'configInline:\n  address-pools:\n  - name: default\n    protocol: layer2\n    addresses:\n    - 192.0.2.0/28\n';
  const out = join(dir, 'nothing.yaml');
  for (const [label, argv, stdin] of [
    ['manifest', [file('helm.yaml', manifest(helmValues)), '-o', out], ''],
    ['--only-data', ['--only-data', '-', '-o', out], helmValues],
  ] as const) {
    const r = await migrateCli([...argv], stdin);
    assert.equal(r.code, 1, `${label}: ${r.stderr}`);
    assert.equal(r.stdout, '', label);
    assert.equal(existsSync(out), false, `${label}: nothing written`);
    assert.match(r.stderr, /`configInline` is a Helm values key \(MetalLB's chart\), not a config key; its content is the config/, label);
    assert.match(r.stderr, /nothing written/, label);
  }
  for (const body of ['address-pools: []\n', 'peers: []\n', 'foo: 1\n']) {
    const r = await migrateCli([file('empty.yaml', manifest(body))]);
    assert.equal(r.code, 1, body);
    assert.equal(r.stdout, '', body);
    assert.match(r.stderr, /nothing to migrate: the config defines no address pools, peers, BFD profiles or communities/, body);
  }
});
