/**
 * BFD Control packet codec (RFC 5880 §4.1) with the stateless reception checks of §6.8.6.
 *
 * Pure functions over Buffer. Decoding never throws: a packet that fails a check is a value
 * `{ ok: false, reason }` with one of {@link DropReason}, so the caller can count it.
 *
 * Authentication (§4.2–§4.4, §6.7): MetalLB's `bfd-profiles` have no key, so this implementation never
 * uses authentication (bfd.AuthType = 0). By §6.8.6 a packet with the A bit set while no authentication is
 * in use MUST be discarded; we still parse the Authentication Section's header first, so a malformed one is
 * counted apart (`auth-malformed`) from a well-formed one we do not accept (`auth-unsupported`).
 */

/** Wire values of the State field (§4.1): AdminDown 0, Down 1, Init 2, Up 3. */
export const BFD_STATES = ['AdminDown', 'Down', 'Init', 'Up'] as const;
export type BfdState = (typeof BFD_STATES)[number];

/** Diagnostic codes (§4.1); values 9–31 are reserved but still carried as numbers. */
export const BfdDiag = {
  None: 0,
  ControlDetectionTimeExpired: 1,
  EchoFunctionFailed: 2,
  NeighborSignaledSessionDown: 3,
  ForwardingPlaneReset: 4,
  PathDown: 5,
  ConcatenatedPathDown: 6,
  AdministrativelyDown: 7,
  ReverseConcatenatedPathDown: 8,
} as const;

/** Human names of the defined diagnostic codes, for logs. */
export function diagName(diag: number): string {
  for (const [name, value] of Object.entries(BfdDiag)) if (value === diag) return name;
  return `Reserved(${diag})`;
}

/** Authentication Section header (§4.2): parsed only to classify the drop; never accepted. */
export interface BfdAuthSection {
  /** 1 Simple Password, 2 Keyed MD5, 3 Meticulous Keyed MD5, 4 Keyed SHA1, 5 Meticulous Keyed SHA1. */
  readonly type: number;
  /** Auth Len field, bytes, including the type and length octets. */
  readonly length: number;
}

/** A BFD Control packet (§4.1). Intervals are in microseconds as on the wire. */
export interface BfdControlPacket {
  /** Always 1 (§4.1); the decoder drops other versions. */
  readonly version: 1;
  /** 5-bit diagnostic code (see {@link BfdDiag}). */
  readonly diag: number;
  readonly state: BfdState;
  readonly poll: boolean;
  readonly final: boolean;
  /** C bit: BFD shares fate with the control plane? Ours lives in a userspace process, so we send 0. */
  readonly controlPlaneIndependent: boolean;
  readonly authPresent: boolean;
  readonly demand: boolean;
  readonly multipoint: boolean;
  /** Detect Mult, 1–255 after decoding (0 is dropped). */
  readonly detectMult: number;
  /** Length field, bytes (24 without authentication). */
  readonly length: number;
  readonly myDiscriminator: number;
  readonly yourDiscriminator: number;
  readonly desiredMinTxIntervalUs: number;
  readonly requiredMinRxIntervalUs: number;
  readonly requiredMinEchoRxIntervalUs: number;
  /** Present when the A bit is set and the section header was readable. */
  readonly auth?: BfdAuthSection;
}

/** Why a received packet was discarded (§6.8.6 and the codec's own bounds). */
export const DROP_REASONS = [
  'truncated', // fewer than 24 bytes of payload: not even the mandatory section
  'bad-version', // Version ≠ 1
  'bad-length', // Length < 24 (A = 0) or < 26 (A = 1)
  'length-exceeds-payload', // Length > the UDP payload
  'zero-detect-mult', // Detect Mult = 0
  'multipoint', // M bit set
  'zero-my-discriminator', // My Discriminator = 0
  'zero-your-discriminator-not-down', // Your Discriminator = 0 and State is neither Down nor AdminDown
  'auth-malformed', // A bit set, section header inconsistent (unknown type, bad Auth Len)
  'auth-unsupported', // A bit set, well-formed: we use no authentication, so §6.8.6 says discard
  'unknown-discriminator', // Your Discriminator ≠ 0 and no session has it (demultiplexing, §6.8.6)
  'no-session', // Your Discriminator = 0 and no session for the source address
  'bad-ttl', // received TTL / hop limit below what RFC 5881 §5 (255) or the multihop minimum-ttl require
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export type DecodeResult = { readonly ok: true; readonly packet: BfdControlPacket } | { readonly ok: false; readonly reason: DropReason };

/** Mandatory section size, bytes (§4.1). */
export const BFD_HEADER_LENGTH = 24;

/** Auth Len per type (§4.2–§4.4): Simple Password is 4–19 (1–16 byte password); the others are fixed. */
function authLengthValid(type: number, length: number): boolean {
  switch (type) {
    case 1: return length >= 4 && length <= 19;
    case 2: case 3: return length === 24;
    case 4: case 5: return length === 28;
    default: return false;
  }
}

/**
 * Decodes one UDP payload and applies the packet-only checks of §6.8.6 in the RFC's order.
 * Bytes after `Length` are ignored (the RFC bounds only Length ≤ payload). Never throws.
 */
export function decodeControlPacket(payload: Uint8Array): DecodeResult {
  if (payload.length < BFD_HEADER_LENGTH) return { ok: false, reason: 'truncated' };
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  const b0 = buf[0]!;
  const b1 = buf[1]!;
  const version = b0 >> 5;
  if (version !== 1) return { ok: false, reason: 'bad-version' };
  const authPresent = (b1 & 0x04) !== 0;
  const length = buf[3]!;
  if (length < (authPresent ? 26 : BFD_HEADER_LENGTH)) return { ok: false, reason: 'bad-length' };
  if (length > buf.length) return { ok: false, reason: 'length-exceeds-payload' };
  const detectMult = buf[2]!;
  if (detectMult === 0) return { ok: false, reason: 'zero-detect-mult' };
  if ((b1 & 0x01) !== 0) return { ok: false, reason: 'multipoint' };
  const myDiscriminator = buf.readUInt32BE(4);
  if (myDiscriminator === 0) return { ok: false, reason: 'zero-my-discriminator' };
  const yourDiscriminator = buf.readUInt32BE(8);
  const state = BFD_STATES[b1 >> 6]!;
  if (yourDiscriminator === 0 && state !== 'Down' && state !== 'AdminDown') {
    return { ok: false, reason: 'zero-your-discriminator-not-down' };
  }
  if (authPresent) {
    const type = buf[24]!;
    const authLength = buf[25]!;
    if (!authLengthValid(type, authLength) || BFD_HEADER_LENGTH + authLength > length) return { ok: false, reason: 'auth-malformed' };
    return { ok: false, reason: 'auth-unsupported' };
  }
  const packet: BfdControlPacket = {
    version: 1,
    diag: b0 & 0x1f,
    state,
    poll: (b1 & 0x20) !== 0,
    final: (b1 & 0x10) !== 0,
    controlPlaneIndependent: (b1 & 0x08) !== 0,
    authPresent,
    demand: (b1 & 0x02) !== 0,
    multipoint: false,
    detectMult,
    length,
    myDiscriminator,
    yourDiscriminator,
    desiredMinTxIntervalUs: buf.readUInt32BE(12),
    requiredMinRxIntervalUs: buf.readUInt32BE(16),
    requiredMinEchoRxIntervalUs: buf.readUInt32BE(20),
  };
  return { ok: true, packet };
}

/** What {@link encodeControlPacket} needs: the fields we ever send (no auth, no multipoint). */
export interface BfdControlPacketFields {
  readonly diag: number;
  readonly state: BfdState;
  readonly poll: boolean;
  readonly final: boolean;
  readonly controlPlaneIndependent: boolean;
  readonly demand: boolean;
  readonly detectMult: number;
  readonly myDiscriminator: number;
  readonly yourDiscriminator: number;
  readonly desiredMinTxIntervalUs: number;
  readonly requiredMinRxIntervalUs: number;
  readonly requiredMinEchoRxIntervalUs: number;
}

/**
 * Encodes a 24-byte Control packet (Version 1, A = 0, M = 0, Length 24). Out-of-range numbers are
 * masked to their field width (diag 5 bits, detect mult 8 bits, others unsigned 32 bits); the session
 * reducer never produces such values. §6.8.7 forbids P and F together; the caller guarantees it.
 */
export function encodeControlPacket(p: BfdControlPacketFields): Buffer {
  const buf = Buffer.alloc(BFD_HEADER_LENGTH);
  buf[0] = (1 << 5) | (p.diag & 0x1f);
  buf[1] = (BFD_STATES.indexOf(p.state) << 6) | (p.poll ? 0x20 : 0) | (p.final ? 0x10 : 0)
    | (p.controlPlaneIndependent ? 0x08 : 0) | (p.demand ? 0x02 : 0);
  buf[2] = p.detectMult & 0xff;
  buf[3] = BFD_HEADER_LENGTH;
  buf.writeUInt32BE(p.myDiscriminator >>> 0, 4);
  buf.writeUInt32BE(p.yourDiscriminator >>> 0, 8);
  buf.writeUInt32BE(p.desiredMinTxIntervalUs >>> 0, 12);
  buf.writeUInt32BE(p.requiredMinRxIntervalUs >>> 0, 16);
  buf.writeUInt32BE(p.requiredMinEchoRxIntervalUs >>> 0, 20);
  return buf;
}

/** Per-reason drop counts. */
export type DropCounts = Readonly<Record<DropReason, number>>;

/** All reasons at zero. */
export function emptyDropCounts(): DropCounts {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
}

/** Returns counts with one more drop for `reason` (pure; the adapter keeps the latest object). */
export function countDrop(counts: DropCounts, reason: DropReason): DropCounts {
  return { ...counts, [reason]: counts[reason] + 1 };
}
