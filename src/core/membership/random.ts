/**
 * mulberry32: the detector's seeded PRNG. Its 32-bit state lives in the detector state, so a run is
 * reproducible from its seed (simulation tests) and the core needs no ambient randomness.
 */

/** Returns [value in [0, 1), next state]. */
export function nextRandom(state: number): [number, number] {
  const a = (state + 0x6d2b79f5) >>> 0;
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [((t ^ (t >>> 14)) >>> 0) / 4294967296, a];
}
