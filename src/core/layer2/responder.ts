/**
 * The ARP and NDP responders' decisions (spec §5.2), as pure functions of one captured frame: either the
 * reply frame to send, or a drop with MetalLB v0.11's reason (plus `Malformed`, `EtherType` and `OwnFrame`
 * for what v0.11's libraries filtered before its code saw a frame), so every frame is counted.
 *
 * ARP (v0.11 arp.go, vectors `layer2_arp`): only requests (`ARPReply` otherwise); the Ethernet destination
 * must be broadcast or the interface MAC (`EthernetDestination`); the target must be owned (`AnnounceIP`);
 * the reply is unicast to the requester: op 2, sender = interface MAC + requested IP, target = requester.
 *
 * NDP (v0.11 ndp.go): only Neighbor Solicitations (`MessageType`); a Source Link-Layer Address option is
 * required (`NoSourceLL`), so DAD probes from :: are never answered; the target must be owned. Deliberate
 * deviation (docs/compatibility.md): the Neighbor Advertisement's IPv6 source is the target itself, not the
 * interface's link-local address, and Override is set on solicited answers too (v0.11: 0), so a client
 * that solicits during a failover takes the new owner's MAC even over a REACHABLE entry, and tools that
 * match the source to the target (ndisc6) accept it.
 */
import { ARP_REPLY, ARP_REQUEST, encodeArpFrame, gratuitousArpFrames, parseArp } from './arp.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV6, parseEthernet } from './ethernet.js';
import type { EthernetFrame } from './ethernet.js';
import { parseIpv6 } from './ipv6.js';
import { BROADCAST_MAC, ipBytes, ipv4String, ipv6MulticastMac, ipv6String, macEquals } from './mac.js';
import { encodeNeighborAdvertisement, parseNeighborSolicitation } from './ndp.js';

/** Why a captured frame got no answer; every frame that is not answered has exactly one. */
export type DropReason =
  /** Truncated, or not valid ARP/IPv6/ICMPv6 (bad lengths, checksum, hop limit, zero-length option…). */
  | 'Malformed'
  /** Our own outgoing frame, which the capture also sees (Ethernet source = interface MAC). */
  | 'OwnFrame'
  /** Neither ARP nor IPv6. */
  | 'EtherType'
  /** v0.11 dropReasonARPReply: an ARP that is not a request. */
  | 'ARPReply'
  /** v0.11 dropReasonEthernetDestination: an ARP request neither broadcast nor to the interface MAC. */
  | 'EthernetDestination'
  /** v0.11 dropReasonAnnounceIP: the requested IP is not owned by this node. */
  | 'AnnounceIP'
  /** v0.11 dropReasonMessageType: an ICMPv6 message that is not a Neighbor Solicitation. */
  | 'MessageType'
  /** v0.11 dropReasonNoSourceLL: a Neighbor Solicitation without a Source Link-Layer Address option. */
  | 'NoSourceLL';

export const DROP_REASONS: readonly DropReason[] = [
  'Malformed', 'OwnFrame', 'EtherType', 'ARPReply', 'EthernetDestination', 'AnnounceIP', 'MessageType', 'NoSourceLL',
];

/** What the responder does with one frame. `ip` is the requested IP when the frame got that far. */
export type ResponderOutcome =
  | { readonly kind: 'reply'; readonly protocol: 'arp' | 'ndp'; readonly ip: string; readonly frame: Buffer }
  | { readonly kind: 'drop'; readonly reason: DropReason; readonly ip?: string };

/** Does this node own (announce) the IP, given in canonical string form? */
export type OwnsIp = (ip: string) => boolean;

const drop = (reason: DropReason, ip?: string): ResponderOutcome => (ip === undefined ? { kind: 'drop', reason } : { kind: 'drop', reason, ip });

/**
 * Decides the answer to one captured Ethernet frame on an interface whose MAC is `mac` (6 bytes). Never
 * throws; the returned frame is a fresh Buffer (nothing aliases `frame`).
 */
export function answerFrame(frame: Uint8Array, mac: Uint8Array, owns: OwnsIp): ResponderOutcome {
  const eth = parseEthernet(frame);
  if (eth === undefined) return drop('Malformed');
  if (macEquals(eth.src, 0, mac)) return drop('OwnFrame');
  if (eth.etherType === ETHERTYPE_ARP) return answerArp(eth, mac, owns);
  if (eth.etherType === ETHERTYPE_IPV6) return answerNdp(eth, mac, owns);
  return drop('EtherType');
}

/** The ARP responder's decision for a decoded Ethernet frame carrying ARP. */
export function answerArp(eth: EthernetFrame, mac: Uint8Array, owns: OwnsIp): ResponderOutcome {
  const arp = parseArp(eth.payload);
  if (arp === undefined) return drop('Malformed');
  if (arp.op !== ARP_REQUEST) return drop('ARPReply');
  if (!macEquals(eth.dst, 0, BROADCAST_MAC) && !macEquals(eth.dst, 0, mac)) return drop('EthernetDestination');
  const ip = ipv4String(arp.targetIp, 0);
  if (!owns(ip)) return drop('AnnounceIP', ip);
  const frame = encodeArpFrame({
    ethDst: arp.senderMac, ethSrc: mac, op: ARP_REPLY,
    senderMac: mac, senderIp: arp.targetIp, targetMac: arp.senderMac, targetIp: arp.senderIp,
  });
  return { kind: 'reply', protocol: 'arp', ip, frame };
}

/** The NDP responder's decision for a decoded Ethernet frame carrying IPv6. */
export function answerNdp(eth: EthernetFrame, mac: Uint8Array, owns: OwnsIp): ResponderOutcome {
  const ip6 = parseIpv6(eth.payload);
  if (ip6 === undefined) return drop('Malformed');
  const ns = parseNeighborSolicitation(ip6);
  if (ns === 'invalid') return drop('Malformed');
  if (ns === 'notSolicitation') return drop('MessageType');
  if (ns.sourceLla === undefined) return drop('NoSourceLL');
  const ip = ipv6String(ns.target, 0);
  if (!owns(ip)) return drop('AnnounceIP', ip);
  const frame = encodeNeighborAdvertisement({
    ethDst: ns.sourceLla, ethSrc: mac, ipSrc: ns.target, ipDst: ip6.src, target: ns.target,
    solicited: true, override: true, targetLla: mac,
  });
  return { kind: 'reply', protocol: 'ndp', ip, frame };
}

const ALL_NODES = Buffer.from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

/**
 * The gratuitous frames for one IP from one interface (spec §5.2): IPv4 → the ARP request and reply
 * (vector `layer2_arp`); IPv6 → one unsolicited NA to ff02::1 with Solicited=0, Override=1 and a TLLA
 * option, sourced from the IP itself (see the module note). Empty for a string that is not an IP.
 */
export function gratuitousFrames(ip: string, mac: Uint8Array): Buffer[] {
  const bytes = ipBytes(ip);
  if (bytes === undefined) return [];
  if (bytes.length === 4) return gratuitousArpFrames(mac, bytes);
  return [encodeNeighborAdvertisement({
    ethDst: ipv6MulticastMac(ALL_NODES), ethSrc: mac, ipSrc: bytes, ipDst: ALL_NODES, target: bytes,
    solicited: false, override: true, targetLla: mac,
  })];
}
