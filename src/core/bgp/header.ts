/**
 * The fixed message header (RFC 4271 §4.1): 16 octets of 0xff, a 2-octet total length, a 1-octet type.
 */
import { HEADER_LENGTH } from './constants.js';

/** Prepends the header to `body`. The caller keeps bodies within 4096 − 19 octets. */
export function encodeMessage(type: number, body: Buffer): Buffer {
  const out = Buffer.alloc(HEADER_LENGTH + body.length, 0xff);
  out.writeUInt16BE(HEADER_LENGTH + body.length, 16);
  out[18] = type;
  body.copy(out, HEADER_LENGTH);
  return out;
}
