/**
 * One member's end of the wire (frame v2): what it seals frames with (its member id, epoch, salt and sequence
 * number, shared by UDP and TCP) and how it opens them (replay guard, then the sender id resolved to a name by its
 * MemberIds). The socket transport (src/adapters/membership/transport.ts) and the simulation
 * (src/testing/membership/sim.ts) both use it, so the simulated wire is the real one. Pure: the salt source and the
 * clock for a new epoch are injected.
 */
import { decodeFrame, encodeFrame, type Aead, type DropReason } from './frame.js';
import { MemberIds, memberId, type CollisionListener } from './member-id.js';
import { ReplayGuard } from './replay.js';
import type { MembershipAction, Message, Packet } from './types.js';

export interface FrameEndpointOptions {
  /** Our node name (its FNV-1a id goes in every header). */
  readonly name: string;
  /** Start time, ms since the Unix epoch (never lower after a restart: the receivers' replay ordering). */
  readonly epoch: number;
  /** A fresh random u32 per call: the salt of each epoch (nonce uniqueness under a shared key). */
  readonly salt: () => number;
  /** Wall clock, ms: a new epoch after 2^32 frames starts no earlier than now. */
  readonly now: () => number;
  /** undefined = unsealed frames (no key configured). */
  readonly aead?: Aead;
  readonly onCollision?: CollisionListener;
  /** Frames already sent in this epoch (default 0, a fresh start). */
  readonly sent?: number;
}

export type OpenResult =
  | { readonly ok: true; readonly packet: Packet }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

export class FrameEndpoint {
  readonly id: number;
  readonly ids: MemberIds;
  readonly replay = new ReplayGuard();
  private readonly aead: Aead | undefined;
  private readonly salts: () => number;
  private readonly now: () => number;
  private epoch: number;
  private salt: number;
  private seq = 0;

  constructor(o: FrameEndpointOptions) {
    this.id = memberId(o.name);
    this.ids = new MemberIds(o.name, o.onCollision);
    this.aead = o.aead;
    this.salts = o.salt;
    this.now = o.now;
    this.epoch = o.epoch;
    this.salt = o.salt() >>> 0;
    this.seq = o.sent ?? 0;
  }

  /** Our next frame carrying `messages`. */
  seal(messages: readonly Message[], channel: 'udp' | 'tcp'): Buffer {
    if (this.seq === 0xffffffff) {
      // 2^32 frames in one epoch (years at tens per second): a new epoch and salt rather than a wrapped seq, which
      // would reuse nonces and be taken for replays.
      this.epoch = Math.max(this.now(), this.epoch + 1);
      this.salt = this.salts() >>> 0;
      this.seq = 0;
    }
    this.seq++;
    return encodeFrame(messages, { id: this.id, epoch: this.epoch, salt: this.salt, seq: this.seq }, channel, this.aead);
  }

  /** A received frame as the detector takes it (sender resolved by MemberIds.resolve), or why it was dropped. */
  open(buf: Uint8Array, channel: 'udp' | 'tcp'): OpenResult {
    const r = decodeFrame(buf, channel, this.replay, this.aead);
    if (!r.ok) return r;
    return { ok: true, packet: this.ids.resolve(r.senderId, r.messages) };
  }

  /**
   * Follows the detector: learns the names of members it reported up or updated, and, now and then (amortised
   * O(1) per step), forgets names it no longer holds (`held`: its members, dead and left ones included).
   */
  follow(actions: readonly MembershipAction[], held: { readonly size: number; keys(): Iterable<string> }): void {
    this.ids.learnFrom(actions);
    if (this.ids.size > 2 * held.size + 64) this.ids.retain(held.keys());
  }
}
