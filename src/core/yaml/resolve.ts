/**
 * YAML 1.1 scalar resolution as Go's gopkg.in/yaml.v2 (v2.4.0) does it, and the conversion of a
 * resolved scalar into a Go field type (`decoder.scalar`). MetalLB decodes its ConfigMap with
 * yaml.v2, so this decides which configs are valid: `auto-assign: yes` is true, `hold-time: 90`
 * lands in a string field as "90", `my-asn: "42"` (quoted) cannot fill a uint32.
 */
import type { ScalarNode } from './nodes.js';
import { parseGoBase0 } from '../go/strconv.js';

/** yaml.v2's short tags for resolved scalars. */
export type ResolvedTag = '!!str' | '!!int' | '!!float' | '!!bool' | '!!null' | '!!timestamp' | '!!binary' | '!!merge';

/** A resolved scalar. Integers are bigint (exact int64/uint64), floats number. */
export type Resolved =
  | { readonly tag: '!!str' | '!!timestamp' | '!!binary' | '!!merge'; readonly value: string }
  | { readonly tag: '!!int'; readonly value: bigint }
  | { readonly tag: '!!float'; readonly value: number }
  | { readonly tag: '!!bool'; readonly value: boolean }
  | { readonly tag: '!!null'; readonly value: null };

const TRUE_WORDS = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const FALSE_WORDS = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
const NULL_WORDS = new Set(['', '~', 'null', 'Null', 'NULL']);
const SPECIAL_FLOATS: ReadonlyMap<string, number> = new Map([
  ...['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].map((s) => [s, Infinity] as const),
  ...['-.inf', '-.Inf', '-.INF'].map((s) => [s, -Infinity] as const),
  ...['.nan', '.NaN', '.NAN'].map((s) => [s, NaN] as const),
]);
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const TIMESTAMP = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(([Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(\.[0-9]*)?([ \t]*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Resolves a plain scalar's text by YAML 1.1 rules (yaml.v2 `resolve`). */
function resolvePlain(text: string): Resolved {
  if (NULL_WORDS.has(text)) return { tag: '!!null', value: null };
  if (TRUE_WORDS.has(text)) return { tag: '!!bool', value: true };
  if (FALSE_WORDS.has(text)) return { tag: '!!bool', value: false };
  const special = SPECIAL_FLOATS.get(text);
  if (special !== undefined) return { tag: '!!float', value: special };
  if (text === '<<') return { tag: '!!merge', value: text };
  if (!/^[-+.0-9]/.test(text)) return { tag: '!!str', value: text };
  const plain = text.replaceAll('_', '');
  // Go `strconv.ParseInt/ParseUint(s, 0, 64)` syntax, on the text without its `_` (yaml.v2 strips them first).
  const int = parseGoBase0(plain);
  if (int !== undefined && int >= INT64_MIN && int <= UINT64_MAX) return { tag: '!!int', value: int };
  if (YAML_STYLE_FLOAT.test(plain)) return { tag: '!!float', value: Number(plain) };
  if (TIMESTAMP.test(text)) return { tag: '!!timestamp', value: text };
  return { tag: '!!str', value: text };
}

/** Resolves a scalar node: quoted and block scalars are strings; explicit tags win. */
export function resolveScalar(node: ScalarNode): Resolved {
  if (node.tag !== undefined && node.tag !== '!') {
    const short = node.tag.replace(/^tag:yaml\.org,2002:/, '!!');
    if (short === '!!str') return { tag: '!!str', value: node.value };
    const resolved = resolvePlain(node.value);
    // An explicit tag must agree with what the text resolves to (yaml.v2 errors otherwise).
    if (resolved.tag === short) return resolved;
    return { tag: '!!str', value: node.value };
  }
  if (!node.plain) return { tag: '!!str', value: node.value };
  return resolvePlain(node.value);
}

/** Go integer field kinds MetalLB's config uses. */
export type GoIntKind = 'int' | 'uint16' | 'uint32';

const INT_BOUNDS: Record<GoIntKind, readonly [bigint, bigint]> = {
  int: [INT64_MIN, INT64_MAX],
  uint16: [0n, 65535n],
  uint32: [0n, 4294967295n],
};

/**
 * Converts a resolved scalar into a Go integer field as yaml.v2 does: ints in range, floats
 * truncated toward zero (amd64 conversion semantics for negative values into unsigned fields).
 * Undefined when yaml.v2 would report `cannot unmarshal`.
 */
export function toGoInteger(resolved: Resolved, kind: GoIntKind): bigint | undefined {
  const [min, max] = INT_BOUNDS[kind];
  let value: bigint;
  if (resolved.tag === '!!int') {
    value = resolved.value;
  } else if (resolved.tag === '!!float') {
    const f = resolved.value;
    if (Number.isNaN(f) || f > Number(kind === 'int' ? INT64_MAX : UINT64_MAX)) return undefined;
    // Go converts -Inf and values below int64 range to math.MinInt64 on amd64.
    value = Number.isFinite(f) && f > Number(INT64_MIN) ? BigInt(Math.trunc(f)) : INT64_MIN;
  } else {
    return undefined;
  }
  return value >= min && value <= max ? value : undefined;
}

/** Converts a resolved scalar into a Go bool field; undefined when yaml.v2 would refuse it. */
export function toGoBool(resolved: Resolved): boolean | undefined {
  return resolved.tag === '!!bool' ? resolved.value : undefined;
}

/** Text of a resolved scalar in a Go string field: yaml.v2 keeps the literal text of any scalar. */
export function toGoString(node: ScalarNode, resolved: Resolved): string {
  return resolved.tag === '!!null' ? '' : node.value;
}
