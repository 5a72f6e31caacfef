/** The positioned YAML loader: spans, null items, aliases, billion laughs, syntax errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadYaml } from '../../../src/core/yaml/load.js';
import { LineIndex, deref, type YamlNode } from '../../../src/core/yaml/nodes.js';

function at(text: string, node: YamlNode): string {
  const index = new LineIndex(text);
  const s = index.at(node.start);
  return `${s.line}:${s.column}`;
}

test('loadYaml: nodes carry their source positions', () => {
  const text = 'a:\n  - x\n  - "y"\n  -\n  - {k: [1, 2]}\nb: &anchor 7\nc: *anchor\n';
  const r = loadYaml(text);
  assert.ok(r.ok && r.root?.kind === 'map');
  const [a, b, c] = r.root.entries;
  assert.equal(at(text, a!.key), '1:1');
  assert.ok(a!.value.kind === 'seq');
  const items = a!.value.items;
  assert.deepEqual(items.map((n) => [n.kind, at(text, n)]), [['scalar', '2:5'], ['scalar', '3:5'], ['null', '4:3'], ['map', '5:5']]);
  assert.equal(items[1]!.kind === 'scalar' && items[1]!.plain, false);
  assert.equal(at(text, b!.value), '6:12');
  assert.equal(c!.value.kind, 'alias');
  assert.equal(deref(c!.value), b!.value);
  assert.equal(at(text, c!.value), '7:4');
});

test('loadYaml: empty documents, syntax errors and billion laughs', () => {
  const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (const name of 'bcdefghi') {
    const prev = String.fromCharCode(name.charCodeAt(0) - 1);
    laughs.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
  }
  const cases: { desc: string; input: string; want: string }[] = [
    { desc: 'empty', input: '', want: 'empty' },
    { desc: 'comment only', input: '# nothing\n', want: 'null' },
    { desc: 'unterminated flow', input: 'a: [b\n', want: 'yaml-syntax 2:1' },
    { desc: 'bad indentation', input: 'a:\n  - b\n - c\n', want: 'yaml-syntax' },
    { desc: 'unknown alias', input: 'a: *nope\n', want: 'yaml-syntax' },
    { desc: 'billion laughs', input: laughs.join('\n'), want: 'yaml-alias-limit' },
  ];
  for (const c of cases) {
    const r = loadYaml(c.input);
    let got: string;
    if (!r.ok) {
      const pos = new LineIndex(c.input).at(r.error.offset);
      got = c.want.includes(':') ? `${r.error.kind} ${pos.line}:${pos.column}` : r.error.kind;
    } else {
      got = r.root ? r.root.kind : 'empty';
    }
    assert.equal(got, c.want, c.desc);
  }
});

test('loadYaml: a small alias budget rejects moderate expansion, the default accepts it', () => {
  const text = 'a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: [*a, *a, *a, *a, *a]\n';
  assert.equal(loadYaml(text).ok, true);
  const limited = loadYaml(text, { aliasBudget: 20 });
  assert.equal(limited.ok, false);
  assert.match(!limited.ok ? limited.error.message : '', /billion laughs/);
});
