/**
 * Finds the earliest-defined prefix that overlaps a new one, as MetalLB's linear scan over all
 * prefixes so far does, but in O(log n + overlaps) so 1,000 pools cost milliseconds. Stored
 * prefixes never overlap each other (the parser stops at the first overlap), so per family they
 * sort into disjoint intervals.
 */
import { type Cidr, cidrLast } from '../ip/index.js';

interface Stored {
  readonly first: bigint;
  readonly last: bigint;
  readonly order: number;
  readonly cidr: Cidr;
}

export class OverlapIndex {
  private readonly byFamily = new Map<number, Stored[]>([[4, []], [6, []]]);
  private count = 0;

  /** Index of the last stored interval starting at or before `value`, or -1. */
  private static floor(list: readonly Stored[], value: bigint): number {
    let lo = 0;
    let hi = list.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.first <= value) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  /** The earliest-added stored prefix overlapping `cidr`, if any. */
  firstOverlapping(cidr: Cidr): Cidr | undefined {
    const list = this.byFamily.get(cidr.base.family)!;
    const first = cidr.base.value;
    const last = cidrLast(cidr).value;
    let best: Stored | undefined;
    const at = OverlapIndex.floor(list, first);
    if (at >= 0 && list[at]!.last >= first) best = list[at];
    for (let i = at + 1; i < list.length && list[i]!.first <= last; i++) {
      if (!best || list[i]!.order < best.order) best = list[i];
    }
    return best?.cidr;
  }

  /** Adds a prefix that overlaps nothing stored. */
  add(cidr: Cidr): void {
    const list = this.byFamily.get(cidr.base.family)!;
    const stored: Stored = { first: cidr.base.value, last: cidrLast(cidr).value, order: this.count++, cidr };
    list.splice(OverlapIndex.floor(list, stored.first) + 1, 0, stored);
  }
}
