import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoDuration, formatGoSeconds, parseGoDuration, wholeSeconds } from '../../../src/core/go/duration.js';
import { parseGoUint16 } from '../../../src/core/go/strconv.js';

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

test('parseGoDuration: Go time.ParseDuration error texts, and Duration.String()', () => {
  const cases: { input: string; want: string }[] = [
    { input: '90s', want: '90000000000' },
    { input: '1m30s', want: '90000000000' },
    { input: '1.5h', want: '5400000000000' },
    { input: '500ms', want: '500000000' },
    { input: '2.9s', want: '2900000000' },
    { input: '1µs', want: '1000' },
    { input: '-3s', want: '-3000000000' },
    { input: '0', want: '0' },
    { input: '90', want: 'time: missing unit in duration "90"' },
    { input: 'foo', want: 'time: invalid duration "foo"' },
    { input: '', want: 'time: invalid duration ""' },
    { input: '5d', want: 'time: unknown unit "d" in duration "5d"' },
    { input: '.s', want: 'time: invalid duration ".s"' },
    { input: '9999999999h', want: 'time: invalid duration "9999999999h"' },
  ];
  for (const c of cases) {
    const got = parseGoDuration(c.input);
    assert.equal(got.ok ? String(got.value) : got.error, c.want, c.input);
  }
  assert.equal(formatGoDuration(100_000_000_000n / 3n), '33.333333333s');
  assert.equal(formatGoDuration(5_400_000_000_000n), '1h30m0s');
  assert.equal(formatGoDuration(0n), '0s');
});

test('parseGoUint16: strconv.ParseUint(s, 10, 16) values and error texts', () => {
  assert.deepEqual(parseGoUint16('65535'), { ok: true, value: 65535 });
  assert.deepEqual(parseGoUint16('65536'), { ok: false, error: 'strconv.ParseUint: parsing "65536": value out of range' });
  assert.deepEqual(parseGoUint16('+1'), { ok: false, error: 'strconv.ParseUint: parsing "+1": invalid syntax' });
  assert.deepEqual(parseGoUint16(''), { ok: false, error: 'strconv.ParseUint: parsing "": invalid syntax' });
});

for (const { input, want } of parseCases) {
  test(`parseGoDuration(${JSON.stringify(input)})`, () => {
    const got = parseGoDuration(input);
    assert.equal(got.ok ? got.value : undefined, want);
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
  { seconds: -90, want: '-1m30s' },
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
