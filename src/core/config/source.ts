/**
 * Where a config payload's text came from, so error positions can point into the file the user
 * edited: a bare payload file maps 1:1; a ConfigMap's `data.config` block scalar (`config: |`)
 * maps payload line n to manifest line header+n and shifts columns by the block's indentation.
 */
import type { SourcePosition } from './types.js';
import { LineIndex } from '../yaml/nodes.js';

export type TextOrigin =
  /** The payload is the whole file. */
  | { readonly kind: 'file' }
  /** A literal block scalar whose first content line is `firstLine`, indented by `indent` columns. */
  | { readonly kind: 'block'; readonly firstLine: number; readonly indent: number }
  /** A quoted or folded scalar: positions cannot be mapped line by line, so all point at its start. */
  | { readonly kind: 'fixed'; readonly position: SourcePosition };

export const FILE_ORIGIN: TextOrigin = { kind: 'file' };

/** Maps payload offsets to positions in the original file. */
export class PositionMapper {
  private readonly index: LineIndex;
  private readonly origin: TextOrigin;

  constructor(payload: string, origin: TextOrigin) {
    this.index = new LineIndex(payload);
    this.origin = origin;
  }

  at(offset: number): SourcePosition {
    const local = this.index.at(offset);
    switch (this.origin.kind) {
      case 'file':
        return local;
      case 'block':
        return { line: this.origin.firstLine + local.line - 1, column: local.column + this.origin.indent };
      case 'fixed':
        return this.origin.position;
    }
  }
}
