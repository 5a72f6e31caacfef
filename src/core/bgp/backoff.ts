/**
 * Connect retry backoff (spec §6.2, v0.11 internal/bgp/backoff.go): the first retry at once, then 1 s, 2 s,
 * 4 s … capped at 120 s. This is RFC 4271 §8.1.1's DampPeerOscillations IdleHoldTimer: a refusing or
 * flapping peer is retried ever more slowly, never in a busy loop.
 */

/** The cap of the backoff, in ms. */
export const MAX_BACKOFF_MS = 120_000;

/** Delay before reconnect attempt number `attempts` (0-based count of failures so far), in ms. */
export function backoffMs(attempts: number): number {
  if (attempts <= 0) return 0;
  if (attempts > 8) return MAX_BACKOFF_MS;
  return Math.min(1000 * 2 ** (attempts - 1), MAX_BACKOFF_MS);
}
