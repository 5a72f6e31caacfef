import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guardEmptySequenceEntries } from '../../../src/core/yaml/empty-entry-guard.js';
import { loadYaml } from '../../../src/core/yaml/load.js';
import { parseConfig } from '../../../src/core/config/parse.js';

const MIS_NESTED = 'p:\n- ads:\n  - x\n  -\n- name: b\n';

test('empty entries before a less-indented entry become explicit nulls; others are untouched', () => {
  const cases = [
    { desc: 'the js-yaml 4 trigger', input: MIS_NESTED, want: 'p:\n- ads:\n  - x\n  - ~\n- name: b\n' },
    { desc: 'comment and blank lines between', input: 'p:\n- a:\n  -  # c\n\n# x\n- b\n', want: 'p:\n- a:\n  - ~  # c\n\n# x\n- b\n' },
    { desc: 'nested sequence', input: 'p:\n- - x\n  -\n- y\n', want: 'p:\n- - x\n  - ~\n- y\n' },
    { desc: 'followed by a key, not an entry', input: 'p:\n  - x\n  -\nq: 1\n', want: 'p:\n  - x\n  -\nq: 1\n' },
    { desc: 'followed by a same-indent entry', input: 'p:\n- x\n-\n- y\n', want: 'p:\n- x\n-\n- y\n' },
    { desc: 'last line', input: 'p:\n- x\n-', want: 'p:\n- x\n-' },
  ];
  for (const c of cases) assert.equal(guardEmptySequenceEntries(c.input).text, c.want, c.desc);
});

test('offsets map back to the original text', () => {
  const g = guardEmptySequenceEntries(MIS_NESTED);
  const nameAt = g.text.indexOf('name: b');
  assert.equal(g.toOriginal(nameAt), MIS_NESTED.indexOf('name: b'));
  const tildeAt = g.text.indexOf('~');
  assert.equal(g.toOriginal(tildeAt), MIS_NESTED.indexOf('  -\n') + 3);
  assert.equal(g.toOriginal(3), 3);
});

test('the loader reads the outer entry as a sibling, with original positions', () => {
  const loaded = loadYaml(MIS_NESTED);
  assert.ok(loaded.ok);
  const root = loaded.root;
  assert.equal(root?.kind, 'map');
  const seq = root.kind === 'map' ? root.entries[0]!.value : undefined;
  assert.equal(seq?.kind, 'seq');
  if (seq?.kind !== 'seq') return;
  assert.equal(seq.items.length, 2, 'pool b must not be swallowed by the inner list');
  const second = seq.items[1]!;
  assert.equal(second.start, MIS_NESTED.indexOf('name: b'));
});

test('a config with a trailing empty advertisement keeps both pools', () => {
  const text = [
    'address-pools:',
    '- name: a',
    '  protocol: bgp',
    '  addresses: [198.51.100.0/28]',
    '  bgp-advertisements:',
    '  - localpref: 100',
    '  -',
    '- name: b',
    '  protocol: layer2',
    '  addresses: [192.0.2.0/28]',
    '',
  ].join('\n');
  const result = parseConfig(text);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
  assert.deepEqual(result.config.pools.map((p) => [p.name, p.bgpAdvertisements.length]), [['a', 2], ['b', 0]]);
});
