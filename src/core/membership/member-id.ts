/**
 * Member ids: frame v2 names a frame's sender and a ping's target by a 32-bit hash of the member's node name
 * instead of the name itself (4 bytes instead of 1 + up to 253), and the receiver maps the id back to a name
 * from the members it knows. Pure.
 *
 * The id is FNV-1a 32-bit (Fowler–Noll–Vo, offset basis 2166136261, prime 16777619) over the name's UTF-8
 * bytes. It is not a secret and not collision-resistant against a chosen name, only well spread: node names
 * are chosen by the cluster's operator, and two of 200 nodes share an id with probability ≈ 200² / 2³³ ≈ 5·10⁻⁶.
 * A collision is logged (`memberIdCollision`) and the first name keeps the id (see MemberIds.learn).
 */
import type { MembershipAction, Message, Packet } from './types.js';

const encoder = new TextEncoder();

/** FNV-1a 32-bit of the UTF-8 bytes of `name`, an unsigned 32-bit integer. */
export function memberId(name: string): number {
  let h = 0x811c9dc5;
  for (const b of encoder.encode(name)) {
    h ^= b;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Called once per pair of distinct names that hash to the same id: `kept` keeps it, `other` is not resolved. */
export type CollisionListener = (id: number, kept: string, other: string) => void;

/**
 * id → node name for one member: itself, and every member the detector has reported up (member-up,
 * member-updated), kept after they die or leave. Resolves a decoded frame's sender id to the Packet the
 * detector takes (src/core/membership/detector.ts).
 */
export class MemberIds {
  readonly selfId: number;
  private readonly names = new Map<number, string>();
  private readonly collisions = new Set<string>();
  private readonly onCollision: CollisionListener;

  constructor(self: string, onCollision: CollisionListener = () => {}) {
    this.onCollision = onCollision;
    this.selfId = memberId(self);
    this.names.set(this.selfId, self);
  }

  /** Remembers `name` under its id; a second name with a taken id is reported once and not remembered. */
  learn(name: string): void {
    const id = memberId(name);
    const kept = this.names.get(id);
    if (kept === undefined) { this.names.set(id, name); return; }
    if (kept === name) return;
    const pair = `${kept}\u0000${name}`;
    if (this.collisions.has(pair)) return;
    this.collisions.add(pair);
    this.onCollision(id, kept, name);
  }

  /** Learns the names of members the detector reported up or updated in `actions`. */
  learnFrom(actions: readonly MembershipAction[]): void {
    for (const a of actions) if (a.kind === 'member-up' || a.kind === 'member-updated') this.learn(a.member.name);
  }

  nameOf(id: number): string | undefined { return this.names.get(id >>> 0); }

  /**
   * Forgets every name but ours and `keep` (the members the detector still holds, dead and left ones included, which
   * it forgets after deadRetentionMs): node names come and go with autoscaling, the table must not grow forever.
   */
  retain(keep: Iterable<string>): void {
    const self = this.names.get(this.selfId)!;
    const kept = new Map<number, string>([[this.selfId, self]]);
    for (const name of keep) { const id = memberId(name); if (this.names.get(id) === name) kept.set(id, name); }
    this.names.clear();
    for (const [id, name] of kept) this.names.set(id, name);
  }

  get size(): number { return this.names.size; }

  /**
   * The detector's view of a decoded frame. A known id gives its name. Otherwise an `alive` message or a
   * push-pull state in the packet whose name hashes to the id names the sender (a joiner's first push-pull, a
   * member's first ping that piggybacks its own alive). Otherwise the sender stays unknown (`sender`
   * undefined) and only what needs no sender is kept: pings (answered to the source address), alive
   * messages and push-pull states (names to learn); acks, nacks, ping-reqs, suspect and dead are dropped.
   */
  resolve(senderId: number, messages: readonly Message[]): Packet {
    const known = this.names.get(senderId >>> 0);
    if (known !== undefined) return { sender: known, messages };
    const named = nameInPacket(senderId >>> 0, messages);
    if (named !== undefined) return { sender: named, messages };
    return { sender: undefined, messages: messages.filter((m) => m.type === 'ping' || m.type === 'alive' || m.type === 'push-pull') };
  }
}

function nameInPacket(id: number, messages: readonly Message[]): string | undefined {
  for (const m of messages) {
    if (m.type === 'alive' && memberId(m.name) === id) return m.name;
    if (m.type === 'push-pull') for (const s of m.members) if (memberId(s.name) === id) return s.name;
  }
  return undefined;
}
