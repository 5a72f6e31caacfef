/**
 * Prefixes (CIDRs): containment, overlap, size and the n-th address, all in O(1) bigint math.
 */
import { type Family, type IpAddr, familyBits, formatIp, parseIp } from './addr.js';

/** A prefix; `base` always has its host bits cleared (Go's ParseCIDR masks them too). */
export interface Cidr {
  readonly base: IpAddr;
  readonly bits: number;
}

function hostBits(c: Cidr): bigint {
  return BigInt(familyBits(c.base.family) - c.bits);
}

/** Builds a prefix from any address in it, masking the host bits. */
export function makeCidr(ip: IpAddr, bits: number): Cidr {
  const host = BigInt(familyBits(ip.family) - bits);
  return { base: { family: ip.family, value: (ip.value >> host) << host }, bits };
}

/** Parses `addr/len` like Go's net.ParseCIDR (host bits allowed and masked); undefined if invalid. */
export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(s.slice(0, slash));
  const lenText = s.slice(slash + 1);
  if (ip === undefined || !/^[0-9]{1,3}$/.test(lenText)) return undefined;
  const bits = Number(lenText);
  // "::ffff:1.2.3.4/120" style mapped prefixes are rejected rather than guessed at.
  if (s.slice(0, slash).includes(':') && ip.family === 4) return undefined;
  if (bits > familyBits(ip.family)) return undefined;
  return makeCidr(ip, bits);
}

/** Formats like Go's `net.IPNet.String()`. */
export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.bits}`;
}

/** Number of addresses in the prefix. */
export function cidrSize(c: Cidr): bigint {
  return 1n << hostBits(c);
}

/** First (network) address. */
export function cidrFirst(c: Cidr): IpAddr {
  return c.base;
}

/** Last (broadcast) address. */
export function cidrLast(c: Cidr): IpAddr {
  return { family: c.base.family, value: c.base.value + cidrSize(c) - 1n };
}

/** True when `ip` lies inside `c` (a different family never does). */
export function cidrContains(c: Cidr, ip: IpAddr): boolean {
  if (ip.family !== c.base.family) return false;
  return ip.value >> hostBits(c) === c.base.value >> hostBits(c);
}

/** True when the prefixes share any address (MetalLB: equal, or one contains the other's base). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b.base) || cidrContains(b, a.base);
}

/** The n-th address (0-based) of the prefix, or undefined past its end. */
export function nthAddress(c: Cidr, n: bigint): IpAddr | undefined {
  if (n < 0n || n >= cidrSize(c)) return undefined;
  return { family: c.base.family, value: c.base.value + n };
}

/** Index of `ip` inside `c`, or undefined when outside. Inverse of nthAddress. */
export function indexInCidr(c: Cidr, ip: IpAddr): bigint | undefined {
  return cidrContains(c, ip) ? ip.value - c.base.value : undefined;
}

/** Family of a prefix. */
export function cidrFamily(c: Cidr): Family {
  return c.base.family;
}
