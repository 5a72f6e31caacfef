/**
 * Split-brain probing on layer 2 (issue 11): the frames an owner sends to ask "does anybody else answer for this
 * IP?", and the reading of captured frames that show another MAC claiming an IP we own.
 *
 * Why probe: ARP replies and solicited Neighbor Advertisements are unicast, so a switch never shows another
 * node's answers to a client to us. Our own question, though, is answered to us:
 * - IPv4: an ARP Probe (RFC 5227 §2.1.1): a broadcast request with sender IP 0.0.0.0 and target MAC zero, so it
 *   updates no neighbour's ARP cache; anybody answering for the IP replies to our MAC.
 * - IPv6: a Neighbor Solicitation (RFC 4861 §4.3) for the IP to its solicited-node group, sourced from the IP
 *   itself with our MAC in a Source Link-Layer Address option (MetalLB's responders ignore solicitations without
 *   one, and we own the IP, so it is a legitimate source); the answer is a Neighbor Advertisement to our MAC.
 *   Only members of the IP's solicited-node group receive it: other owners, not clients.
 *
 * A claim is: an ARP reply, or a gratuitous ARP request (sender IP = target IP), whose sender IP is ours and
 * whose sender MAC is not one of this node's; or a valid Neighbor Advertisement (RFC 4861 §7.1.2) whose target is
 * ours and whose Target Link-Layer Address (the Ethernet source without one) is not one of this node's.
 * Pure; never throws.
 */
import { ARP_REPLY, ARP_REQUEST, encodeArpFrame, parseArp } from './arp.js';
import { ETHERNET_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV6, parseEthernet, writeEthernetHeader } from './ethernet.js';
import { IPV6_HEADER_LEN, NEXT_HEADER_ICMPV6, ipv6UpperChecksum, parseIpv6, writeIpv6Header, type Ipv6Packet } from './ipv6.js';
import { BROADCAST_MAC, formatMac, ipBytes, ipv4String, ipv6MulticastMac, ipv6String } from './mac.js';
import { ICMPV6_NEIGHBOR_ADVERTISEMENT, ICMPV6_NEIGHBOR_SOLICITATION, NDP_OPTION_SOURCE_LLA, NDP_OPTION_TARGET_LLA } from './ndp.js';
import type { OwnsIp } from './responder.js';

const ZERO_MAC = Buffer.alloc(6);
const ZERO_IPV4 = Buffer.alloc(4);
/** Bytes of the NS we send: ICMPv6 header + reserved + target (24) + one 8-byte SLLA option. */
const NS_MESSAGE_LEN = 32;

/** Another MAC answering for (or announcing) an IP we own. `mac` in lower-case colon form. */
export interface Claim {
  readonly ip: string;
  readonly mac: string;
}

/**
 * The probe frames for `ip` (canonical string) from an interface with MAC `mac` (6 bytes): one ARP Probe for IPv4,
 * one Neighbor Solicitation for IPv6. Empty for a string that is not an IP.
 */
export function probeFrames(ip: string, mac: Uint8Array): Buffer[] {
  const b = ipBytes(ip);
  if (b === undefined) return [];
  if (b.length === 4) {
    return [encodeArpFrame({ ethDst: BROADCAST_MAC, ethSrc: mac, op: ARP_REQUEST, senderMac: mac, senderIp: ZERO_IPV4, targetMac: ZERO_MAC, targetIp: b })];
  }
  const group = Buffer.from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, b[13]!, b[14]!, b[15]!]);
  const out = Buffer.alloc(ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + NS_MESSAGE_LEN);
  const ipOff = writeEthernetHeader(out, ipv6MulticastMac(group), mac, ETHERTYPE_IPV6);
  const o = writeIpv6Header(out, ipOff, { payloadLength: NS_MESSAGE_LEN, nextHeader: NEXT_HEADER_ICMPV6, hopLimit: 255, src: b, dst: group });
  out[o] = ICMPV6_NEIGHBOR_SOLICITATION;
  out.set(b, o + 8);
  out[o + 24] = NDP_OPTION_SOURCE_LLA;
  out[o + 25] = 1;
  out.set(mac.subarray(0, 6), o + 26);
  const sum = ipv6UpperChecksum(b, group, NEXT_HEADER_ICMPV6, out.subarray(o, o + NS_MESSAGE_LEN));
  out[o + 2] = sum >> 8;
  out[o + 3] = sum & 0xff;
  return [out];
}

/** A valid Neighbor Advertisement's target and link-layer address (TLLA option, if any). */
export interface NeighborAdvertisement {
  readonly target: Uint8Array;
  readonly targetLla: Uint8Array | undefined;
}

/**
 * Decodes and validates a Neighbor Advertisement (RFC 4861 §7.1.2: hop limit 255, code 0, valid checksum, length
 * ≥ 24, target not multicast, no zero-length option). Undefined for anything else.
 */
export function parseNeighborAdvertisement(ip: Ipv6Packet): NeighborAdvertisement | undefined {
  const m = ip.payload;
  if (ip.nextHeader !== NEXT_HEADER_ICMPV6 || m.length < 24 || m[0] !== ICMPV6_NEIGHBOR_ADVERTISEMENT || m[1] !== 0 || ip.hopLimit !== 255) return undefined;
  if (ipv6UpperChecksum(ip.src, ip.dst, NEXT_HEADER_ICMPV6, m) !== 0) return undefined;
  const target = m.subarray(8, 24);
  if (target[0] === 0xff) return undefined;
  let targetLla: Uint8Array | undefined;
  for (let o = 24; o < m.length; ) {
    if (o + 2 > m.length) return undefined;
    const len = m[o + 1]! * 8;
    if (len === 0 || o + len > m.length) return undefined;
    if (m[o] === NDP_OPTION_TARGET_LLA && len >= 8) targetLla = m.subarray(o + 2, o + 8);
    o += len;
  }
  return { target, targetLla };
}

/**
 * Reads one captured frame: a claim on an owned IP by a MAC that is not this node's (`ownMac` says which are, e.g.
 * every responder interface's MAC: a node with two NICs on one segment hears its own frames on the other), or
 * undefined. Frames that are not ARP or a Neighbor Advertisement, malformed ones and claims on IPs we do not own are
 * all undefined.
 */
export function claimInFrame(frame: Uint8Array, ownMac: (mac: string) => boolean, owns: OwnsIp): Claim | undefined {
  const eth = parseEthernet(frame);
  if (eth === undefined) return undefined;
  if (eth.etherType === ETHERTYPE_ARP) {
    const arp = parseArp(eth.payload);
    if (arp === undefined) return undefined;
    const gratuitous = arp.op === ARP_REQUEST && Buffer.compare(Buffer.from(arp.senderIp), Buffer.from(arp.targetIp)) === 0;
    if (arp.op !== ARP_REPLY && !gratuitous) return undefined;
    const ip = ipv4String(arp.senderIp, 0);
    const mac = formatMac(arp.senderMac);
    return owns(ip) && !ownMac(mac) ? { ip, mac } : undefined;
  }
  if (eth.etherType === ETHERTYPE_IPV6) {
    const ip6 = parseIpv6(eth.payload);
    if (ip6 === undefined) return undefined;
    const na = parseNeighborAdvertisement(ip6);
    if (na === undefined) return undefined;
    const ip = ipv6String(na.target, 0);
    const mac = formatMac(na.targetLla ?? eth.src);
    return owns(ip) && !ownMac(mac) ? { ip, mac } : undefined;
  }
  return undefined;
}
