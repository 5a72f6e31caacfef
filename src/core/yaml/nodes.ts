/**
 * Positioned YAML nodes: the decoder resolves every scalar by the type of the field it lands in
 * (as Go's yaml.v2 does), so it needs the scalar's literal text, whether it was plain or quoted,
 * and where it sits in the source. Offsets are UTF-16 indexes into the loaded text.
 */

/** Half-open source span [start, end) in UTF-16 offsets. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

interface NodeBase extends Span {
  /** Unique per load; also what the node stringifies to while js-yaml builds mappings. */
  readonly id: number;
  /** Number of nodes this node stands for once aliases are expanded (itself included). */
  readonly expandedSize: number;
}

/** A scalar: literal text plus how it was written. */
export interface ScalarNode extends NodeBase {
  readonly kind: 'scalar';
  readonly value: string;
  /** Plain (unquoted, not a block scalar): only plain scalars resolve to ints, bools, nulls. */
  readonly plain: boolean;
  /** Explicit tag, long form (`tag:yaml.org,2002:int`) or `!`; undefined when none was written. */
  readonly tag: string | undefined;
}

/** An empty node (`key:` with no value, `- ` with no item). */
export interface NullNode extends NodeBase {
  readonly kind: 'null';
}

export interface MapEntry {
  readonly key: YamlNode;
  readonly value: YamlNode;
}

export interface MapNode extends NodeBase {
  readonly kind: 'map';
  /** In source order, duplicates kept (the decoder reports them). */
  readonly entries: readonly MapEntry[];
}

export interface SeqNode extends NodeBase {
  readonly kind: 'seq';
  readonly items: readonly YamlNode[];
}

/** A `*name` reference; `target` is the anchored node itself (shared, not copied). */
export interface AliasNode extends NodeBase {
  readonly kind: 'alias';
  readonly target: Exclude<YamlNode, AliasNode>;
}

export type YamlNode = ScalarNode | NullNode | MapNode | SeqNode | AliasNode;

/** Follows an alias to the node it names. */
export function deref(node: YamlNode): Exclude<YamlNode, AliasNode> {
  return node.kind === 'alias' ? node.target : node;
}

/** 1-based line and column, as editors and compilers print them. */
export interface LineColumn {
  readonly line: number;
  readonly column: number;
}

/** Converts offsets to line/column with a binary search over line starts. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
    }
  }

  at(offset: number): LineColumn {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo]! + 1 };
  }
}
