import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoSeconds, parseGoDuration, wholeSeconds } from '../../../src/core/migrate/go-duration.js';

const S = 1_000_000_000n;

const parseCases: { input: string; want: bigint | undefined }[] = [
  { input: '90s', want: 90n * S },
  { input: '1m30s', want: 90n * S },
  { input: '1.5h', want: 5400n * S },
  { input: '90.9s', want: 90_900_000_000n },
  { input: '.5s', want: S / 2n },
  { input: '5.s', want: 5n * S },
  { input: '100ms', want: S / 10n },
  { input: '1us', want: 1_000n },
  { input: '1µs', want: 1_000n },
  { input: '1ns', want: 1n },
  { input: '-2s', want: -2n * S },
  { input: '+3s', want: 3n * S },
  { input: '0', want: 0n },
  { input: '', want: undefined },
  { input: '90', want: undefined },
  { input: 'foo', want: undefined },
  { input: 's', want: undefined },
  { input: '.s', want: undefined },
  { input: '1d', want: undefined },
  { input: '3000000h', want: undefined },
];

for (const { input, want } of parseCases) {
  test(`parseGoDuration(${JSON.stringify(input)})`, () => {
    assert.equal(parseGoDuration(input), want);
  });
}

const formatCases: { seconds: number; want: string }[] = [
  { seconds: 0, want: '0s' },
  { seconds: 3, want: '3s' },
  { seconds: 59, want: '59s' },
  { seconds: 60, want: '1m0s' },
  { seconds: 90, want: '1m30s' },
  { seconds: 120, want: '2m0s' },
  { seconds: 3600, want: '1h0m0s' },
  { seconds: 3661, want: '1h1m1s' },
  { seconds: 90000, want: '25h0m0s' },
];

for (const { seconds, want } of formatCases) {
  test(`formatGoSeconds(${seconds})`, () => {
    assert.equal(formatGoSeconds(seconds), want);
  });
}

test('wholeSeconds truncates toward zero like int(d.Seconds())', () => {
  assert.equal(wholeSeconds(2_900_000_000n), 2);
  assert.equal(wholeSeconds(-2_900_000_000n), -2);
});
