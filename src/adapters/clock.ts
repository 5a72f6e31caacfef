/**
 * Time for adapters: a small injectable clock so queues, backoff and informer restarts can be tested with
 * a fake clock (test/helpers/fake-clock.ts) instead of waiting out real timers. Shared by controller and speaker.
 */

/** Milliseconds-based time source plus one-shot timers. */
export interface Clock {
  /** Milliseconds since an arbitrary fixed origin (monotonic for the real clock). */
  now(): number;
  /** Runs fn once after ms; returns a function that cancels it (idempotent). */
  setTimer(ms: number, fn: () => void): () => void;
}

/** The real clock: performance.now() and unref'd setTimeout, so pending retries never keep a process alive. */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, Math.max(0, ms));
    handle.unref();
    return () => clearTimeout(handle);
  },
};

/** Wall-clock time as an RFC 3339 string (log `ts`, Event timestamps). */
export function wallClockIso(): string {
  return new Date().toISOString();
}
