/** YAML 1.1 scalar resolution and Go field conversion as yaml.v2 does them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadYaml } from '../../../src/core/yaml/load.js';
import type { ScalarNode } from '../../../src/core/yaml/nodes.js';
import { resolveScalar, toGoBool, toGoInteger } from '../../../src/core/yaml/resolve.js';

function scalar(text: string): ScalarNode {
  const loaded = loadYaml(`v: ${text}\n`);
  assert.ok(loaded.ok && loaded.root?.kind === 'map');
  const value = loaded.root.entries[0]!.value;
  assert.equal(value.kind, 'scalar', text);
  return value as ScalarNode;
}

test('resolveScalar: YAML 1.1 tags of plain, quoted and tagged scalars', () => {
  const cases: { input: string; want: string }[] = [
    ...['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'].map((input) => ({ input, want: '!!bool true' })),
    ...['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'].map((input) => ({ input, want: '!!bool false' })),
    ...['~', 'null', 'Null', 'NULL'].map((input) => ({ input, want: '!!null null' })),
    { input: '90', want: '!!int 90' },
    { input: '-7', want: '!!int -7' },
    { input: '+7', want: '!!int 7' },
    { input: '0x1F', want: '!!int 31' },
    { input: '0o17', want: '!!int 15' },
    { input: '017', want: '!!int 15' },
    { input: '0b101', want: '!!int 5' },
    { input: '1_000', want: '!!int 1000' },
    { input: '64_512', want: '!!int 64512' },
    { input: '18446744073709551615', want: '!!int 18446744073709551615' },
    { input: '08', want: '!!float 8' },
    { input: '1.5', want: '!!float 1.5' },
    { input: '1e3', want: '!!float 1000' },
    { input: '.inf', want: '!!float Infinity' },
    { input: '.nan', want: '!!float NaN' },
    { input: '2024-01-31', want: '!!timestamp 2024-01-31' },
    { input: '90s', want: '!!str 90s' },
    { input: '64512:1234', want: '!!str 64512:1234' },
    { input: '"90"', want: '!!str 90' },
    { input: "'yes'", want: '!!str yes' },
    { input: '!!str 2024', want: '!!str 2024' },
    { input: '!!int 42', want: '!!int 42' },
    { input: 'yesterday', want: '!!str yesterday' },
  ];
  for (const c of cases) {
    const r = resolveScalar(scalar(c.input));
    assert.equal(`${r.tag} ${String(r.value)}`, c.want, c.input);
  }
});

test('toGoInteger: ranges and float truncation per Go field kind', () => {
  const cases: { input: string; kind: 'int' | 'uint16' | 'uint32'; want: bigint | undefined }[] = [
    { input: '4294967295', kind: 'uint32', want: 4294967295n },
    { input: '4294967296', kind: 'uint32', want: undefined },
    { input: '-1', kind: 'uint32', want: undefined },
    { input: '65535', kind: 'uint16', want: 65535n },
    { input: '65536', kind: 'uint16', want: undefined },
    { input: '0x10', kind: 'uint16', want: 16n },
    { input: '24.9', kind: 'int', want: 24n },
    { input: '-0.5', kind: 'uint32', want: 0n },
    { input: '-1.5', kind: 'uint32', want: undefined },
    { input: '.nan', kind: 'int', want: undefined },
    { input: '"42"', kind: 'uint32', want: undefined },
    { input: 'yes', kind: 'uint32', want: undefined },
    { input: '-33', kind: 'int', want: -33n },
  ];
  for (const c of cases) assert.equal(toGoInteger(resolveScalar(scalar(c.input)), c.kind), c.want, `${c.input} → ${c.kind}`);
});

test('toGoBool accepts only resolved booleans', () => {
  const cases = [
    { input: 'yes', want: true },
    { input: 'Off', want: false },
    { input: '"true"', want: undefined },
    { input: '1', want: undefined },
  ];
  for (const c of cases) assert.equal(toGoBool(resolveScalar(scalar(c.input))), c.want, c.input);
});
