/**
 * Go's `time.Duration` text (Go 1.16, as MetalLB was built): `time.ParseDuration` with its error texts, and
 * `Duration.String()`. MetalLB's config exposes both (peer hold-time, keepalive-time), and the migration prints
 * the BGPPeer CRD's `metav1.Duration` with them. The one home of Go duration handling.
 */

export type GoParse<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const UNIT_NS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // µ (micro sign)
  ['\u03bcs', 1_000n], // μ (Greek mu)
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);
const MAX_DURATION = 2n ** 63n - 1n;

/** Go's `time.ParseDuration`: nanoseconds as bigint, or Go's error text. */
export function parseGoDuration(text: string): GoParse<bigint> {
  const invalid = { ok: false, error: `time: invalid duration ${JSON.stringify(text)}` } as const;
  let s = text;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return { ok: true, value: 0n };
  if (s === '') return invalid;
  let total = 0n;
  while (s !== '') {
    const number = /^([0-9]*)(\.([0-9]*))?/.exec(s)!;
    const whole = number[1]!;
    const fraction = number[3] ?? '';
    if (whole === '' && fraction === '') return invalid; // no digits at all (".s", "s")
    s = s.slice(number[0].length);
    const unitText = /^[^0-9.]*/.exec(s)![0];
    if (unitText === '') return { ok: false, error: `time: missing unit in duration ${JSON.stringify(text)}` };
    const unit = UNIT_NS.get(unitText);
    if (unit === undefined) {
      return { ok: false, error: `time: unknown unit ${JSON.stringify(unitText)} in duration ${JSON.stringify(text)}` };
    }
    s = s.slice(unitText.length);
    let value = BigInt(whole === '' ? '0' : whole) * unit;
    if (fraction !== '') value += (BigInt(fraction) * unit) / 10n ** BigInt(fraction.length);
    total += value;
    if (total > MAX_DURATION) return invalid;
  }
  return { ok: true, value: negative ? -total : total };
}

/** Formats nanoseconds like Go's `time.Duration.String()` (`1m30s`, `33.333333333s`, `0s`). */
export function formatGoDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const sign = ns < 0n ? '-' : '';
  const abs = ns < 0n ? -ns : ns;
  if (abs < 1_000_000_000n) {
    const [unit, size] = abs < 1_000n ? ['ns', 1n] : abs < 1_000_000n ? ['\u00b5s', 1_000n] : ['ms', 1_000_000n];
    return `${sign}${decimal(abs, size)}${unit}`;
  }
  const hours = abs / 3_600_000_000_000n;
  const minutes = (abs / 60_000_000_000n) % 60n;
  const seconds = decimal(abs % 60_000_000_000n, 1_000_000_000n);
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

function decimal(value: bigint, unit: bigint): string {
  const whole = value / unit;
  const rest = value % unit;
  if (rest === 0n) return String(whole);
  const digits = String(unit).length - 1;
  return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
}

/** Go's `int(d.Seconds())`: whole seconds of `nanos`, truncated toward zero. */
export function wholeSeconds(nanos: bigint): number {
  return Number(nanos / 1_000_000_000n);
}

/** `time.Duration.String()` of a whole number of seconds: `0s`, `45s`, `1m30s`, `2m0s`, `1h0m0s`. */
export function formatGoSeconds(seconds: number): string {
  return formatGoDuration(BigInt(Math.trunc(seconds)) * 1_000_000_000n);
}
