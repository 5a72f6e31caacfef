import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from '../../src/core/backoff.js';

test('backoffDelay doubles from the base and stops at the cap', () => {
  const cases = [
    { failures: 0, want: 5 }, { failures: 1, want: 5 }, { failures: 2, want: 10 }, { failures: 4, want: 40 },
    { failures: 13, want: 20_480 }, { failures: 14, want: 30_000 }, { failures: 500, want: 30_000 },
  ];
  for (const c of cases) assert.equal(backoffDelay(c.failures, { baseMs: 5, maxMs: 30_000 }), c.want, `failures=${c.failures}`);
});
