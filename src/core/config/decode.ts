/**
 * Schema-directed decoding of positioned YAML into plain JSON values, the way Go's yaml.v2 fills
 * MetalLB's structs: each scalar is resolved by the type of the field it lands in (YAML 1.1
 * rules), nulls leave fields at their zero value, duplicate keys are errors. Values that cannot
 * fill their field are kept in a form the JSON Schema rejects, so ajv reports every shape error
 * in one pass. Every decoded value and key is indexed by JSON pointer for error positions.
 */
import { type MapEntry, type MapNode, type YamlNode, deref } from '../yaml/nodes.js';
import { resolveScalar, toGoBool, toGoInteger, toGoString, type GoIntKind } from '../yaml/resolve.js';
import { type SchemaNode, resolveRef } from './schema.js';

/** A problem found while decoding, pointing at a node. */
export interface DecodeIssue {
  readonly kind: 'duplicate-key' | 'unknown-key' | 'complex-key';
  readonly message: string;
  readonly value: string;
  readonly path: string;
  readonly node: YamlNode;
}

export interface Decoded {
  /** The decoded document (undefined for an empty document). */
  readonly value: unknown;
  readonly errors: readonly DecodeIssue[];
  readonly warnings: readonly DecodeIssue[];
}

/** JSON-pointer escaping of one path segment (RFC 6901), as ajv's instancePath uses. */
export function pointerSegment(key: string | number): string {
  const text = String(key);
  return text.includes('~') || text.includes('/') ? text.replaceAll('~', '~0').replaceAll('/', '~1') : text;
}

/** The YAML nodes behind a JSON pointer: the value and, inside a mapping, its key. */
export interface LocatedNode {
  readonly value: YamlNode | undefined;
  readonly key: YamlNode | undefined;
}

/**
 * Walks the YAML tree along a JSON pointer (computed on demand, so decoding keeps no index).
 * With duplicate keys, the entry decoding used wins (first when strict, last when lenient), else
 * any entry through which the whole path resolves. Undefined when the path leaves the tree.
 */
export function findNode(root: YamlNode | undefined, path: string, strict: boolean): LocatedNode | undefined {
  if (root === undefined) return undefined;
  const segments = path === '' ? [] : path.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  return walk({ value: root, key: undefined }, segments, 0, strict);
}

function walk(located: LocatedNode, segments: readonly string[], at: number, strict: boolean): LocatedNode | undefined {
  if (at === segments.length) return located;
  const segment = segments[at]!;
  const node = located.value ? deref(located.value) : undefined;
  if (node?.kind === 'seq') {
    const item = /^\d+$/.test(segment) ? node.items[Number(segment)] : undefined;
    return item === undefined ? undefined : walk({ value: item, key: undefined }, segments, at + 1, strict);
  }
  if (node?.kind !== 'map') return undefined;
  const count = node.entries.length;
  for (let n = 0; n < count; n++) {
    const entry: MapEntry = node.entries[strict ? n : count - 1 - n]!;
    const k = deref(entry.key);
    if ((k.kind === 'scalar' ? k.value : k.kind === 'null' ? '' : undefined) !== segment) continue;
    const found = walk({ value: entry.value, key: entry.key }, segments, at + 1, strict);
    if (found) return found;
  }
  return undefined;
}

class Decoder {
  readonly errors: DecodeIssue[] = [];
  readonly warnings: DecodeIssue[] = [];
  private readonly strict: boolean;

  constructor(strict: boolean) {
    this.strict = strict;
  }

  /** Decodes `node` for a field of `schema`; undefined = the field keeps its zero value. */
  decode(node: YamlNode, schemaRef: SchemaNode, path: string): unknown {
    const schema = resolveRef(schemaRef);
    const target = deref(node);
    if (target.kind === 'null') return undefined;
    if (target.kind === 'scalar') {
      const resolved = resolveScalar(target);
      if (resolved.tag === '!!null') return undefined;
      switch (schema.type) {
        case 'string':
          return toGoString(target, resolved);
        case 'boolean':
          return toGoBool(resolved) ?? target.value;
        case 'integer':
          return this.integer(target.value, resolved, schema);
        default:
          return target.value; // a scalar where a list or mapping belongs: the schema says so
      }
    }
    if (target.kind === 'seq') {
      if (schema.type !== 'array' || !schema.items) return [];
      const items = schema.items;
      return target.items.map((item, i) => this.decode(item, items, `${path}/${i}`) ?? zeroOf(items));
    }
    if (schema.type !== 'object') return {};
    return schema.properties ? this.struct(target, schema, path) : this.map(target, schema, path);
  }

  private integer(text: string, resolved: ReturnType<typeof resolveScalar>, schema: SchemaNode): unknown {
    const kind = (schema['x-go-type'] ?? 'int') as GoIntKind;
    const value = toGoInteger(resolved, kind);
    if (value !== undefined) return Number(value);
    // Out of range numbers stay numbers (the schema's bounds report them); anything else stays text.
    if (resolved.tag === '!!int') return Number(resolved.value);
    if (resolved.tag === '!!float' && Number.isFinite(resolved.value)) return Math.trunc(resolved.value);
    return text;
  }

  /** Entries of a mapping with text keys, reporting duplicates and non-scalar keys. */
  private keys(node: MapNode, path: string): { key: string; keyNode: YamlNode; value: YamlNode }[] {
    const out: { key: string; keyNode: YamlNode; value: YamlNode }[] = [];
    const seen = new Set<string>();
    for (const entry of node.entries) {
      const keyTarget = deref(entry.key);
      if (keyTarget.kind !== 'scalar' && keyTarget.kind !== 'null') {
        this.errors.push({ kind: 'complex-key', message: 'mapping keys must be scalars', value: '', path, node: entry.key });
        continue;
      }
      const key = keyTarget.kind === 'scalar' ? keyTarget.value : '';
      if (seen.has(key)) {
        const issue: DecodeIssue = {
          kind: 'duplicate-key', message: `key ${JSON.stringify(key)} already set in map`, value: key,
          path: `${path}/${pointerSegment(key)}`, node: entry.key,
        };
        (this.strict ? this.errors : this.warnings).push(issue);
        if (this.strict) continue;
      }
      seen.add(key);
      out.push({ key, keyNode: entry.key, value: entry.value });
    }
    return out;
  }

  private struct(node: MapNode, schema: SchemaNode, path: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const { key, keyNode, value } of this.keys(node, path)) {
      const childPath = `${path}/${pointerSegment(key)}`;
      const field = Object.hasOwn(schema.properties!, key) ? schema.properties![key] : undefined;
      if (field === undefined) {
        if (!this.strict) {
          const message = `field ${key} not found in type ${schema['x-go-type'] ?? 'object'} (ignored)`;
          this.warnings.push({ kind: 'unknown-key', message, value: key, path: childPath, node: keyNode });
          continue;
        }
        // Kept so the schema's additionalProperties reports it with every other shape error.
        defineValue(out, key, deref(value).kind === 'scalar' ? '' : {});
        continue;
      }
      const decoded = this.decode(value, field, childPath);
      if (decoded !== undefined) out[key] = decoded; // a schema property name, never __proto__
      else delete out[key]; // lenient duplicate: a later null resets the field
    }
    return out;
  }

  private map(node: MapNode, schema: SchemaNode, path: string): Record<string, unknown> {
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    const valueSchema = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : {};
    for (const { key, value } of this.keys(node, path)) {
      // A null-prototype object: even a `__proto__` key is just an own property.
      out[key] = this.decode(value, valueSchema, `${path}/${pointerSegment(key)}`) ?? zeroOf(valueSchema);
    }
    return out;
  }
}

/** Assigns without ever touching a prototype (a key may be `__proto__`). */
function defineValue(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Go's zero value for an element of a list or map (a null item still occupies its slot). */
function zeroOf(schemaRef: SchemaNode): unknown {
  const schema = resolveRef(schemaRef);
  switch (schema.type) {
    case 'string': return '';
    case 'integer': return 0;
    case 'boolean': return false;
    case 'array': return [];
    default: return {};
  }
}

/** Decodes a whole document against the config schema (root path ""). */
export function decodeDocument(root: YamlNode | undefined, schema: SchemaNode, strict: boolean): Decoded {
  const decoder = new Decoder(strict);
  const value = root === undefined ? undefined : decoder.decode(root, schema, '');
  return { value, errors: decoder.errors, warnings: decoder.warnings };
}
