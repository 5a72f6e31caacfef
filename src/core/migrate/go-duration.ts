/**
 * Go `time.Duration` text, as far as the migration needs it: legacy `hold-time`/`keepalive-time` are Go
 * duration strings, and the BGPPeer CRD stores `metav1.Duration`, which prints with `Duration.String()`.
 * MetalLB truncates both to whole seconds, so formatting only ever sees whole seconds.
 */

const NANOS_PER_UNIT: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX_DURATION_NS = (1n << 63n) - 1n;
const TERM = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;

/**
 * Parses a Go duration (`90s`, `1m30s`, `1.5h`, `-2s`, `0`) into nanoseconds; undefined when Go's
 * `time.ParseDuration` would reject it. Fractions are truncated at nanosecond precision.
 */
export function parseGoDuration(text: string): bigint | undefined {
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') return undefined;
  let total = 0n;
  while (rest !== '') {
    const term = TERM.exec(rest);
    if (!term) return undefined;
    const [whole, intDigits = '', fracDigits, unit = ''] = term;
    if (intDigits === '' && (fracDigits === undefined || fracDigits === '')) return undefined;
    total += termNanos(intDigits, fracDigits ?? '', NANOS_PER_UNIT[unit] ?? 0n);
    if (total > MAX_DURATION_NS) return undefined;
    rest = rest.slice(whole.length);
  }
  return negative ? -total : total;
}

function termNanos(intDigits: string, fracDigits: string, unitNanos: bigint): bigint {
  const integer = intDigits === '' ? 0n : BigInt(intDigits);
  if (fracDigits === '') return integer * unitNanos;
  const scale = 10n ** BigInt(fracDigits.length);
  return integer * unitNanos + (BigInt(fracDigits) * unitNanos) / scale;
}

/** Go's `int(d.Seconds())`: whole seconds, truncated toward zero. */
export function wholeSeconds(nanos: bigint): number {
  return Number(nanos / 1_000_000_000n);
}

/** `time.Duration.String()` of a whole number of seconds: `0s`, `45s`, `1m30s`, `2m0s`, `1h0m0s`. */
export function formatGoSeconds(seconds: number): string {
  if (seconds === 0) return '0s';
  const sign = seconds < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(seconds));
  const hours = Math.floor(abs / 3600);
  const minutes = Math.floor((abs % 3600) / 60);
  const secs = abs % 60;
  if (hours > 0) return `${sign}${hours}h${minutes}m${secs}s`;
  if (minutes > 0) return `${sign}${minutes}m${secs}s`;
  return `${sign}${secs}s`;
}
