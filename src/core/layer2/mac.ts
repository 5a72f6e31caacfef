/**
 * Link-layer and address byte helpers shared by the layer-2 codecs: MAC addresses as 6-byte Buffers and
 * IP addresses as 4- or 16-byte Buffers, converted to and from their canonical strings (the strings the
 * announcer keys its owned set by: Go's `net.IP.String()` form, as src/core/ip formats them).
 */
import { formatIp, ipToBytes, parseIp } from '../ip/index.js';

/** ff:ff:ff:ff:ff:ff. */
export const BROADCAST_MAC: Buffer = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** Parses `aa:bb:cc:dd:ee:ff` (or `-` separated); undefined if it is not exactly 6 hex octets. */
export function parseMac(s: string): Buffer | undefined {
  const parts = s.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) return undefined;
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

/** Formats 6 bytes as lower-case `aa:bb:cc:dd:ee:ff`. */
export function formatMac(mac: Uint8Array): string {
  return Array.from(mac.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** True when the first 6 bytes of `a` at `offset` equal `mac`. */
export function macEquals(a: Uint8Array, offset: number, mac: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[offset + i] !== mac[i]) return false;
  return true;
}

/** The address bytes (4 for IPv4, 16 for IPv6) of an IP string; undefined if it does not parse. */
export function ipBytes(s: string): Buffer | undefined {
  const ip = parseIp(s);
  return ip === undefined ? undefined : ipToBytes(ip);
}

/** Dotted IPv4 string of 4 bytes at `offset` (hot path: no bigint). */
export function ipv4String(b: Uint8Array, offset: number): string {
  return `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`;
}

/** Canonical (RFC 5952) IPv6 string of 16 bytes at `offset`. */
export function ipv6String(b: Uint8Array, offset: number): string {
  let v = 0n;
  for (let i = 0; i < 16; i++) v = (v << 8n) | BigInt(b[offset + i]!);
  return formatIp({ family: 6, value: v });
}

/**
 * The solicited-node multicast group of an IPv6 address (RFC 4291 §2.7.1): ff02::1:ff00:0/104 plus the
 * address's low 24 bits. Returns the group as a string; undefined for a non-IPv6 input.
 */
export function solicitedNodeGroup(ip: string): string | undefined {
  const b = ipBytes(ip);
  if (b === undefined || b.length !== 16) return undefined;
  const g = Buffer.from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, b[13]!, b[14]!, b[15]!]);
  return ipv6String(g, 0);
}

/** The Ethernet multicast MAC of an IPv6 multicast group (RFC 2464 §7): 33:33 + the group's low 32 bits. */
export function ipv6MulticastMac(group: Uint8Array): Buffer {
  return Buffer.from([0x33, 0x33, group[12]!, group[13]!, group[14]!, group[15]!]);
}
