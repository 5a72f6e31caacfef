/**
 * The membership frame, version 2: what goes into one UDP datagram or one TCP message on port 7946. Pure; the
 * AEAD is injected (src/adapters/membership/crypto.ts implements it with node:crypto's AES-256-GCM, 12-byte tag),
 * so this file stays free of I/O and testable with golden bytes. docs/design/membership.md has the byte budget.
 *
 *   header (20 bytes on UDP, 24 on TCP; all of it is the AEAD's associated data)
 *     0  magic   0xB7           first byte > 13: hashicorp memberlist starts every UDP packet and TCP stream with a
 *                               message type 0–13 or an encryption version 0–1, so MetalLB's own speakers (a mixed
 *                               rollout) are told apart by the first byte
 *     1  version:4 (= 2) | flags:4   flags bit 0 sealed (AEAD), bit 1 stream (TCP); bits 2–3 must be 0
 *     2  sender  u32  member id: FNV-1a 32 of the sender's node name (member-id.ts); the receiver maps it to a name
 *     6  epoch   u48  sender's start time, ms since the Unix epoch (replay ordering across restarts)
 *     12 salt    u32  random per sender start (nonce uniqueness, see below)
 *     16 seq     u32  per-sender frame counter shared by UDP and TCP (never reused within an epoch and salt)
 *     20 length  u32  TCP only (stream flag): body length (ciphertext length when sealed, tag excluded); a UDP
 *                     datagram's body is the rest of the datagram
 *   body (codec.ts: at least one message), then the 12-byte tag when sealed.
 *   Nonce (12 bytes) = header[8..20]: the epoch's low 32 bits, salt, seq.
 *
 * A v1 frame (0xB7 0x4D, version byte 1 at offset 2) is `malformed` with detail "version 1". TCP carries the same
 * frames back to back; `length` (+ tag) delimits them.
 */
import { decodeBody, encodeBody } from './codec.js';
import { ReplayGuard } from './replay.js';
import type { Message } from './types.js';

export const FRAME_MAGIC = 0xb7;
export const FRAME_VERSION = 2;
/** Header bytes by channel: the TCP header adds the body length. */
export const HEADER_BYTES = { udp: 20, tcp: 24 } as const;
/** GCM tag length (AEAD_AES_256_GCM_12, RFC 5282). */
export const TAG_BYTES = 12;
/** Largest body accepted (a push-pull of several thousand members fits). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
const FLAG_SEALED = 1;
const FLAG_STREAM = 2;
/** Second byte of every v1 frame (0xB7 0x4D magic), whose version nibble would read 4. */
const V1_SECOND_BYTE = 0x4d;
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

/** A decoded frame: the sender's member id (resolve it with MemberIds.resolve) and its messages. */
export type FrameDecodeResult =
  | { readonly ok: true; readonly senderId: number; readonly messages: Message[]; readonly bytes: number }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

/** Sender-side frame parameters: id, epoch and salt are fixed per start, seq increments per frame. */
export interface FrameSender {
  /** memberId(node name). */
  readonly id: number;
  /** ms since the Unix epoch, < 2^48. */
  readonly epoch: number;
  readonly salt: number;
  readonly seq: number;
}

/**
 * Encodes (and seals, when `aead` is given) one frame of 1 to MAX_MESSAGES messages.
 * @param channel 'tcp' sets the stream flag (so a UDP frame cannot be replayed into a TCP connection's window)
 *   and adds the length field.
 */
export function encodeFrame(messages: readonly Message[], sender: FrameSender, channel: 'udp' | 'tcp', aead?: Aead): Buffer {
  const body = encodeBody(messages);
  const header = Buffer.alloc(HEADER_BYTES[channel]);
  header[0] = FRAME_MAGIC;
  header[1] = (FRAME_VERSION << 4) | (aead ? FLAG_SEALED : 0) | (channel === 'tcp' ? FLAG_STREAM : 0);
  header.writeUInt32BE(sender.id >>> 0, 2);
  header.writeUIntBE(Math.min(2 ** 48 - 1, Math.max(0, Math.floor(sender.epoch))), 6, 6);
  header.writeUInt32BE(sender.salt >>> 0, 12);
  header.writeUInt32BE(sender.seq >>> 0, 16);
  if (channel === 'tcp') header.writeUInt32BE(body.length, 20);
  if (!aead) return Buffer.concat([header, body]);
  return Buffer.concat([header, aead.seal(header.subarray(8, 20), header, body)]);
}

/** Classification of the first bytes only: how long the whole frame is, for TCP framing. */
export type FramePeek =
  | { readonly ok: true; readonly frameBytes: number }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

/**
 * Checks magic, version and flags as soon as their bytes are there, then the header. On TCP returns the total
 * frame length from the length field; on UDP the frame is the whole datagram (`buf.length`).
 * `truncated` while the header is incomplete.
 */
export function peekFrame(buf: Uint8Array, channel: 'udp' | 'tcp' = 'tcp'): FramePeek {
  if (buf.length === 0) return { ok: false, reason: 'truncated', detail: 'empty' };
  if (buf[0]! <= MEMBERLIST_MAX_FIRST_BYTE) return { ok: false, reason: 'foreign', detail: `first byte ${buf[0]}: hashicorp memberlist (MetalLB speaker)` };
  if (buf[0] !== FRAME_MAGIC) return { ok: false, reason: 'malformed', detail: 'bad magic' };
  if (buf.length < 2) return { ok: false, reason: 'truncated', detail: '1-byte header' };
  const version = buf[1]! >> 4;
  if (version !== FRAME_VERSION) {
    if (buf[1] === V1_SECOND_BYTE) return { ok: false, reason: 'malformed', detail: buf.length > 2 ? `version ${buf[2]}` : 'version 1' };
    return { ok: false, reason: 'malformed', detail: `version ${version}` };
  }
  const flags = buf[1]! & 0x0f;
  if (flags & ~(FLAG_SEALED | FLAG_STREAM)) return { ok: false, reason: 'malformed', detail: `flags 0x${flags.toString(16)}` };
  if (((flags & FLAG_STREAM) !== 0) !== (channel === 'tcp')) return { ok: false, reason: 'malformed', detail: `stream flag on ${channel}` };
  const headerBytes = HEADER_BYTES[channel];
  if (buf.length < headerBytes) return { ok: false, reason: 'truncated', detail: `${buf.length}-byte header` };
  if (channel === 'udp') return { ok: true, frameBytes: buf.length };
  const length = ((buf[20]! << 24) | (buf[21]! << 16) | (buf[22]! << 8) | buf[23]!) >>> 0;
  if (length === 0) return { ok: false, reason: 'malformed', detail: 'empty body' };
  if (length > MAX_BODY_BYTES) return { ok: false, reason: 'malformed', detail: `body length ${length}` };
  return { ok: true, frameBytes: headerBytes + length + (flags & FLAG_SEALED ? TAG_BYTES : 0) };
}

/**
 * Decodes one whole frame; never throws. Order of checks: memberlist or not ours, header, length, key,
 * authentication, body, then replay (only authenticated frames move the window, keyed by sender id).
 * @param aead our key(s); undefined = no key configured (unsealed frames only, as v0.11 without a secret)
 * @param replay the receiver's replay state, updated on success
 */
export function decodeFrame(buf: Uint8Array, channel: 'udp' | 'tcp', replay: ReplayGuard, aead?: Aead): FrameDecodeResult {
  const peek = peekFrame(buf, channel);
  if (!peek.ok) return peek;
  if (buf.length < peek.frameBytes) return { ok: false, reason: 'truncated', detail: `${buf.length} of ${peek.frameBytes} bytes` };
  if (buf.length > peek.frameBytes) return { ok: false, reason: 'malformed', detail: `${buf.length - peek.frameBytes} bytes after the frame` };
  const sealed = (buf[1]! & FLAG_SEALED) !== 0;
  const headerBytes = HEADER_BYTES[channel];
  const header = buf.subarray(0, headerBytes);
  const rest = buf.subarray(headerBytes);
  let body: Uint8Array;
  if (sealed) {
    if (rest.length < TAG_BYTES) return { ok: false, reason: 'truncated', detail: `${rest.length} bytes after the header, less than a tag` };
    if (rest.length === TAG_BYTES) return { ok: false, reason: 'malformed', detail: 'empty body' };
    if (!aead) return { ok: false, reason: 'wrong-key', detail: 'sealed frame but no key configured' };
    const opened = aead.open(header.subarray(8, 20), header, rest);
    if (!opened) return { ok: false, reason: 'wrong-key', detail: 'authentication failed' };
    body = opened;
  } else {
    if (rest.length === 0) return { ok: false, reason: 'malformed', detail: 'empty body' };
    if (aead) return { ok: false, reason: 'wrong-key', detail: 'unsealed frame but a key is configured' };
    body = rest;
  }
  const decoded = decodeBody(body);
  if (!decoded.ok) return decoded;
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const senderId = view.readUInt32BE(2);
  const verdict = replay.check(senderId, channel, view.readUIntBE(6, 6), view.readUInt32BE(12), view.readUInt32BE(16));
  if (verdict === 'replayed') return { ok: false, reason: 'replayed', detail: `from member id ${senderId.toString(16).padStart(8, '0')}` };
  return { ok: true, senderId, messages: decoded.messages, bytes: buf.length };
}
