/**
 * The queue of updates (alive / suspect / dead) waiting to be piggybacked on outgoing packets. A newer
 * update about a member replaces older ones about it (suspicions are kept per accuser, so confirmations
 * travel); each update is sent at most `limit` times, least-sent first, as in SWIM's infection-style
 * dissemination, which reaches all members in O(log N) rounds.
 */
import { bodySize, messageSize, MAX_MESSAGES } from './codec.js';
import type { Message } from './types.js';

export interface Broadcast { readonly key: string; readonly name: string; readonly message: Message; readonly transmits: number }

function keyOf(m: Message): { key: string; name: string } | undefined {
  switch (m.type) {
    case 'alive': return { key: `${m.name}`, name: m.name };
    case 'dead': return { key: `${m.name}`, name: m.name };
    case 'suspect': return { key: `${m.name}\u0000${m.from}`, name: m.name };
    default: return undefined;
  }
}

/** Adds an update; alive and dead replace everything queued about the member, a suspect only its own accuser's. */
export function enqueue(queue: readonly Broadcast[], message: Message): Broadcast[] {
  const k = keyOf(message);
  if (!k) return [...queue];
  const replacesAll = message.type !== 'suspect';
  const kept = queue.filter((b) => (replacesAll ? b.name !== k.name : b.key !== k.key && !(b.name === k.name && b.message.type === 'alive')));
  kept.push({ key: k.key, name: k.name, message, transmits: 0 });
  return kept;
}

/**
 * Appends queued updates to `messages` while the body stays within `budget` bytes, least-sent (then newest)
 * first, and returns the queue with transmit counts raised and updates that reached `limit` removed.
 */
export function fill(queue: readonly Broadcast[], messages: Message[], budget: number, limit: number): { queue: Broadcast[]; messages: Message[] } {
  if (queue.length === 0) return { queue: [], messages };
  const out = [...messages];
  let size = bodySize(out);
  // Least-sent first, newest first among equals: a pass per transmit count (counts are ≤ limit, small),
  // cheaper than sorting the queue for every packet while a join floods it.
  const sent = new Set<number>();
  let full = false;
  for (let t = 0; t < limit && !full; t++) {
    for (let i = queue.length - 1; i >= 0; i--) {
      const b = queue[i]!;
      if (b.transmits !== t) continue;
      if (out.length >= MAX_MESSAGES) { full = true; break; }
      const add = messageSize(b.message);
      if (size + add > budget) { if (budget - size < 8) { full = true; break; } continue; }
      size += add;
      out.push(b.message);
      sent.add(i);
    }
  }
  if (sent.size === 0) return { queue: [...queue], messages: out };
  const next: Broadcast[] = [];
  queue.forEach((b, i) => {
    if (!sent.has(i)) { next.push(b); return; }
    if (b.transmits + 1 < limit) next.push({ ...b, transmits: b.transmits + 1 });
  });
  return { queue: next, messages: out };
}
