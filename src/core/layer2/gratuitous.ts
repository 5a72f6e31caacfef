/**
 * MetalLB v0.11's gratuitous "spam" timing (spec §5.2, announcer.go spamLoop) as a reducer over a
 * per-IP stop time, in milliseconds of any monotonic clock:
 * - `announced(ip, now)`: stop time := now + 5000; burst at once only if the IP was not already in its window
 *   (a re-sync extends the window without an immediate burst);
 * - `tick(now)`, every 1100 ms: drop IPs whose window has passed; burst for the rest that are still owned.
 * Result ≈ bursts at t = 0, 1.1, 2.2, 3.3, 4.4 s per (re)announcement.
 * - `withdrawn(ip)`: the IP is no longer owned; it leaves the schedule, so taking it again bursts at once.
 *   Deviation from v0.11, which keeps it until its window ends: a node that gives an IP back (failback) and takes
 *   it again within 5 s (the next failover) then sends nothing until its next tick — up to 1.1 s during which the
 *   clients keep the dead owner's MAC.
 */

export const GRATUITOUS_WINDOW_MS = 5000;
export const GRATUITOUS_TICK_MS = 1100;

/** IP → time (ms) after which no more bursts are sent. */
export type GratuitousSchedule = ReadonlyMap<string, number>;

export function announced(schedule: GratuitousSchedule, ip: string, now: number): { schedule: GratuitousSchedule; burstNow: boolean } {
  const next = new Map(schedule);
  const burstNow = !schedule.has(ip);
  next.set(ip, now + GRATUITOUS_WINDOW_MS);
  return { schedule: next, burstNow };
}

export function tick(schedule: GratuitousSchedule, now: number, owned: (ip: string) => boolean): { schedule: GratuitousSchedule; burst: string[] } {
  const next = new Map<string, number>();
  const burst: string[] = [];
  for (const [ip, until] of schedule) {
    if (now > until) continue;
    next.set(ip, until);
    if (owned(ip)) burst.push(ip);
  }
  return { schedule: next, burst };
}

export function withdrawn(schedule: GratuitousSchedule, ip: string): GratuitousSchedule {
  if (!schedule.has(ip)) return schedule;
  const next = new Map(schedule);
  next.delete(ip);
  return next;
}
