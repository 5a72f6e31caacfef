/**
 * Neighbor Discovery for IPv6 (RFC 4861): Neighbor Solicitation (§4.3) decoding with its options (§4.6),
 * and Neighbor Advertisement (§4.4) encoding with a Target Link-Layer Address option, inside IPv6 and
 * Ethernet, checksum filled. Validation follows §7.1.1 (hop limit 255, code 0, valid checksum, length,
 * target not multicast, no zero-length option).
 */
import { ETHERNET_HEADER_LEN, ETHERTYPE_IPV6, writeEthernetHeader } from './ethernet.js';
import { IPV6_HEADER_LEN, NEXT_HEADER_ICMPV6, ipv6UpperChecksum, writeIpv6Header } from './ipv6.js';
import type { Ipv6Packet } from './ipv6.js';

export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
export const NDP_OPTION_SOURCE_LLA = 1;
export const NDP_OPTION_TARGET_LLA = 2;
/** Bytes of the NA we send: ICMPv6 header + flags + target (24) + one 8-byte TLLA option. */
export const NA_MESSAGE_LEN = 32;
/** Bytes of the whole NA frame: Ethernet + IPv6 + NA. */
export const NA_FRAME_LEN = ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + NA_MESSAGE_LEN;

/** A validated Neighbor Solicitation; `sourceLla` is the SLLA option's MAC if present. */
export interface NeighborSolicitation {
  readonly target: Uint8Array;
  readonly sourceLla: Uint8Array | undefined;
}

/** Why an ICMPv6 message is not a usable Neighbor Solicitation. */
export type NsParseError = 'invalid' | 'notSolicitation';

/**
 * Decodes and validates a Neighbor Solicitation from a parsed IPv6 packet. `notSolicitation` for any
 * other well-formed ICMPv6 type; `invalid` for anything RFC 4861 §7.1.1 says to discard silently
 * (including an unspecified source with an SLLA option) or a bad checksum.
 */
export function parseNeighborSolicitation(ip: Ipv6Packet): NeighborSolicitation | NsParseError {
  const m = ip.payload;
  if (ip.nextHeader !== NEXT_HEADER_ICMPV6 || m.length < 4) return 'invalid';
  if (ipv6UpperChecksum(ip.src, ip.dst, NEXT_HEADER_ICMPV6, m) !== 0) return 'invalid';
  if (m[0] !== ICMPV6_NEIGHBOR_SOLICITATION) return 'notSolicitation';
  if (m[1] !== 0 || ip.hopLimit !== 255 || m.length < 24) return 'invalid';
  const target = m.subarray(8, 24);
  if (target[0] === 0xff) return 'invalid';
  let sourceLla: Uint8Array | undefined;
  for (let o = 24; o < m.length; ) {
    if (o + 2 > m.length) return 'invalid';
    const len = m[o + 1]! * 8;
    if (len === 0 || o + len > m.length) return 'invalid';
    if (m[o] === NDP_OPTION_SOURCE_LLA && len >= 8) sourceLla = m.subarray(o + 2, o + 8);
    o += len;
  }
  const unspecifiedSource = ip.src.every((b) => b === 0);
  if (unspecifiedSource && sourceLla !== undefined) return 'invalid';
  return { target, sourceLla };
}

/** Fields of a Neighbor Advertisement frame; addresses as bytes (MACs 6, IPv6 16). */
export interface NeighborAdvertisementFields {
  readonly ethDst: Uint8Array;
  readonly ethSrc: Uint8Array;
  readonly ipSrc: Uint8Array;
  readonly ipDst: Uint8Array;
  readonly target: Uint8Array;
  readonly solicited: boolean;
  readonly override: boolean;
  /** The Target Link-Layer Address option's MAC. */
  readonly targetLla: Uint8Array;
}

/** Encodes Ethernet + IPv6 (hop limit 255) + NA with R=0 and a TLLA option; 86 bytes, checksum filled. */
export function encodeNeighborAdvertisement(f: NeighborAdvertisementFields): Buffer {
  const out = Buffer.alloc(NA_FRAME_LEN);
  const ipOff = writeEthernetHeader(out, f.ethDst, f.ethSrc, ETHERTYPE_IPV6);
  const o = writeIpv6Header(out, ipOff, {
    payloadLength: NA_MESSAGE_LEN, nextHeader: NEXT_HEADER_ICMPV6, hopLimit: 255, src: f.ipSrc, dst: f.ipDst,
  });
  out[o] = ICMPV6_NEIGHBOR_ADVERTISEMENT;
  out[o + 1] = 0;
  out[o + 4] = (f.solicited ? 0x40 : 0) | (f.override ? 0x20 : 0);
  out.set(f.target.subarray(0, 16), o + 8);
  out[o + 24] = NDP_OPTION_TARGET_LLA;
  out[o + 25] = 1;
  out.set(f.targetLla.subarray(0, 6), o + 26);
  const sum = ipv6UpperChecksum(f.ipSrc, f.ipDst, NEXT_HEADER_ICMPV6, out.subarray(o, o + NA_MESSAGE_LEN));
  out[o + 2] = sum >> 8;
  out[o + 3] = sum & 0xff;
  return out;
}
