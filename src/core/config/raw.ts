/**
 * Stage 1 of config parsing, public for the migration tool: YAML text → typed RawConfig (the
 * payload's kebab-case keys, Go field types), with positions for every value.
 *
 *   strict: true  — MetalLB's `yaml.UnmarshalStrict`: unknown and duplicate keys are errors.
 *   strict: false — yaml.v2 `Unmarshal` (what upstream's migration tool uses): unknown keys are
 *                   dropped and duplicates resolved last-wins, each with a warning.
 * Type errors (a quoted number for an ASN, a list where a string belongs) are errors in both modes.
 */
import { loadYaml } from '../yaml/load.js';
import type { YamlNode } from '../yaml/nodes.js';
import { decodeDocument, findNode, type DecodeIssue } from './decode.js';
import { CONFIG_SCHEMA, type SchemaNode } from './schema.js';
import { checkShape, type ShapeIssue } from './shape.js';
import { FILE_ORIGIN, PositionMapper, type TextOrigin } from './source.js';
import type { RawConfig } from './raw-types.js';
import type { ConfigError, SourcePosition } from './types.js';

export type * from './raw-types.js';

export interface RawDecodeOptions {
  /** true: MetalLB's strict decoding; false: lenient (unknown keys dropped with a warning). */
  readonly strict: boolean;
  /** Where `text` sits in the file the user edited (default: it is the whole file). */
  readonly origin?: TextOrigin;
}

/** A source range, both ends inclusive-start/exclusive-end as positions. */
export interface SourceSpan {
  readonly start: SourcePosition;
  readonly end: SourcePosition;
}

export interface RawDecodeResult {
  /** The decoded payload; undefined when there are errors. An empty document gives `{}`. */
  readonly raw: RawConfig | undefined;
  readonly errors: readonly ConfigError[];
  readonly warnings: readonly ConfigError[];
  /** Position of the value at a JSON pointer (`/address-pools/0/name`), else of its nearest ancestor. */
  positionOf(path: string): SourcePosition | undefined;
  /** Span of the node at a JSON pointer (or nearest ancestor), for tools that underline. */
  spanOf(path: string): SourceSpan | undefined;
}

/** Decodes a ConfigMap payload (`data.config`) into a RawConfig. Never throws for bad input. */
export function decodeRawConfig(text: string, options: RawDecodeOptions): RawDecodeResult {
  const mapper = new PositionMapper(text, options.origin ?? FILE_ORIGIN);
  const loaded = loadYaml(text);
  if (!loaded.ok) {
    const { kind, message, offset } = loaded.error;
    const error: ConfigError = { kind, message, path: '', position: mapper.at(offset) };
    return resultOf(undefined, [error], [], mapper, undefined, options.strict);
  }
  const decoded = decodeDocument(loaded.root, CONFIG_SCHEMA as unknown as SchemaNode, options.strict);
  const locate = (issue: DecodeIssue | ShapeIssue): ConfigError => ({
    kind: issue.kind,
    message: issue.message,
    value: issue.value,
    path: issue.path,
    ...(issue.node ? { position: mapper.at(issue.node.start) } : {}),
  });
  const errors = decoded.errors.map(locate);
  const value = decoded.value ?? {};
  errors.push(...checkShape(value, loaded.root, options.strict).map(locate));
  errors.sort(byPosition);
  const raw = errors.length === 0 ? (value as RawConfig) : undefined;
  return resultOf(raw, errors, decoded.warnings.map(locate), mapper, loaded.root, options.strict);
}

function byPosition(a: ConfigError, b: ConfigError): number {
  const pa = a.position ?? { line: 0, column: 0 };
  const pb = b.position ?? { line: 0, column: 0 };
  return pa.line - pb.line || pa.column - pb.column;
}

function resultOf(
  raw: RawConfig | undefined,
  errors: ConfigError[],
  warnings: ConfigError[],
  mapper: PositionMapper,
  root: YamlNode | undefined,
  strict: boolean,
): RawDecodeResult {
  const nodeAt = (path: string): YamlNode | undefined => {
    for (let p = path; ; p = p.slice(0, p.lastIndexOf('/'))) {
      const located = findNode(root, p, strict);
      const node = located?.value ?? located?.key;
      if (node || p === '') return node;
    }
  };
  return {
    raw,
    errors,
    warnings,
    positionOf: (path) => {
      const node = nodeAt(path);
      return node ? mapper.at(node.start) : undefined;
    },
    spanOf: (path) => {
      const node = nodeAt(path);
      return node ? { start: mapper.at(node.start), end: mapper.at(node.end) } : undefined;
    },
  };
}
