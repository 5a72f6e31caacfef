/**
 * A small block-style YAML writer for Kubernetes manifests, shaped like the output of MetalLB's converter
 * (sigs.k8s.io/yaml over yaml.v2): keys sorted bytewise, lists not indented under their key, strings
 * double-quoted only when a YAML 1.1 or 1.2 reader (kubectl's or js-yaml) could read them as something
 * other than that string. Deterministic, so golden files can be written by hand.
 */

export type YamlValue = string | number | boolean | readonly YamlValue[] | { readonly [key: string]: YamlValue };

const INDENT = '  ';

/** Multi-document YAML: `header` comment lines, then each document, separated by `---`. */
export function emitDocuments(documents: readonly object[], header: readonly string[] = []): string {
  const comments = header.map((line) => `# ${line}\n`).join('');
  return comments + documents.map((doc) => emitDocument(doc)).join('---\n');
}

/** One YAML document for a map (a manifest). */
export function emitDocument(document: object): string {
  return emitMap(document as { readonly [key: string]: YamlValue }, 0).map((line) => `${line}\n`).join('');
}

function emitMap(map: { readonly [key: string]: YamlValue }, depth: number): string[] {
  const pad = INDENT.repeat(depth);
  const lines: string[] = [];
  for (const key of Object.keys(map).sort(compareBytes)) {
    const value = map[key];
    if (value === undefined) continue;
    const head = `${pad}${scalar(key)}:`;
    if (isList(value)) {
      if (value.length === 0) lines.push(`${head} []`);
      else lines.push(head, ...emitList(value, depth));
    } else if (isMap(value)) {
      if (Object.keys(value).length === 0) lines.push(`${head} {}`);
      else lines.push(head, ...emitMap(value, depth + 1));
    } else {
      lines.push(`${head} ${scalar(value)}`);
    }
  }
  return lines;
}

/** Items start with `- ` at the parent key's indentation (yaml.v2 style); a map item continues below. */
function emitList(list: readonly YamlValue[], depth: number): string[] {
  const pad = INDENT.repeat(depth);
  const lines: string[] = [];
  for (const item of list) {
    if (isList(item)) throw new Error('bug: nested lists are not used in manifests');
    if (isMap(item)) {
      if (Object.keys(item).length === 0) {
        lines.push(`${pad}- {}`);
        continue;
      }
      const [first = '', ...rest] = emitMap(item, depth + 1);
      lines.push(`${pad}- ${first.slice(pad.length + INDENT.length)}`, ...rest);
    } else {
      lines.push(`${pad}- ${scalar(item)}`);
    }
  }
  return lines;
}

function isList(value: YamlValue): value is readonly YamlValue[] {
  return Array.isArray(value);
}

function isMap(value: YamlValue): value is { readonly [key: string]: YamlValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function scalar(value: string | number | boolean): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`bug: non-integer number ${value} in a manifest`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return needsQuotes(value) ? JSON.stringify(value) : value;
}

/** Words YAML 1.1 (kubectl) or 1.2 (js-yaml) read as booleans or null. */
const KEYWORDS = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~)$/;
/** Forms YAML 1.1 or 1.2 read as numbers (ints in any base, floats, yaml.v2's base 60) or timestamps. */
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
];
/** Plain scalars: start with a letter, digit, `.` or `/`, then only characters that are never syntax. */
const SAFE_PLAIN = /^[A-Za-z0-9./][A-Za-z0-9._/:+@=-]*$/;

/** True when a string must be double-quoted to read back as the same string. */
export function needsQuotes(text: string): boolean {
  if (!SAFE_PLAIN.test(text)) return true;
  if (text.endsWith(':') || text.includes(': ')) return true;
  return KEYWORDS.test(text) || NUMBER_LIKE.some((re) => re.test(text));
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
