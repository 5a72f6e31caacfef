/**
 * Exponential backoff, one policy for every retry in MetalLB-ts: the work queue's per-key requeues, informer
 * restarts, and next BGP session reconnects and membership probes. Pure: callers own the timers.
 */

export interface BackoffOptions {
  /** First retry delay in ms (client-go's work queue: 5 ms). */
  readonly baseMs: number;
  /** Cap on the delay in ms (client-go: 1000 s; we cap lower so a recovered apiserver is retried promptly). */
  readonly maxMs: number;
}

/** The work queue's per-key policy: 5 ms doubling to 30 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 5, maxMs: 30_000 };

/** Delay in ms before retry number `failures` (1-based; 0 or less counts as 1): base·2^(failures-1), capped. */
export function backoffDelay(failures: number, options: BackoffOptions): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 40);
  return Math.min(options.baseMs * 2 ** exponent, options.maxMs);
}
