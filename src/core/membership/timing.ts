/**
 * Timing formulas of the failure detector, from memberlist's documented behaviour and the Lifeguard paper
 * (Dadgar, Phillips, Currey: "Lifeguard: Local Health Awareness for More Accurate Failure Detection", 2018).
 * `n` is the number of members believed up, ourselves included. Durations in ms.
 */
import type { MembershipTiming } from './types.js';

/** Lower bound of a suspicion: suspicionMult × max(1, log10 n) × probeInterval. */
export function suspicionMinMs(t: MembershipTiming, n: number): number {
  return t.suspicionMult * Math.max(1, Math.log10(Math.max(1, n))) * t.probeIntervalMs;
}

/**
 * Independent confirmations that take a suspicion from its maximum down to its minimum: k, but at most the
 * n − 2 members other than the suspect and the accuser (0 in a 2-member cluster: the timeout is then the minimum).
 */
export function suspicionConfirmationsWanted(t: MembershipTiming, n: number): number {
  return Math.max(0, Math.min(t.suspicionConfirmations, n - 2));
}

/**
 * Lifeguard's dynamic suspicion timeout: starts at max and falls logarithmically with each independent
 * confirmation c, reaching min at c = k:  max − (max − min) × log(c + 1) / log(k + 1), floored at min.
 */
export function suspicionTimeoutMs(t: MembershipTiming, n: number, confirmations: number): number {
  const min = suspicionMinMs(t, n);
  const k = suspicionConfirmationsWanted(t, n);
  if (k < 1) return min;
  const max = min * t.suspicionMaxMult;
  const frac = Math.log(confirmations + 1) / Math.log(k + 1);
  return Math.max(min, Math.floor(max - (max - min) * frac));
}

/** How many times each update is piggybacked: retransmitMult × ceil(log10(n + 1)). */
export function retransmitLimit(t: MembershipTiming, n: number): number {
  return t.retransmitMult * Math.ceil(Math.log10(n + 1));
}

/**
 * Full state-sync interval. Each sync carries all n members, so past 32 members the interval grows by one
 * base interval per doubling (memberlist's pushPullScale), keeping the cluster's sync traffic sub-quadratic.
 */
export function pushPullIntervalMs(t: MembershipTiming, n: number): number {
  if (n <= 32) return t.pushPullIntervalMs;
  return t.pushPullIntervalMs * (1 + Math.ceil(Math.log2(n) - Math.log2(32)));
}

/**
 * Passive-liveness window, ms: a probe round passes over an alive member heard from within this long. It is
 * recentContactMult rounds, but at most 2 × (n − 1) rounds, so a member that pings each peer once per window sends
 * at most one ping every 2 rounds whatever n: 2 members keep a 2-round window (a 4-round one would cost them
 * 0.1 s of detection for packets they do not need to save), 3 members get 4 rounds.
 */
export function recentContactWindowMs(t: MembershipTiming, n: number): number {
  return Math.min(t.recentContactMult, 2 * Math.max(1, n - 1)) * t.probeIntervalMs;
}
