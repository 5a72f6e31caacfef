/**
 * Go's `strconv` number parsing as MetalLB's config exposes it (Go 1.16 error texts): BGP community halves are
 * `strconv.ParseUint(s, 10, 16)`.
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
