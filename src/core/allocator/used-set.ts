/**
 * Ordered sets of addresses (as bigint values of one family) that answer "first free address at
 * or after v" and "used values in [lo, hi)" without visiting every address. This is what makes an
 * allocation from a /8 or an IPv6 /64 cost the same as from a /24: MetalLB walks addresses one by
 * one; we jump over whole runs of used addresses.
 */

/** Index of the last element of `sorted` that is <= v, or -1. */
function lastAtOrBelow(sorted: readonly bigint[], v: bigint): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= v) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/**
 * A set of values stored as maximal runs [start, end) (never two adjacent runs), so the end of
 * the run containing v is the first value >= v not in the set. Sequential first-fit allocation
 * keeps a handful of runs however many addresses are in use.
 */
export class RunSet {
  private readonly starts: bigint[] = [];
  private readonly ends: bigint[] = [];

  /** Number of runs (fragmentation), for tests and benchmarks. */
  get runCount(): number {
    return this.starts.length;
  }

  has(v: bigint): boolean {
    const i = lastAtOrBelow(this.starts, v);
    return i >= 0 && v < this.ends[i]!;
  }

  /** The smallest value >= v that is not in the set. */
  firstAbsentAtOrAfter(v: bigint): bigint {
    const i = lastAtOrBelow(this.starts, v);
    return i >= 0 && v < this.ends[i]! ? this.ends[i]! : v;
  }

  add(v: bigint): void {
    const i = lastAtOrBelow(this.starts, v);
    if (i >= 0 && v < this.ends[i]!) return;
    const joinsLeft = i >= 0 && this.ends[i] === v;
    const joinsRight = i + 1 < this.starts.length && this.starts[i + 1] === v + 1n;
    if (joinsLeft && joinsRight) {
      this.ends[i] = this.ends[i + 1]!;
      this.starts.splice(i + 1, 1);
      this.ends.splice(i + 1, 1);
    } else if (joinsLeft) {
      this.ends[i] = v + 1n;
    } else if (joinsRight) {
      this.starts[i + 1] = v;
    } else {
      this.starts.splice(i + 1, 0, v);
      this.ends.splice(i + 1, 0, v + 1n);
    }
  }

  delete(v: bigint): void {
    const i = lastAtOrBelow(this.starts, v);
    if (i < 0 || v >= this.ends[i]!) return;
    const start = this.starts[i]!;
    const end = this.ends[i]!;
    if (start === v && end === v + 1n) {
      this.starts.splice(i, 1);
      this.ends.splice(i, 1);
    } else if (start === v) {
      this.starts[i] = v + 1n;
    } else if (end === v + 1n) {
      this.ends[i] = v;
    } else {
      this.ends[i] = v;
      this.starts.splice(i + 1, 0, v + 1n);
      this.ends.splice(i + 1, 0, end);
    }
  }
}

/** A sorted set of values supporting ascending iteration from a lower bound. */
export class SortedValues {
  private readonly values: bigint[] = [];

  get size(): number {
    return this.values.length;
  }

  add(v: bigint): void {
    const i = lastAtOrBelow(this.values, v);
    if (i >= 0 && this.values[i] === v) return;
    this.values.splice(i + 1, 0, v);
  }

  delete(v: bigint): void {
    const i = lastAtOrBelow(this.values, v);
    if (i >= 0 && this.values[i] === v) this.values.splice(i, 1);
  }

  /** Values in [lo, hi), ascending. */
  *range(lo: bigint, hi: bigint): Generator<bigint> {
    for (let i = lastAtOrBelow(this.values, lo - 1n) + 1; i < this.values.length; i++) {
      const v = this.values[i]!;
      if (v >= hi) return;
      yield v;
    }
  }
}
