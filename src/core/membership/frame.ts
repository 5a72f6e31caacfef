/**
 * The membership frame: what goes into one UDP datagram or one TCP message on port 7946. Pure; the AEAD
 * is injected (src/adapters/membership/crypto.ts implements it with node:crypto's AES-256-GCM), so this
 * file stays free of I/O and testable with golden bytes.
 *
 *   header (24 bytes, also the AEAD's associated data)
 *     0  magic   0xB7 0x4D      first byte > 13: hashicorp memberlist starts every UDP packet and TCP
 *                               stream with a message type 0–13 or an encryption version 0–1, so MetalLB's
 *                               own speakers (a mixed rollout) are told apart by the first byte
 *     2  version 1
 *     3  flags   bit 0 sealed (AEAD), bit 1 stream (TCP); other bits must be 0
 *     4  epoch   u64  sender's start time in ms (replay protection across restarts)
 *     12 salt    u32  random per sender start (nonce uniqueness when two senders share an epoch)
 *     16 seq     u32  per-sender frame counter shared by UDP and TCP (never reused within an epoch)
 *     20 length  u32  body length (ciphertext length when sealed, tag excluded)
 *   body, then the 12-byte tag when sealed.   Nonce (12 bytes) = header[8..20]: epoch's low 32 bits, salt, seq.
 *
 * TCP carries the same frames back to back; `length` (+ tag) delimits them.
 */
import { decodeBody, encodeBody } from './codec.js';
import { ReplayGuard } from './replay.js';
import type { Packet } from './types.js';

export const FRAME_MAGIC = [0xb7, 0x4d] as const;
export const FRAME_VERSION = 1;
export const HEADER_BYTES = 24;
/** GCM tag length (AEAD_AES_256_GCM_12, RFC 5282). */
export const TAG_BYTES = 12;
/** Largest body accepted (a push-pull of several thousand members fits). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
const FLAG_SEALED = 1;
const FLAG_STREAM = 2;
/** Highest first byte of a hashicorp memberlist packet or stream (message types 0–13; encryption versions 0–1). */
const MEMBERLIST_MAX_FIRST_BYTE = 13;

/** Authenticated encryption with associated data, e.g. AES-256-GCM. */
export interface Aead {
  /** Returns ciphertext || TAG_BYTES-byte tag. */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Returns the plaintext, or undefined if the tag does not verify under any known key. */
  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | undefined;
}

/** Why a frame was dropped. `foreign` = hashicorp memberlist (MetalLB's own speakers). */
export type DropReason = 'wrong-key' | 'truncated' | 'replayed' | 'malformed' | 'foreign';
export const DROP_REASONS: readonly DropReason[] = ['wrong-key', 'truncated', 'replayed', 'malformed', 'foreign'];

export type FrameDecodeResult =
  | { readonly ok: true; readonly packet: Packet; readonly bytes: number }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

/** Sender-side frame parameters: epoch and salt are fixed per start, seq increments per frame. */
export interface FrameSender {
  readonly epoch: number;
  readonly salt: number;
  readonly seq: number;
}

/**
 * Encodes (and seals, when `aead` is given) one frame.
 * @param channel 'tcp' sets the stream flag so a UDP frame cannot be replayed into a TCP connection's window.
 */
export function encodeFrame(packet: Packet, sender: FrameSender, channel: 'udp' | 'tcp', aead?: Aead): Buffer {
  const body = encodeBody(packet);
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = FRAME_MAGIC[0];
  header[1] = FRAME_MAGIC[1];
  header[2] = FRAME_VERSION;
  header[3] = (aead ? FLAG_SEALED : 0) | (channel === 'tcp' ? FLAG_STREAM : 0);
  header.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(sender.epoch))), 4);
  header.writeUInt32BE(sender.salt >>> 0, 12);
  header.writeUInt32BE(sender.seq >>> 0, 16);
  header.writeUInt32BE(body.length, 20);
  if (!aead) return Buffer.concat([header, body]);
  return Buffer.concat([header, aead.seal(header.subarray(8, 20), header, body)]);
}

/** Classification of the first bytes only: how long the whole frame is, for TCP framing. */
export type FramePeek =
  | { readonly ok: true; readonly frameBytes: number }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

/** Reads the header (if complete) and returns the total frame length; `truncated` if fewer than 24 bytes. */
export function peekFrame(buf: Uint8Array): FramePeek {
  if (buf.length === 0) return { ok: false, reason: 'truncated', detail: 'empty' };
  if (buf[0]! <= MEMBERLIST_MAX_FIRST_BYTE) return { ok: false, reason: 'foreign', detail: `first byte ${buf[0]}: hashicorp memberlist (MetalLB speaker)` };
  if (buf[0] !== FRAME_MAGIC[0] || (buf.length > 1 && buf[1] !== FRAME_MAGIC[1])) return { ok: false, reason: 'malformed', detail: 'bad magic' };
  if (buf.length < HEADER_BYTES) return { ok: false, reason: 'truncated', detail: `${buf.length}-byte header` };
  if (buf[2] !== FRAME_VERSION) return { ok: false, reason: 'malformed', detail: `version ${buf[2]}` };
  const flags = buf[3]!;
  if (flags & ~(FLAG_SEALED | FLAG_STREAM)) return { ok: false, reason: 'malformed', detail: `flags 0x${flags.toString(16)}` };
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const length = view.readUInt32BE(20);
  if (length > MAX_BODY_BYTES) return { ok: false, reason: 'malformed', detail: `body length ${length}` };
  return { ok: true, frameBytes: HEADER_BYTES + length + (flags & FLAG_SEALED ? TAG_BYTES : 0) };
}

/**
 * Decodes one whole frame; never throws. Order of checks: memberlist or not ours, header, length, key,
 * authentication, body, then replay (only authenticated frames move the window).
 * @param aead our key(s); undefined = no key configured (unsealed frames only, as v0.11 without a secret)
 * @param replay the receiver's replay state, updated on success
 */
export function decodeFrame(buf: Uint8Array, channel: 'udp' | 'tcp', replay: ReplayGuard, aead?: Aead): FrameDecodeResult {
  const peek = peekFrame(buf);
  if (!peek.ok) return peek;
  if (buf.length < peek.frameBytes) return { ok: false, reason: 'truncated', detail: `${buf.length} of ${peek.frameBytes} bytes` };
  if (buf.length > peek.frameBytes) return { ok: false, reason: 'malformed', detail: `${buf.length - peek.frameBytes} bytes after the frame` };
  const flags = buf[3]!;
  if (((flags & FLAG_STREAM) !== 0) !== (channel === 'tcp')) return { ok: false, reason: 'malformed', detail: `stream flag on ${channel}` };
  const header = buf.subarray(0, HEADER_BYTES);
  let body: Uint8Array;
  if (flags & FLAG_SEALED) {
    if (!aead) return { ok: false, reason: 'wrong-key', detail: 'sealed frame but no key configured' };
    const opened = aead.open(header.subarray(8, 20), header, buf.subarray(HEADER_BYTES));
    if (!opened) return { ok: false, reason: 'wrong-key', detail: 'authentication failed' };
    body = opened;
  } else {
    if (aead) return { ok: false, reason: 'wrong-key', detail: 'unsealed frame but a key is configured' };
    body = buf.subarray(HEADER_BYTES);
  }
  const decoded = decodeBody(body);
  if (!decoded.ok) return decoded;
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const epoch = Number(view.readBigUInt64BE(4));
  const verdict = replay.check(decoded.packet.sender, channel, epoch, view.readUInt32BE(12), view.readUInt32BE(16));
  if (verdict === 'replayed') return { ok: false, reason: 'replayed', detail: `from ${decoded.packet.sender}` };
  return { ok: true, packet: decoded.packet, bytes: buf.length };
}
