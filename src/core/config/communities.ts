/**
 * BGP community values (`hi:lo`, two 16-bit halves) and `bgp-communities` aliases, with MetalLB
 * v0.12.1's error texts. No well-known names are built in: `no-export` must be an alias.
 */
import { parseGoUint16 } from '../go/strconv.js';

export type CommunityParse =
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly message: string; /** the offending part */ readonly value: string };

/** Parses a `hi:lo` community literal into `hi << 16 | lo`. */
export function parseCommunity(text: string): CommunityParse {
  const fields = text.split(':');
  if (fields.length !== 2) return { ok: false, message: `invalid community string ${JSON.stringify(text)}`, value: text };
  const [first, second] = fields as [string, string];
  const hi = parseGoUint16(first);
  if (!hi.ok) return { ok: false, message: `invalid first section of community ${JSON.stringify(first)}: ${hi.error}`, value: first };
  const lo = parseGoUint16(second);
  if (!lo.ok) return { ok: false, message: `invalid second section of community ${JSON.stringify(second)}: ${lo.error}`, value: second };
  return { ok: true, value: hi.value * 65536 + lo.value };
}

/** Formats a community value as `hi:lo`. */
export function formatCommunity(value: number): string {
  return `${Math.floor(value / 65536)}:${value % 65536}`;
}
