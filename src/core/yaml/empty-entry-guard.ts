/**
 * Works around a js-yaml 4.x bug: an empty block-sequence entry (a `-` alone on its line) followed by
 * a LESS-indented `-` entry makes js-yaml swallow that outer entry into the inner sequence:
 *
 *     address-pools:
 *     - name: a
 *       bgp-advertisements:
 *       - localpref: 100
 *       -                 <- empty entry
 *     - name: b           <- parsed as a third advertisement of pool a, not as pool b
 *
 * yaml.v2 (MetalLB), PyYAML and js-yaml 5 read pool b as a pool; js-yaml 5 dropped the `listener`
 * option the positioned loader needs, so we stay on 4.x and write such an entry as an explicit null
 * (`- ~`), which every YAML parser reads as the same empty item. `toOriginal` maps offsets in the
 * patched text back to the user's text, so every reported line:column stays exact.
 */

/** The text to parse and the way back to the original offsets. */
export interface GuardedText {
  readonly text: string;
  /** True when the text was patched. */
  readonly changed: boolean;
  /** Offset in `text` → offset in the original text. */
  toOriginal(offset: number): number;
}

const EMPTY_ENTRY = /^([ \t]*)-[ \t]*(#.*)?$/;
const INSERTED = ' ~';

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** Index of the next line that is neither blank nor a comment, or -1. */
function nextMeaningfulLine(lines: readonly string[], from: number): number {
  for (let i = from; i < lines.length; i++) {
    const trimmed = lines[i]!.trim();
    if (trimmed !== '' && !trimmed.startsWith('#')) return i;
  }
  return -1;
}

/** Patches every empty sequence entry that js-yaml 4 would mis-nest (see the file comment). */
export function guardEmptySequenceEntries(original: string): GuardedText {
  const lines = original.split('\n');
  /** Offsets (in the patched text) where INSERTED starts, ascending. */
  const insertions: number[] = [];
  let patchedOffset = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const match = EMPTY_ENTRY.exec(line.replace(/\r$/, ''));
    const next = match ? nextMeaningfulLine(lines, i + 1) : -1;
    if (match && next >= 0) {
      const nextLine = lines[next]!;
      const nextIsOuterEntry = indentOf(nextLine) < indentOf(line) && /^-(\s|$)/.test(nextLine.trimStart());
      if (nextIsOuterEntry) {
        const dashEnd = match[1]!.length + 1;
        insertions.push(patchedOffset + dashEnd);
        lines[i] = line.slice(0, dashEnd) + INSERTED + line.slice(dashEnd);
      }
    }
    patchedOffset += lines[i]!.length + 1;
  }
  if (insertions.length === 0) return { text: original, changed: false, toOriginal: (offset) => offset };
  return {
    text: lines.join('\n'),
    changed: true,
    toOriginal(offset: number): number {
      let shift = 0;
      for (const at of insertions) {
        if (offset <= at) break;
        // Inside an inserted " ~": point at the dash's end, where the empty entry is.
        if (offset < at + INSERTED.length) return at - shift;
        shift += INSERTED.length;
      }
      return offset - shift;
    },
  };
}
