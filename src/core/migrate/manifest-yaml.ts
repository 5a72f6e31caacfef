/**
 * Writes the migrated manifests with js-yaml's `dump`, shaped like the output of MetalLB's converter
 * (sigs.k8s.io/yaml over yaml.v2): keys sorted bytewise, list items at their key's indentation, no line folding,
 * no anchors. Deterministic, so the golden files can be written by hand.
 *
 * Quoting: js-yaml quotes what its YAML 1.2 schema would read as something else and what is not plain-safe syntax.
 * kubectl reads YAML 1.1 (yaml.v2), so one more implicit type, {@link readsAsNonString}, makes `dump` also quote
 * every plain scalar that YAML 1.1 resolves to a non-string: `yes`/`on`/`y` booleans, yaml.v2's base-60 numbers
 * (`64512:1`), `1_000`. That is yaml.v2's own rule for what it quotes, so `65535:666` stays plain as upstream writes it.
 */
import { DEFAULT_SCHEMA, Type, dump, type DumpOptions } from 'js-yaml';

/** Words YAML 1.1 (yaml.v2, kubectl) or 1.2 (js-yaml) read as booleans or null. */
const KEYWORDS = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~)$/;
/** Forms YAML 1.1 or 1.2 read as numbers (ints in any base, floats, yaml.v2's base 60), timestamps or merge keys. */
const NUMBER_LIKE = [
  /^[-+]?[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?$/,
  /^[-+]?\.[0-9][0-9_]*([eE][-+]?[0-9]+)?$/,
  /^[-+]?0x[0-9a-fA-F_]+$/,
  /^[-+]?0o[0-7_]+$/,
  /^[-+]?0b[01_]+$/,
  /^[-+]?\.(inf|Inf|INF)$/,
  /^\.(nan|NaN|NAN)$/,
  /^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$/,
  /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}/,
  /^<<$/,
];

/**
 * True when a YAML 1.1 or 1.2 reader resolves `text`, written as a plain scalar, to something other than this
 * string (bool, null, int, float, timestamp, merge). Syntax (`: `, `#`, leading `-`, ...) is js-yaml's own business.
 */
export function readsAsNonString(text: string): boolean {
  return KEYWORDS.test(text) || NUMBER_LIKE.some((re) => re.test(text));
}

/** Never constructs anything: it only exists so that `dump` sees these plain scalars as ambiguous and quotes them. */
const yaml11Ambiguous = new Type('tag:metallb-ts,2026:yaml11-ambiguous', { kind: 'scalar', resolve: (data: unknown) => typeof data === 'string' && readsAsNonString(data) });

const OPTIONS: DumpOptions = {
  schema: DEFAULT_SCHEMA.extend({ implicit: [yaml11Ambiguous] }),
  sortKeys: compareBytes,
  noArrayIndent: true,
  lineWidth: -1,
  noRefs: true,
  quotingType: '"',
  // js-yaml's compat mode quotes every `digits:digits` (`65535:666` too); yaml.v2 only quotes real base-60 numbers,
  // which readsAsNonString already catches, so MetalLB's own output is matched more closely without it.
  noCompatMode: true,
};

/** Multi-document YAML: `header` comment lines, then each document, separated by `---`. */
export function dumpDocuments(documents: readonly object[], header: readonly string[] = []): string {
  const comments = header.map((line) => `# ${line}\n`).join('');
  return comments + documents.map((doc) => dumpDocument(doc)).join('---\n');
}

/** One YAML document for a map (a manifest), ending with a newline. */
export function dumpDocument(document: object): string {
  return dump(document, OPTIONS);
}

/** UTF-8 byte order, as Go sorts map keys; equal to UTF-16 order except around surrogates, hence spelled out. */
function compareBytes(a: string, b: string): number {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return Buffer.compare(x, y);
}
