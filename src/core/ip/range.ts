/**
 * `a-b` address ranges summarised to the minimal set of prefixes (as mikioh/ipaddr.Summarize does for
 * MetalLB), in ascending order, with O(prefix length) work however large the range is.
 */
import { type IpAddr, familyBits } from './addr.js';
import { type Cidr, makeCidr } from './cidr.js';

/**
 * Minimal prefix cover of [first, last] inclusive. Both ends must be the same family and
 * first <= last; a mixed-family range yields [] (MetalLB quirk: the entry contributes nothing).
 */
export function rangeToCidrs(first: IpAddr, last: IpAddr): Cidr[] {
  if (first.family !== last.family || first.value > last.value) return [];
  const width = familyBits(first.family);
  const out: Cidr[] = [];
  let start = first.value;
  const end = last.value;
  while (start <= end) {
    // Largest block aligned at `start` that does not pass `end`.
    let host = 0;
    while (host < width) {
      const next = host + 1;
      const size = 1n << BigInt(next);
      if (start % size !== 0n || start + size - 1n > end) break;
      host = next;
    }
    out.push(makeCidr({ family: first.family, value: start }, width - host));
    start += 1n << BigInt(host);
  }
  return out;
}
