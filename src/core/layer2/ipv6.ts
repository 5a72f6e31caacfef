/**
 * The IPv6 fixed header (RFC 8200 §3) and the ICMPv6 checksum over the IPv6 pseudo-header
 * (RFC 8200 §8.1, RFC 4443 §2.3), as the NDP codec needs them. Extension headers are not walked:
 * Neighbor Discovery messages never carry them in practice, and a capture filter of `ip6[40] == 135`
 * only matches an ICMPv6 header right after the fixed header.
 */

/** Bytes of the IPv6 fixed header. */
export const IPV6_HEADER_LEN = 40;
/** Next Header value of ICMPv6. */
export const NEXT_HEADER_ICMPV6 = 58;

/** A decoded IPv6 header; `payload` is the view of exactly `payloadLength` bytes after it. */
export interface Ipv6Packet {
  readonly nextHeader: number;
  readonly hopLimit: number;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly payload: Uint8Array;
}

/** Decodes the fixed header; undefined if the version is not 6 or the payload is shorter than announced. */
export function parseIpv6(p: Uint8Array): Ipv6Packet | undefined {
  if (p.length < IPV6_HEADER_LEN || p[0]! >> 4 !== 6) return undefined;
  const payloadLength = (p[4]! << 8) | p[5]!;
  if (IPV6_HEADER_LEN + payloadLength > p.length) return undefined;
  return {
    nextHeader: p[6]!,
    hopLimit: p[7]!,
    src: p.subarray(8, 24),
    dst: p.subarray(24, 40),
    payload: p.subarray(IPV6_HEADER_LEN, IPV6_HEADER_LEN + payloadLength),
  };
}

/** Writes an IPv6 fixed header at `offset` (traffic class and flow label 0). Returns the payload offset. */
export function writeIpv6Header(out: Uint8Array, offset: number, h: {
  payloadLength: number; nextHeader: number; hopLimit: number; src: Uint8Array; dst: Uint8Array;
}): number {
  out[offset] = 0x60; out[offset + 1] = 0; out[offset + 2] = 0; out[offset + 3] = 0;
  out[offset + 4] = (h.payloadLength >> 8) & 0xff;
  out[offset + 5] = h.payloadLength & 0xff;
  out[offset + 6] = h.nextHeader;
  out[offset + 7] = h.hopLimit;
  out.set(h.src.subarray(0, 16), offset + 8);
  out.set(h.dst.subarray(0, 16), offset + 24);
  return offset + IPV6_HEADER_LEN;
}

/**
 * The Internet checksum of an upper-layer message over the IPv6 pseudo-header (src, dst, length,
 * next header). Computed over `message` as given: to verify, pass the received message and expect 0;
 * to fill, zero the checksum field first and store the result.
 */
export function ipv6UpperChecksum(src: Uint8Array, dst: Uint8Array, nextHeader: number, message: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 16; i += 2) sum += ((src[i]! << 8) | src[i + 1]!) + ((dst[i]! << 8) | dst[i + 1]!);
  const len = message.length;
  sum += (len >>> 16) + (len & 0xffff) + nextHeader;
  let i = 0;
  for (; i + 1 < len; i += 2) sum += (message[i]! << 8) | message[i + 1]!;
  if (i < len) sum += message[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
