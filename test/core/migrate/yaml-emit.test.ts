import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load, loadAll } from 'js-yaml';
import { emitDocument, emitDocuments, needsQuotes } from '../../../src/core/migrate/yaml-emit.js';

const quoting: { input: string; want: boolean }[] = [
  { input: 'peer1', want: false },
  { input: '10.0.0.1', want: false },
  { input: 'fc00:f853:ccd:e799::/124', want: false },
  { input: '1m30s', want: false },
  { input: '65535:65281', want: false },
  { input: 'kubernetes.io/hostname', want: false },
  { input: 'eW91clBhc3N3b3Jk==', want: false },
  { input: '64512:1', want: true }, // yaml.v2 base 60
  { input: '::1', want: true },
  { input: '42', want: true },
  { input: '1.5', want: true },
  { input: '1e3', want: true },
  { input: '0x1F', want: true },
  { input: 'yes', want: true },
  { input: 'Off', want: true },
  { input: 'null', want: true },
  { input: '~', want: true },
  { input: '', want: true },
  { input: 'a b', want: true },
  { input: 'a: b', want: true },
  { input: 'key:', want: true },
  { input: '#x', want: true },
  { input: '-x', want: true },
  { input: '2001-12-14', want: true },
  { input: 'multi\nline', want: true },
];

for (const { input, want } of quoting) {
  test(`needsQuotes(${JSON.stringify(input)}) = ${want}`, () => {
    assert.equal(needsQuotes(input), want);
    const text = emitDocument({ v: input });
    assert.deepEqual(load(text), { v: input }, 'reads back as the same string');
  });
}

test('emitDocument: sorted keys, unindented lists, maps inside lists, empty collections', () => {
  const text = emitDocument({
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

test('emitDocuments: header comments and --- separators; js-yaml reads the same objects back', () => {
  const docs = [{ kind: 'A', count: 1 }, { kind: 'B', list: ['64512:1', 'no-export'] }];
  const text = emitDocuments(docs, ['generated']);
  assert.equal(text, '# generated\ncount: 1\nkind: A\n---\nkind: B\nlist:\n- "64512:1"\n- no-export\n');
  assert.deepEqual(loadAll(text), docs);
});

test('keys that YAML 1.1 reads as booleans are quoted (yaml.v2 reads `y:` as true)', () => {
  assert.equal(emitDocument({ y: 1 }), '"y": 1\n');
});
