/**
 * Go's `strconv` number parsing as MetalLB exposes it (Go 1.16 error texts): BGP community halves are
 * `strconv.ParseUint(s, 10, 16)`; integer flags (`flag.Int`) and YAML 1.1 integers (yaml.v2) take base-0 syntax.
 */
import type { GoParse } from './duration.js';

/** Go's `strconv.ParseUint(s, 10, 16)`. */
export function parseGoUint16(text: string): GoParse<number> {
  const fail = (why: string) => ({ ok: false, error: `strconv.ParseUint: parsing ${JSON.stringify(text)}: ${why}` }) as const;
  if (text === '') return fail('invalid syntax');
  let value = 0;
  for (const ch of text) {
    if (ch < '0' || ch > '9') return fail('invalid syntax');
    value = value * 10 + Number(ch);
    if (value > 65535) return fail('value out of range');
  }
  return { ok: true, value };
}

const BASE0_SYNTAX: ReadonlyArray<readonly [RegExp, number, number]> = [
  // [the whole unsigned literal, radix, prefix length]; `_` only between digits or after a base prefix, as Go's.
  [/^0[xX]_?[0-9a-fA-F]+(?:_[0-9a-fA-F]+)*$/, 16, 2],
  [/^0[oO]_?[0-7]+(?:_[0-7]+)*$/, 8, 2],
  [/^0[bB]_?[01]+(?:_[01]+)*$/, 2, 2],
  [/^0_?[0-7]+(?:_[0-7]+)*$/, 8, 1],
  [/^(?:0|[1-9](?:_?[0-9])*)$/, 10, 0],
];

/**
 * The value of an integer in the syntax of Go's `strconv.ParseInt(s, 0, …)`: an optional sign, then decimal, `0x`
 * hex, `0o` or leading-`0` octal, or `0b` binary, with `_` separators; undefined for anything else. No range check:
 * the caller bounds it (int64 for flag.Int, int64/uint64 for yaml.v2).
 */
export function parseGoBase0(text: string): bigint | undefined {
  const body = /^[+-]/.test(text) ? text.slice(1) : text;
  const syntax = BASE0_SYNTAX.find(([re]) => re.test(body));
  if (!syntax) return undefined;
  const [, radix, prefix] = syntax;
  const magnitude = [...body.slice(prefix).replaceAll('_', '')].reduce((acc, d) => acc * BigInt(radix) + BigInt(parseInt(d, radix)), 0n);
  return text.startsWith('-') ? -magnitude : magnitude;
}
