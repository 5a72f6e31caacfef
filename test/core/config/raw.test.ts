/** Stage 1: decoding like yaml.v2 UnmarshalStrict, shape errors with positions, lenient mode, manifests. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRawConfig } from '../../../src/core/config/raw.js';
import { parseConfigMapManifest, readConfigSource } from '../../../src/core/config/manifest.js';
import { parseConfig, parseConfigDocument } from '../../../src/core/config/parse.js';

const POOL = '  protocol: layer2\n  addresses: [10.0.0.0/24]\n';

test('decodeRawConfig: scalars resolve by the target field type (yaml.v2 rules)', () => {
  const cases: { desc: string; input: string; path: (raw: any) => unknown; want: unknown }[] = [
    { desc: 'auto-assign: yes is true', input: `address-pools:\n- name: p\n${POOL}  auto-assign: yes\n`, path: (r) => r['address-pools'][0]['auto-assign'], want: true },
    { desc: 'auto-assign: off is false', input: `address-pools:\n- name: p\n${POOL}  auto-assign: off\n`, path: (r) => r['address-pools'][0]['auto-assign'], want: false },
    { desc: 'auto-assign: ~ keeps the default', input: `address-pools:\n- name: p\n${POOL}  auto-assign: ~\n`, path: (r) => r['address-pools'][0]['auto-assign'], want: undefined },
    { desc: 'name: 2024 is the string "2024"', input: `address-pools:\n- name: 2024\n${POOL}`, path: (r) => r['address-pools'][0].name, want: '2024' },
    { desc: 'name: 0x10 keeps its literal text', input: `address-pools:\n- name: 0x10\n${POOL}`, path: (r) => r['address-pools'][0].name, want: '0x10' },
    { desc: 'hold-time: 90 is the string "90"', input: 'peers:\n- hold-time: 90\n', path: (r) => r.peers[0]['hold-time'], want: '90' },
    { desc: 'my-asn in hex', input: 'peers:\n- my-asn: 0xFC00\n', path: (r) => r.peers[0]['my-asn'], want: 64512 },
    { desc: 'my-asn with _ separators', input: 'peers:\n- my-asn: 4_200_000_000\n', path: (r) => r.peers[0]['my-asn'], want: 4200000000 },
    { desc: 'peer-port as float truncates', input: 'peers:\n- peer-port: 179.9\n', path: (r) => r.peers[0]['peer-port'], want: 179 },
    { desc: 'null list item in addresses is ""', input: 'address-pools:\n- addresses: [~, 1.2.3.0/24]\n', path: (r) => r['address-pools'][0].addresses, want: ['', '1.2.3.0/24'] },
    { desc: 'null pool item is an empty pool', input: 'address-pools:\n-\n', path: (r) => r['address-pools'], want: [{}] },
    { desc: 'community alias value keeps its text', input: 'bgp-communities:\n  no-export: 65535:65281\n', path: (r) => r['bgp-communities']['no-export'], want: '65535:65281' },
  ];
  for (const c of cases) {
    const got = decodeRawConfig(c.input, { strict: true });
    assert.deepEqual(got.errors, [], c.desc);
    assert.deepEqual(c.path(got.raw), c.want, c.desc);
  }
});

test('decodeRawConfig: every shape error is reported, each at its node', () => {
  const input = [
    'peers:',
    '- my-asn: "64500"', // quoted number into uint32
    '  peer-asn: 4294967296', // out of uint32 range
    '  peer-port: yes', // bool into uint16
    '  ebgp-multihop: "true"', // quoted into bool
    '  password: [a]', // list into string
    '  my-asn: 1', // duplicate key
    'address-pool:', // unknown top-level key (typo)
    '- name: x',
  ].join('\n');
  const got = decodeRawConfig(input, { strict: true });
  assert.equal(got.raw, undefined);
  assert.deepEqual(
    got.errors.map((e) => [e.kind, e.value, `${e.position?.line}:${e.position?.column}`, e.message]),
    [
      ['type-mismatch', '64500', '2:11', 'cannot unmarshal !!str `64500` into uint32'],
      ['type-mismatch', '4294967296', '3:13', 'cannot unmarshal !!int `4294967296` into uint32'],
      ['type-mismatch', 'yes', '4:14', 'cannot unmarshal !!bool `yes` into uint16'],
      ['type-mismatch', 'true', '5:18', 'cannot unmarshal !!str `true` into bool'],
      ['type-mismatch', '', '6:13', 'cannot unmarshal !!seq into string'],
      ['duplicate-key', 'my-asn', '7:3', 'key "my-asn" already set in map'],
      ['unknown-key', 'address-pool', '8:1', 'field address-pool not found in type config.configFile'],
    ],
  );
});

test('decodeRawConfig lenient: unknown keys dropped and duplicates last-wins, with warnings', () => {
  const got = decodeRawConfig('peers:\n- my-asn: 1\n  my-asn: 2\n  frob: 3\naddress-pools:\n- name: p\n  protocol: babel\n', { strict: false });
  assert.deepEqual(got.errors, []);
  assert.deepEqual(got.raw, { peers: [{ 'my-asn': 2 }], 'address-pools': [{ name: 'p', protocol: 'babel' }] });
  assert.deepEqual(got.warnings.map((w) => [w.kind, w.value, w.position?.line]), [['duplicate-key', 'my-asn', 3], ['unknown-key', 'frob', 4]]);
  assert.deepEqual(got.positionOf('/address-pools/0/protocol'), { line: 7, column: 13 });
  assert.deepEqual(got.positionOf('/address-pools/0/addresses'), { line: 6, column: 3 }, 'absent key → its object');
  const lenientTypeError = decodeRawConfig('peers:\n- my-asn: "1"\n', { strict: false });
  assert.equal(lenientTypeError.errors[0]?.kind, 'type-mismatch');
});

const MANIFEST = (config: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  namespace: metallb-system
  name: config
data:
${config}`;

test('ConfigMap manifests: data.config extracted, positions in manifest lines', () => {
  const block = MANIFEST('  config: |\n    address-pools:\n    - name: p\n      protocol: layer2\n      addresses: [1.2.3.0/33]\n');
  const parsed = parseConfigMapManifest(block);
  assert.ok(parsed.ok);
  assert.equal(parsed.payload.name, 'config');
  assert.equal(parsed.payload.namespace, 'metallb-system');
  const result = parseConfigDocument(block);
  assert.ok(!result.ok);
  assert.deepEqual(result.errors.map((e) => [e.kind, e.value, e.position]), [['invalid-cidr', '1.2.3.0/33', { line: 11, column: 19 }]]);

  const cases = [
    { desc: 'missing data', input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config}\n', ok: true, text: '' },
    { desc: 'missing data.config', input: MANIFEST('  other: x\n'), ok: true, text: '' },
    { desc: 'quoted config', input: MANIFEST('  config: "address-pools: []"\n'), ok: true, text: 'address-pools: []' },
    { desc: 'data.config a mapping', input: MANIFEST('  config:\n    peers: []\n'), ok: false, text: '' },
    { desc: 'not a ConfigMap', input: 'kind: Secret\n', ok: false, text: '' },
  ];
  for (const c of cases) {
    const got = parseConfigMapManifest(c.input);
    assert.equal(got.ok, c.ok, c.desc);
    if (got.ok) assert.equal(got.payload.text, c.text, c.desc);
  }
  const stream = `apiVersion: v1\nkind: Namespace\nmetadata: {name: metallb-system}\n---\n${MANIFEST('  config: |\n    peers: 5\n')}`;
  const fromStream = parseConfigDocument(stream);
  assert.deepEqual(!fromStream.ok && fromStream.errors.map((e) => [e.kind, e.position]), [['type-mismatch', { line: 12, column: 12 }]], 'the ConfigMap in a manifest stream');
  const firstDocument = parseConfig('address-pools: []\n---\nnot: [valid\n');
  assert.equal(firstDocument.ok, false, 'later documents are still parsed for syntax');
  assert.equal(parseConfig('address-pools: []\n---\nfoo: 1\n').ok, true, 'only the first document is the config (yaml.v2)');
  const bare = readConfigSource('address-pools: []\n');
  assert.ok(bare.ok && bare.payload.origin.kind === 'file' && bare.payload.text === 'address-pools: []\n');
});

test('parseConfig never throws and errors always carry positions', () => {
  const inputs = ['', '~', '[]', '- a', 'a: [', 'peers: 5', 'peers:\n- 5', '{', 'address-pools:\n- name: p\n  addresses: [::5-1.2.3.4]\n  protocol: layer2\n', '\t\tx', '? [a]\n: b'];
  for (const input of inputs) {
    const got = parseConfig(input);
    if (!got.ok) for (const e of got.errors) assert.ok(e.position, `${JSON.stringify(input)}: ${e.message}`);
  }
});
