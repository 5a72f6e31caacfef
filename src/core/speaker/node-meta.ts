/**
 * What a speaker tells the others about itself in its gossip metadata (issue 11): the MACs of its layer-2
 * interfaces, so that a speaker which finds another MAC answering for one of its IPs (split brain,
 * src/core/speaker/split-brain.ts) can name the node behind it.
 *
 * Bytes (≤ 512, the codec's MAX_META_BYTES): version u8 = 1, count u8, then count × 6 MAC octets. A newer
 * version, a short buffer or trailing bytes decode to undefined (the MACs are then simply unknown). Pure.
 */
import { formatMac, parseMac } from '../layer2/mac.js';

export const NODE_META_VERSION = 1;
/** MACs that fit: (512 − 2) / 6. */
export const MAX_META_MACS = 85;

export interface NodeMeta {
  /** Lower-case `aa:bb:cc:dd:ee:ff`, sorted, no duplicates. */
  readonly macs: readonly string[];
}

/** Encodes the MACs (invalid strings, duplicates and the all-zero MAC are left out; at most MAX_META_MACS). */
export function encodeNodeMeta(meta: NodeMeta): Uint8Array {
  const macs = [...new Set(meta.macs.map((m) => parseMac(m)).filter((m) => m !== undefined && m.some((b) => b !== 0)).map((m) => formatMac(m!)))]
    .sort().slice(0, MAX_META_MACS);
  const out = new Uint8Array(2 + 6 * macs.length);
  out[0] = NODE_META_VERSION;
  out[1] = macs.length;
  macs.forEach((m, i) => out.set(parseMac(m)!, 2 + 6 * i));
  return out;
}

/** Decodes metadata; undefined unless it is exactly a version-1 MAC list. */
export function decodeNodeMeta(bytes: Uint8Array): NodeMeta | undefined {
  if (bytes.length < 2 || bytes[0] !== NODE_META_VERSION) return undefined;
  const n = bytes[1]!;
  if (bytes.length !== 2 + 6 * n) return undefined;
  const macs: string[] = [];
  for (let i = 0; i < n; i++) macs.push(formatMac(bytes.subarray(2 + 6 * i, 8 + 6 * i)));
  return { macs };
}

/** MAC → node name over the members' metadata (a MAC claimed by two members maps to the first by name). */
export function nodesByMac(members: Iterable<{ readonly name: string; readonly meta: Uint8Array }>): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of [...members].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    for (const mac of decodeNodeMeta(m.meta)?.macs ?? []) if (!out.has(mac)) out.set(mac, m.name);
  }
  return out;
}
