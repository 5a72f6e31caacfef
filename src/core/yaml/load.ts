/**
 * Loads YAML into positioned nodes (see nodes.ts) using js-yaml's parser with two tricks, so we
 * keep js-yaml's complete YAML syntax without its value resolution:
 *  - a schema with NO implicit types: every plain scalar stays text (tag `?`), and explicit tags
 *    (`!!int 5`) construct text too, so the decoder can resolve by the target field's type;
 *  - js-yaml's `listener`: on every node's `close` event we replace `state.result` with our node
 *    object, so the parent collection stores our node (with its span) instead of a bare value.
 *    Mapping keys stringify to a unique `\0<id>`, so js-yaml's own duplicate check never fires and
 *    the decoder reports duplicates itself, with positions.
 * Aliases share the anchored node; every node carries its alias-expanded size, so a billion-laughs
 * document is rejected here in O(nodes) before anything walks it.
 */
import { loadAll as jsYamlLoadAll, FAILSAFE_SCHEMA, Type, YAMLException } from 'js-yaml';
import type { MapEntry, NullNode, ScalarNode, YamlNode } from './nodes.js';
import { guardEmptySequenceEntries } from './empty-entry-guard.js';

/** Default budget of extra nodes that alias expansion may add to a document. */
export const DEFAULT_ALIAS_BUDGET = 100_000;

export interface LoadOptions {
  /** Extra nodes aliases may add once expanded (default DEFAULT_ALIAS_BUDGET). */
  readonly aliasBudget?: number;
}

/** A load failure: a message and the offset it points at. */
export interface LoadError {
  readonly kind: 'yaml-syntax' | 'yaml-alias-limit';
  readonly message: string;
  readonly offset: number;
}

export type LoadResult =
  | {
      readonly ok: true;
      /** The first document (what yaml.v2's Unmarshal reads); undefined for an empty stream. */
      readonly root: YamlNode | undefined;
      /** Every document of a `---`-separated stream (undefined for an empty one). */
      readonly documents: readonly (YamlNode | undefined)[];
      readonly nodeCount: number;
    }
  | { readonly ok: false; readonly error: LoadError };

const explicitScalarTags = ['bool', 'int', 'float', 'null', 'timestamp', 'binary', 'merge'].map(
  (name) =>
    new Type(`tag:yaml.org,2002:${name}`, {
      kind: 'scalar',
      resolve: () => true,
      construct: (data: unknown) => (data === null ? '' : String(data)),
    }),
);
/** Failsafe types (str, seq, map) plus text-constructing explicit scalar tags; no implicit types. */
const textOnlySchema = FAILSAFE_SCHEMA.extend(explicitScalarTags);

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * The one concrete node class: every node has the same fields (monomorphic, fast to build), and a
 * distinctive toString so js-yaml can use nodes as mapping keys.
 */
class BuiltNode {
  id = 0;
  kind = '';
  start = 0;
  end = 0;
  expandedSize = 1;
  value: string | undefined = undefined;
  plain: boolean | undefined = undefined;
  tag: string | undefined = undefined;
  entries: MapEntry[] | undefined = undefined;
  items: YamlNode[] | undefined = undefined;
  target: YamlNode | undefined = undefined;

  toString(): string {
    return `\u0000${this.id}`;
  }

  get [Symbol.toStringTag](): string {
    return 'YamlNode';
  }
}

function isNode(value: unknown): value is YamlNode {
  return value instanceof BuiltNode;
}

interface ListenerState {
  input: string;
  position: number;
  kind: string | null;
  tag: string | null;
  anchor: string | null;
  anchorMap: Record<string, unknown>;
  result: unknown;
}

/** Thrown inside the listener to abort loading; converted to a LoadError. */
class AbortLoad extends Error {
  readonly error: LoadError;
  constructor(error: LoadError) {
    super(error.message);
    this.error = error;
  }
}

/** Builds nodes for one load. */
class NodeBuilder {
  private nextId = 1;
  private readonly byId: YamlNode[] = [];
  count = 0;
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  make<T extends YamlNode>(fields: DistributiveOmit<T, 'id'>): T {
    const node = new BuiltNode();
    const f = fields as Partial<BuiltNode>;
    node.id = this.nextId++;
    node.kind = f.kind!;
    node.start = f.start!;
    node.end = f.end!;
    node.expandedSize = f.expandedSize!;
    node.value = f.value;
    node.plain = f.plain;
    node.tag = f.tag;
    node.entries = f.entries;
    node.items = f.items;
    node.target = f.target;
    this.byId[node.id] = node as unknown as YamlNode;
    this.count++;
    return node as unknown as T;
  }

  /** Moves every node's span through `map` (offsets of a patched text back to the user's text). */
  remapOffsets(map: (offset: number) => number): void {
    for (const node of this.byId) {
      if (!node) continue;
      const mutable = node as unknown as { start: number; end: number };
      mutable.start = map(mutable.start);
      mutable.end = Math.max(map(mutable.end), mutable.start + 1);
    }
  }

  nullAt(offset: number): NullNode {
    return this.make<NullNode>({ kind: 'null', start: offset, end: offset + 1, expandedSize: 1 });
  }

  /** The node a mapping key stringified to, or a synthetic scalar for keys js-yaml made itself. */
  keyNode(key: string, near: number): YamlNode {
    const node = key.charCodeAt(0) === 0 ? this.byId[Number(key.slice(1))] : undefined;
    if (node) return node;
    return this.make<ScalarNode>({
      kind: 'scalar', value: key, plain: true, tag: undefined, start: near, end: near + 1, expandedSize: 1,
    });
  }

  /** Offset of the first content character at or after `from` (skips spaces, newlines, comments, tag and anchor properties). */
  contentStart(from: number): number {
    const text = this.text;
    let i = from;
    for (;;) {
      while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
      const ch = text[i];
      if (ch === '#') {
        while (i < text.length && text[i] !== '\n') i++;
      } else if (ch === '!' || ch === '&') {
        while (i < text.length && !' \t\r\n'.includes(text[i]!)) i++;
      } else {
        return i;
      }
    }
  }

  /** `end` pulled back over trailing whitespace, never before `start`. */
  trimEnd(start: number, end: number): number {
    let e = end;
    while (e > start + 1 && ' \t\r\n'.includes(this.text[e - 1]!)) e--;
    return Math.max(e, start + 1);
  }

  /** Offset of the next `-` item indicator at or after `from` (for empty sequence items). */
  nextDash(from: number, limit: number): number {
    for (let i = from; i < limit; i++) {
      if (this.text[i] === '-' && ' \t\r\n'.includes(this.text[i + 1] ?? '\n')) return i;
    }
    return from;
  }
}

/** Loads a YAML stream into positioned nodes (see LoadResult). Never throws for bad input. */
export function loadYaml(originalText: string, options: LoadOptions = {}): LoadResult {
  const guarded = guardEmptySequenceEntries(originalText);
  const text = guarded.text;
  const builder = new NodeBuilder(text);
  const opens: number[] = [];
  const listener = (event: string, state: ListenerState): void => {
    if (event === 'open') {
      opens.push(state.position);
      return;
    }
    const openedAt = opens.pop() ?? 0;
    state.result = closeNode(builder, state, openedAt);
    if (state.anchor !== null && !isAliasResult(state)) state.anchorMap[state.anchor] = state.result;
  };
  let values: unknown[];
  try {
    values = jsYamlLoadAll(text, null, { schema: textOnlySchema, listener: listener as never });
  } catch (err) {
    if (err instanceof AbortLoad) return { ok: false, error: { ...err.error, offset: guarded.toOriginal(err.error.offset) } };
    if (err instanceof YAMLException) {
      const offset = guarded.toOriginal(err.mark?.position ?? 0);
      return { ok: false, error: { kind: 'yaml-syntax', message: err.reason || err.message, offset } };
    }
    if (err instanceof RangeError) {
      // Pathologically deep nesting overflows js-yaml's recursive descent.
      return { ok: false, error: { kind: 'yaml-syntax', message: 'document nested too deeply', offset: 0 } };
    }
    throw err;
  }
  if (guarded.changed) builder.remapOffsets(guarded.toOriginal);
  const documents = values.map((v) => (isNode(v) ? v : undefined));
  const budget = options.aliasBudget ?? DEFAULT_ALIAS_BUDGET;
  const expanded = documents.reduce((sum, doc) => sum + (doc?.expandedSize ?? 0), 0);
  if (expanded > builder.count + budget) {
    const worst = documents.reduce((a, b) => ((b?.expandedSize ?? 0) > (a?.expandedSize ?? 0) ? b : a));
    const error: LoadError = {
      kind: 'yaml-alias-limit',
      message:
        `aliases expand the document to more than ${builder.count + budget} nodes ` +
        `(${builder.count} written): refusing a "billion laughs" document`,
      offset: (worst && largestAlias(worst)?.start) ?? 0,
    };
    return { ok: false, error };
  }
  return { ok: true, root: documents[0], documents, nodeCount: builder.count };
}

function isAliasResult(state: ListenerState): boolean {
  return isNode(state.result) && state.result.kind === 'alias';
}

/** Turns js-yaml's result for a just-closed node into our node. */
function closeNode(builder: NodeBuilder, state: ListenerState, openedAt: number): YamlNode {
  const result = state.result;
  const start = builder.contentStart(openedAt);
  const isAliasText = state.input[start] === '*';
  if (isNode(result)) {
    // Either an alias (result = the anchored node) or js-yaml re-closing a node it already closed.
    if (!isAliasText || result.kind === 'alias') return result;
    return builder.make<YamlNode>({
      kind: 'alias', target: result, start, end: builder.trimEnd(start, state.position), expandedSize: result.expandedSize,
    });
  }
  if (isAliasText && result !== null) {
    throw new AbortLoad({ kind: 'yaml-syntax', message: 'an alias may not refer to the node that contains it', offset: start });
  }
  if (state.kind === 'mapping') return buildMap(builder, result as Record<string, unknown>, start, state.position);
  if (state.kind === 'sequence') return buildSeq(builder, result as unknown[], start, state.position);
  if (typeof result === 'string') {
    const tag = state.tag === '?' || state.tag === null ? undefined : state.tag;
    return builder.make<ScalarNode>({
      kind: 'scalar', value: result, plain: state.tag === '?', tag, start,
      end: builder.trimEnd(start, state.position), expandedSize: 1,
    });
  }
  return builder.nullAt(Math.min(start, state.position));
}

function buildMap(builder: NodeBuilder, raw: Record<string, unknown>, start: number, end: number): YamlNode {
  const entries: MapEntry[] = [];
  let size = 1;
  for (const key of Object.keys(raw)) {
    const keyNode = builder.keyNode(key, start);
    const rawValue = raw[key];
    const value = isNode(rawValue) ? rawValue : builder.nullAt(keyNode.end);
    size += keyNode.expandedSize + value.expandedSize;
    entries.push({ key: keyNode, value });
  }
  return builder.make<YamlNode>({ kind: 'map', entries, start, end: builder.trimEnd(start, end), expandedSize: size });
}

function buildSeq(builder: NodeBuilder, raw: unknown[], start: number, end: number): YamlNode {
  const items: YamlNode[] = [];
  let size = 1;
  let cursor = start;
  for (const item of raw) {
    const node = isNode(item) ? item : builder.nullAt(builder.nextDash(cursor, end));
    cursor = node.end;
    size += node.expandedSize;
    items.push(node);
  }
  return builder.make<YamlNode>({ kind: 'seq', items, start, end: builder.trimEnd(start, end), expandedSize: size });
}

/** The alias whose expansion is largest (where a billion-laughs error points). */
function largestAlias(root: YamlNode): YamlNode | undefined {
  let best: YamlNode | undefined;
  const seen = new Set<number>();
  const visit = (node: YamlNode): void => {
    if (seen.has(node.id)) return;
    seen.add(node.id);
    if (node.kind === 'alias') {
      if (!best || node.expandedSize > best.expandedSize) best = node;
      return;
    }
    if (node.kind === 'map') for (const e of node.entries) { visit(e.key); visit(e.value); }
    if (node.kind === 'seq') for (const item of node.items) visit(item);
  };
  visit(root);
  return best;
}
