/**
 * Small wire helpers shared by the message codecs: addresses as bytes and NLRI prefixes encoded as
 * `<length in bits><ceil(length/8) address octets>` (RFC 4271 §4.3, RFC 4760 §5).
 */
import { type Cidr, type Family, type IpAddr, familyBits, ipFromBytes, ipToBytes, makeCidr } from '../ip/index.js';

/** Address bytes live with the IP math; re-exported because the BGP codecs read them from here. */
export { ipToBytes, ipFromBytes };
import { Afi } from './constants.js';

/** The AFI carrying a family's unicast routes. */
export function afiOf(family: Family): number {
  return family === 4 ? Afi.IPV4 : Afi.IPV6;
}

/** The family of an AFI, or undefined for AFIs this speaker does not carry. */
export function familyOfAfi(afi: number): Family | undefined {
  return afi === Afi.IPV4 ? 4 : afi === Afi.IPV6 ? 6 : undefined;
}

/** Encoded size of one prefix in NLRI form. */
export function prefixWireLength(c: Cidr): number {
  return 1 + Math.ceil(c.bits / 8);
}

/** Encodes one prefix: length octet, then only the significant address octets. */
export function encodePrefix(c: Cidr): Buffer {
  const bytes = ipToBytes(c.base);
  const n = Math.ceil(c.bits / 8);
  const out = Buffer.alloc(1 + n);
  out[0] = c.bits;
  bytes.copy(out, 1, 0, n);
  return out;
}

/** Encodes a list of prefixes back to back. */
export function encodePrefixes(list: readonly Cidr[]): Buffer {
  return Buffer.concat(list.map(encodePrefix));
}

/**
 * Decodes a whole NLRI or Withdrawn Routes field of `family`. Returns undefined when the field is
 * syntactically incorrect (RFC 7606 §5.3: a length above the family's width, or a prefix overrunning the
 * field). Host bits beyond the length are cleared, as the RFC says they are irrelevant.
 */
export function decodePrefixes(buf: Buffer, family: Family): Cidr[] | undefined {
  const width = familyBits(family);
  const out: Cidr[] = [];
  let i = 0;
  while (i < buf.length) {
    const bits = buf[i]!;
    if (bits > width) return undefined;
    const n = Math.ceil(bits / 8);
    if (i + 1 + n > buf.length) return undefined;
    const addr = Buffer.alloc(width / 8);
    buf.copy(addr, 0, i + 1, i + 1 + n);
    out.push(makeCidr(ipFromBytes(addr), bits));
    i += 1 + n;
  }
  return out;
}
