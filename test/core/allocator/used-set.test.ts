import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunSet, SortedValues } from '../../../src/core/allocator/used-set.js';

test('RunSet: first absent value and run merging', () => {
  const cases: { desc: string; add: number[]; del: number[]; from: number; want: number; runs: number }[] = [
    { desc: 'empty set', add: [], del: [], from: 5, want: 5, runs: 0 },
    { desc: 'jumps over a run', add: [0, 1, 2, 3], del: [], from: 0, want: 4, runs: 1 },
    { desc: 'from inside a run', add: [0, 1, 2, 3], del: [], from: 2, want: 4, runs: 1 },
    { desc: 'after a run', add: [0, 1], del: [], from: 7, want: 7, runs: 1 },
    { desc: 'joins left and right into one run', add: [0, 1, 3, 4, 2], del: [], from: 0, want: 5, runs: 1 },
    { desc: 'hole in the middle after delete', add: [0, 1, 2, 3, 4], del: [2], from: 0, want: 2, runs: 2 },
    { desc: 'delete run start', add: [0, 1, 2], del: [0], from: 0, want: 0, runs: 1 },
    { desc: 'delete run end', add: [0, 1, 2], del: [2], from: 1, want: 2, runs: 1 },
    { desc: 'delete single-value run', add: [5], del: [5], from: 5, want: 5, runs: 0 },
    { desc: 'duplicate add and absent delete are no-ops', add: [1, 1], del: [9], from: 1, want: 2, runs: 1 },
  ];
  for (const c of cases) {
    const set = new RunSet();
    for (const v of c.add) set.add(BigInt(v));
    for (const v of c.del) set.delete(BigInt(v));
    assert.equal(set.firstAbsentAtOrAfter(BigInt(c.from)), BigInt(c.want), c.desc);
    assert.equal(set.runCount, c.runs, `${c.desc}: runs`);
  }
});

test('RunSet agrees with a plain Set under random adds and deletes', () => {
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const set = new RunSet();
  const model = new Set<number>();
  for (let i = 0; i < 5000; i++) {
    const v = rand(200);
    if (rand(3) === 0) {
      set.delete(BigInt(v));
      model.delete(v);
    } else {
      set.add(BigInt(v));
      model.add(v);
    }
    const from = rand(210);
    let want = from;
    while (model.has(want)) want++;
    assert.equal(set.firstAbsentAtOrAfter(BigInt(from)), BigInt(want), `step ${i}`);
    assert.equal(set.has(BigInt(v)), model.has(v));
  }
});

test('SortedValues: ascending range queries', () => {
  const s = new SortedValues();
  for (const v of [9n, 3n, 7n, 3n, 1n]) s.add(v);
  s.delete(7n);
  assert.equal(s.size, 3);
  assert.deepEqual([...s.range(0n, 100n)], [1n, 3n, 9n]);
  assert.deepEqual([...s.range(2n, 9n)], [3n]);
  assert.deepEqual([...s.range(10n, 20n)], []);
});
