import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load, loadAll } from 'js-yaml';
import { dumpDocument, dumpDocuments, readsAsNonString } from '../../../src/core/migrate/manifest-yaml.js';

/**
 * Each string, written as the value of `v`, must come out plain or double-quoted as `want` says (kubectl reads
 * YAML 1.1: `64512:1` is base 60 and `1_000` an int to yaml.v2), and js-yaml must read it back as the same string.
 */
const quoting: { input: string; want: 'plain' | 'quoted' }[] = [
  { input: 'peer1', want: 'plain' },
  { input: '10.0.0.1', want: 'plain' },
  { input: 'fc00:f853:ccd:e799::/124', want: 'plain' },
  { input: '1m30s', want: 'plain' },
  { input: 'kubernetes.io/hostname', want: 'plain' },
  { input: 'eW91clBhc3N3b3Jk==', want: 'plain' },
  { input: '64512:1', want: 'quoted' }, // yaml.v2 base 60
  { input: '1:30', want: 'quoted' },
  { input: '1_000', want: 'quoted' }, // YAML 1.1 int
  { input: '0o17', want: 'quoted' },
  { input: '0b1010', want: 'quoted' },
  { input: '::1', want: 'quoted' },
  { input: '42', want: 'quoted' },
  { input: '1.5', want: 'quoted' },
  { input: '1e3', want: 'quoted' },
  { input: '0x1F', want: 'quoted' },
  { input: '.inf', want: 'quoted' },
  { input: '.NaN', want: 'quoted' },
  { input: 'y', want: 'quoted' },
  { input: 'yes', want: 'quoted' },
  { input: 'N', want: 'quoted' },
  { input: 'Off', want: 'quoted' },
  { input: 'null', want: 'quoted' },
  { input: '~', want: 'quoted' },
  { input: '<<', want: 'quoted' },
  { input: '', want: 'quoted' },
  { input: 'a b', want: 'plain' },
  { input: 'a: b', want: 'quoted' },
  { input: 'key:', want: 'quoted' },
  { input: '#x', want: 'quoted' },
  { input: '- x', want: 'quoted' },
  { input: '2001-12-14', want: 'quoted' },
  { input: '2001-12-14t21:59:43.10-05:00', want: 'quoted' },
];

for (const { input, want } of quoting) {
  test(`dumpDocument writes ${JSON.stringify(input)} ${want}`, () => {
    const text = dumpDocument({ v: input });
    assert.equal(text, want === 'plain' ? `v: ${input}\n` : `v: ${JSON.stringify(input)}\n`);
    assert.deepEqual(load(text), { v: input }, 'reads back as the same string');
  });
}

test('readsAsNonString: YAML 1.1 and 1.2 non-strings only, not syntax', () => {
  for (const text of ['64512:1', '1_000', 'yes', 'on', 'NULL', '+.5', '-0x1f', '2001-12-14']) assert.ok(readsAsNonString(text), text);
  for (const text of ['65535:65281', '10.0.0.1', 'peer1', 'a: b', '#x', 'yesno', '1m30s']) assert.ok(!readsAsNonString(text), text);
});

test('a multi-line string reads back unchanged', () => {
  const text = dumpDocument({ v: 'multi\nline' });
  assert.deepEqual(load(text), { v: 'multi\nline' });
});

test('dumpDocument: sorted keys, unindented lists, maps inside lists, empty collections', () => {
  const text = dumpDocument({
    spec: {
      b: [{ z: 1, x: ['p', 'q'] }, {}],
      a: true,
      c: {},
      d: [],
    },
    apiVersion: 'v1',
  });
  assert.equal(
    text,
    [
      'apiVersion: v1',
      'spec:',
      '  a: true',
      '  b:',
      '  - x:',
      '    - p',
      '    - q',
      '    z: 1',
      '  - {}',
      '  c: {}',
      '  d: []',
      '',
    ].join('\n'),
  );
});

test('keys sort bytewise, as Go sorts them (upper case before lower, UTF-8 order)', () => {
  assert.equal(dumpDocument({ b: 1, a: 1, B: 1, '\u{1F600}': 1, '\uFF21': 1 }), 'B: 1\na: 1\nb: 1\n\uFF21: 1\n\u{1F600}: 1\n');
});

test('dumpDocuments: header comments and --- separators; js-yaml reads the same objects back', () => {
  const docs = [{ kind: 'A', count: 1 }, { kind: 'B', list: ['64512:1', 'no-export'] }];
  const text = dumpDocuments(docs, ['generated']);
  assert.equal(text, '# generated\ncount: 1\nkind: A\n---\nkind: B\nlist:\n- "64512:1"\n- no-export\n');
  assert.deepEqual(loadAll(text), docs);
});

test('keys that YAML 1.1 reads as booleans are quoted (yaml.v2 reads `y:` as true)', () => {
  assert.equal(dumpDocument({ y: 1 }), '"y": 1\n');
});
