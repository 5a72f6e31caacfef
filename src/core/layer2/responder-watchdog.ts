/**
 * The responder host's watchdog on the speaker's main loop (issue 11: split brain on a frozen speaker).
 *
 * The responder host (src/adapters/layer2/responder-host-main.ts) is a child process that answers ARP/NDP by itself.
 * When the speaker's main process is frozen (SIGSTOP, an event loop stuck) gossip declares the node dead and a
 * successor announces its IPs, but the child would keep answering for them: two MACs for one IP until the speaker
 * resumes. (MetalLB v0.11 answers in-process: a frozen speaker is silent at once.) So the speaker sends the child a
 * heartbeat every RESPONDER_HEARTBEAT_MS and the child runs this reducer over the messages it gets:
 * - `heard(now, kind)` for every message from the speaker (`alive` heartbeat, `owned` full owned-set sync, `other`);
 * - `check(now)` at least every heartbeat: silent for ≥ muteAfterMs → `mute` (once): the child answers nothing,
 *   sends no burst or probe, reports no claim, keeps its captures open;
 * - muted, only a full owned-set sync (`owned`) unmutes — a heartbeat alone does not: the speaker, once it reads the
 *   child's `muted`, sends the set it owns *now* (after catching up, not the one it owned when it froze) and a
 *   gratuitous burst per owned IP.
 * Times are ms of any monotonic clock. The host must call `check` after reading the messages already queued to it
 * (a host that stalled itself would otherwise mute on heartbeats it has not read yet).
 */

/** How often the speaker's main loop sends the responder host a heartbeat, ms. */
export const RESPONDER_HEARTBEAT_MS = 100;

/**
 * Silence of the speaker's main loop after which the responder host mutes, ms. 1 s: at the default gossip timing
 * (100 ms probes, DEFAULT_TIMING) a silent member is declared dead in ≈ 0.4–0.75 s (bench/membership.ts,
 * docs/measurements/failover-issue11.md), so a main loop stalled 1 s has already been declared dead and a successor
 * answers for its IPs (the worst detection without packet loss is under 0.8 s, docs/design/membership.md); and a
 * loop that is merely slow (GC, a large resync; the soaks' worst loop lag with both cores busy was 78–165 ms) is
 * far from it. Without gossip the same 1 s: v0.11, whose responders run in
 * the speaker's process, falls silent at once when frozen.
 */
export const RESPONDER_MUTE_AFTER_MS = 1000;

/**
 * The mute threshold for a gossip probe interval (ms; undefined: gossip off): RESPONDER_MUTE_AFTER_MS, or 10 probe
 * intervals when that is longer — detection takes ≈ 3.5–5.5 probe intervals, so a slower `--ml-probe-interval` (e.g.
 * 1 s, v0.11's) must not mute a node gossip still holds alive, and nobody else answers for.
 */
export function responderMuteAfterMs(probeIntervalMs?: number): number {
  return Math.max(RESPONDER_MUTE_AFTER_MS, 10 * (probeIntervalMs ?? 0));
}

/** What the responder host got from the speaker: a heartbeat, a full owned-set sync, anything else. */
export type ParentMessageKind = 'alive' | 'owned' | 'other';

export interface ResponderWatchdog {
  /** When the last message from the speaker was read, ms. */
  readonly heardAt: number;
  /** Answering nothing until the next full owned-set sync. */
  readonly muted: boolean;
}

/** A fresh watchdog: the speaker counts as heard at `now` (it just forked the host). */
export function startWatchdog(now: number): ResponderWatchdog {
  return { heardAt: now, muted: false };
}

/** A message from the speaker was read at `now`. `unmute`: this message ends a mute (a full owned-set sync). */
export function heard(w: ResponderWatchdog, now: number, kind: ParentMessageKind): { watchdog: ResponderWatchdog; unmute: boolean } {
  const unmute = w.muted && kind === 'owned';
  return { watchdog: { heardAt: Math.max(w.heardAt, now), muted: w.muted && !unmute }, unmute };
}

/**
 * The periodic check at `now`. `mute`: this check starts a mute (true once per silence); `silentMs`: time since the
 * speaker was last heard.
 */
export function check(w: ResponderWatchdog, now: number, muteAfterMs = RESPONDER_MUTE_AFTER_MS): { watchdog: ResponderWatchdog; mute: boolean; silentMs: number } {
  const silentMs = Math.max(0, now - w.heardAt);
  const mute = !w.muted && silentMs >= muteAfterMs;
  return { watchdog: mute ? { ...w, muted: true } : w, mute, silentMs };
}
