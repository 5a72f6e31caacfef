/**
 * Replay protection for membership frames: per sender member id (frame v2's header field; and per channel, UDP or
 * TCP), the sender's epoch
 * (its start time in ms, never lower after a restart) and a 64-packet sliding window over its sequence
 * numbers, as in IPsec's anti-replay window (RFC 4303 §3.4.3). Checked only after a frame authenticated,
 * so an attacker cannot move a window without the key. Pure: no clock, no I/O.
 */

interface Window { epoch: number; salt: number; top: number; bits: bigint }

const WINDOW = 64n;
const MASK = (1n << WINDOW) - 1n;

/** Verdict of one (sender, epoch, salt, seq) tuple. */
export type ReplayVerdict = 'fresh' | 'replayed';

export class ReplayGuard {
  /** Key: member id × 2 + (1 for TCP). */
  private readonly windows = new Map<number, Window>();

  /** @param maxSenders windows kept; the least recently refreshed is forgotten beyond it. */
  private readonly maxSenders: number;
  constructor(maxSenders = 4096) { this.maxSenders = maxSenders; }

  /**
   * Records and judges one frame. An older epoch, the same epoch with another salt, a sequence number
   * 64 or more behind the highest seen, or one already seen is `replayed`; a newer epoch resets the window.
   */
  check(senderId: number, channel: 'udp' | 'tcp', epoch: number, salt: number, seq: number): ReplayVerdict {
    const key = (senderId >>> 0) * 2 + (channel === 'tcp' ? 1 : 0);
    const w = this.windows.get(key);
    if (!w || epoch > w.epoch) {
      this.remember(key, { epoch, salt, top: seq, bits: 1n });
      return 'fresh';
    }
    if (epoch < w.epoch || salt !== w.salt) return 'replayed';
    if (seq > w.top) {
      const shift = BigInt(seq - w.top);
      w.bits = shift >= WINDOW ? 1n : ((w.bits << shift) | 1n) & MASK;
      w.top = seq;
      this.remember(key, w);
      return 'fresh';
    }
    const behind = BigInt(w.top - seq);
    if (behind >= WINDOW) return 'replayed';
    const bit = 1n << behind;
    if (w.bits & bit) return 'replayed';
    w.bits |= bit;
    return 'fresh';
  }

  /** Senders currently tracked (for tests and metrics). */
  get size(): number {
    return this.windows.size;
  }

  private remember(key: number, w: Window): void {
    this.windows.delete(key);
    this.windows.set(key, w);
    if (this.windows.size > this.maxSenders) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
  }
}
