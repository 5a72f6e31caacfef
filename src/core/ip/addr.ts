/**
 * IP addresses as (family, bigint): exact arithmetic for IPv4 and IPv6 alike, so pool math on a
 * /8 or an IPv6 /64 costs what it costs on a /29 (no per-address loops, no float rounding).
 */

/** Address family: 4 or 6. */
export type Family = 4 | 6;

/** An IP address. `value` is the unsigned integer of the 32- or 128-bit address. */
export interface IpAddr {
  readonly family: Family;
  readonly value: bigint;
}

/** Width in bits of an address of `family`. */
export function familyBits(family: Family): 32 | 128 {
  return family === 4 ? 32 : 128;
}

/** Parses a dotted-quad IPv4 address strictly (no leading zeros beyond "0", as Go's net.ParseIP). */
function parseIpv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part)) return undefined;
    // Go 1.17+ rejects leading zeros; MetalLB v0.11 built with Go 1.16 accepted them, but a leading
    // zero is ambiguous (octal in some tools), so we reject it like current Go.
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

/** Parses an IPv6 address, including `::` compression and an embedded dotted IPv4 tail. */
function parseIpv6(s: string): bigint | undefined {
  if (s.includes('%')) return undefined; // zones are not addresses of a pool or a peer
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  // An embedded dotted IPv4 may only end the whole address (Go rejects `1.2.3.4::`).
  const groupsOf = (part: string, mayEndWithIpv4: boolean): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (mayEndWithIpv4 && i === items.length - 1 && item.includes('.')) {
        const v4 = parseIpv4(item);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return undefined;
      out.push(parseInt(item, 16));
    }
    return out;
  };
  const head = groupsOf(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1]!, true) : [];
  if (head === undefined || tail === undefined) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/**
 * Parses an IPv4 or IPv6 address (Go `net.ParseIP` semantics, minus leading zeros). An IPv4-mapped
 * IPv6 address (`::ffff:1.2.3.4`) is IPv4, as Go treats it.
 */
export function parseIp(s: string): IpAddr | undefined {
  if (s.includes(':')) {
    const value = parseIpv6(s);
    if (value === undefined) return undefined;
    if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
    return { family: 6, value };
  }
  const value = parseIpv4(s);
  return value === undefined ? undefined : { family: 4, value };
}

/** Formats like Go's `net.IP.String()`: dotted IPv4, RFC 5952 compressed lower-case IPv6. */
export function formatIp(ip: IpAddr): string {
  if (ip.family === 4) {
    const v = ip.value;
    return [24n, 16n, 8n, 0n].map((shift) => String((v >> shift) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // Longest run of zero groups (length >= 2) becomes "::"; the first such run wins a tie.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** True when both addresses are the same family and value. */
export function ipEquals(a: IpAddr, b: IpAddr): boolean {
  return a.family === b.family && a.value === b.value;
}

/** Orders by family (IPv4 first), then numerically. */
export function compareIp(a: IpAddr, b: IpAddr): number {
  if (a.family !== b.family) return a.family - b.family;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** Adds `delta` to an address; undefined when the result leaves the family's address space. */
export function addToIp(ip: IpAddr, delta: bigint): IpAddr | undefined {
  const value = ip.value + delta;
  if (value < 0n || value >> BigInt(familyBits(ip.family)) !== 0n) return undefined;
  return { family: ip.family, value };
}

/** Canonical string key of an address, usable in Maps (same as formatIp). */
export const ipKey = formatIp;

/** Network-order bytes of an address: 4 octets for IPv4, 16 for IPv6 (the wire form of BGP NLRI, ARP and NDP). */
export function ipToBytes(ip: IpAddr): Buffer {
  const len = familyBits(ip.family) / 8;
  const out = Buffer.alloc(len);
  let v = ip.value;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Reads a 4- or 16-octet network-order address; `bytes.length` decides the family (any length but 4 reads as IPv6). */
export function ipFromBytes(bytes: Buffer): IpAddr {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return { family: bytes.length === 4 ? 4 : 6, value };
}
