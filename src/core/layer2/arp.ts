/**
 * ARP for IPv4 over Ethernet (RFC 826): the 28-byte packet, its encoding in a 42-byte Ethernet frame, and
 * MetalLB's gratuitous pair (spec §5.2: a request then a reply, both broadcast, sender = target = the IP,
 * target MAC ff:ff:ff:ff:ff:ff; vector `layer2_arp` "gratuitous_arp").
 */
import { BROADCAST_MAC } from './mac.js';
import { ETHERNET_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, writeEthernetHeader } from './ethernet.js';

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
/** Bytes of an Ethernet/IPv4 ARP packet. */
export const ARP_PACKET_LEN = 28;
/** Bytes of an ARP frame as we send it (no padding to 60: the NIC or veth pads as it must). */
export const ARP_FRAME_LEN = ETHERNET_HEADER_LEN + ARP_PACKET_LEN;

/** A decoded Ethernet/IPv4 ARP packet; addresses are views into the input. */
export interface ArpPacket {
  readonly op: number;
  readonly senderMac: Uint8Array;
  readonly senderIp: Uint8Array;
  readonly targetMac: Uint8Array;
  readonly targetIp: Uint8Array;
}

/**
 * Decodes an ARP packet (the Ethernet payload). Undefined unless it is Ethernet (htype 1) / IPv4 (ptype
 * 0x0800) with hlen 6, plen 4 and at least 28 bytes: anything else is not an ARP we can answer.
 */
export function parseArp(p: Uint8Array): ArpPacket | undefined {
  if (p.length < ARP_PACKET_LEN) return undefined;
  const htype = (p[0]! << 8) | p[1]!;
  const ptype = (p[2]! << 8) | p[3]!;
  if (htype !== 1 || ptype !== ETHERTYPE_IPV4 || p[4] !== 6 || p[5] !== 4) return undefined;
  return {
    op: (p[6]! << 8) | p[7]!,
    senderMac: p.subarray(8, 14),
    senderIp: p.subarray(14, 18),
    targetMac: p.subarray(18, 24),
    targetIp: p.subarray(24, 28),
  };
}

/** One whole ARP frame's fields; all addresses as bytes (MACs 6, IPs 4). */
export interface ArpFrameFields {
  readonly ethDst: Uint8Array;
  readonly ethSrc: Uint8Array;
  readonly op: number;
  readonly senderMac: Uint8Array;
  readonly senderIp: Uint8Array;
  readonly targetMac: Uint8Array;
  readonly targetIp: Uint8Array;
}

/** Encodes an Ethernet frame carrying one ARP packet: 42 bytes. */
export function encodeArpFrame(f: ArpFrameFields): Buffer {
  const out = Buffer.alloc(ARP_FRAME_LEN);
  const o = writeEthernetHeader(out, f.ethDst, f.ethSrc, ETHERTYPE_ARP);
  out[o] = 0; out[o + 1] = 1; // htype Ethernet
  out[o + 2] = 0x08; out[o + 3] = 0x00; // ptype IPv4
  out[o + 4] = 6; out[o + 5] = 4;
  out[o + 6] = (f.op >> 8) & 0xff; out[o + 7] = f.op & 0xff;
  out.set(f.senderMac.subarray(0, 6), o + 8);
  out.set(f.senderIp.subarray(0, 4), o + 14);
  out.set(f.targetMac.subarray(0, 6), o + 18);
  out.set(f.targetIp.subarray(0, 4), o + 24);
  return out;
}

/**
 * MetalLB's gratuitous ARP for `ip` (4 bytes) from an interface with MAC `mac`: [request, reply], both
 * broadcast with sender = target = ip and target MAC broadcast (spec §5.2; vector bytes in `layer2_arp`).
 */
export function gratuitousArpFrames(mac: Uint8Array, ip: Uint8Array): [Buffer, Buffer] {
  const fields = { ethDst: BROADCAST_MAC, ethSrc: mac, senderMac: mac, senderIp: ip, targetMac: BROADCAST_MAC, targetIp: ip };
  return [encodeArpFrame({ ...fields, op: ARP_REQUEST }), encodeArpFrame({ ...fields, op: ARP_REPLY })];
}
