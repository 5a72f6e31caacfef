/**
 * Pool address entries: a CIDR (`10.20.30.0/24`, host bits masked) or a range `a-b` summarised
 * to its minimal prefix cover, with MetalLB v0.12.1's rules: split at the first `-`, each side
 * trimmed, ends compared in Go's 16-byte form (IPv4 as ::ffff:a.b.c.d), `a-a` allowed, and a
 * mixed-family range contributing no prefixes at all (upstream quirk, kept).
 */
import { type Cidr, type IpAddr, parseCidr, parseIp, rangeToCidrs } from '../ip/index.js';

export type AddressEntryResult =
  | { readonly ok: true; readonly cidrs: readonly Cidr[] }
  | { readonly ok: false; readonly message: string };

/** The address as Go's 16-byte `net.IP` value, for MetalLB's byte-wise range comparison. */
function sixteenByteValue(ip: IpAddr): bigint {
  return ip.family === 4 ? (0xffffn << 32n) | ip.value : ip.value;
}

/** Parses one `addresses` entry; the error text is MetalLB's ParseCIDR error (without the pool wrapper). */
export function parseAddressEntry(entry: string): AddressEntryResult {
  const dash = entry.indexOf('-');
  if (dash < 0) {
    const cidr = parseCidr(entry);
    return cidr ? { ok: true, cidrs: [cidr] } : { ok: false, message: `invalid CIDR ${JSON.stringify(entry)}` };
  }
  const left = entry.slice(0, dash);
  const right = entry.slice(dash + 1);
  const start = parseIp(left.trim());
  if (!start) return { ok: false, message: `invalid IP range ${JSON.stringify(entry)}: invalid start IP ${JSON.stringify(left)}` };
  const end = parseIp(right.trim());
  if (!end) return { ok: false, message: `invalid IP range ${JSON.stringify(entry)}: invalid end IP ${JSON.stringify(right)}` };
  if (sixteenByteValue(start) > sixteenByteValue(end)) {
    return {
      ok: false,
      message: `invalid IP range ${JSON.stringify(entry)}: start IP ${JSON.stringify(left.trim())} is after the end IP ${JSON.stringify(right.trim())}`,
    };
  }
  return { ok: true, cidrs: rangeToCidrs(start, end) };
}
