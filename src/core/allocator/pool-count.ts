/**
 * Pool capacity for `metallb_allocator_addresses_total`, MetalLB's rule: the sum of prefix sizes,
 * minus the .0/.255 addresses when avoid-buggy-ips is on, and MaxInt64 as soon as one prefix has
 * 62 or more host bits (an IPv6 /66 or larger "never runs out").
 */
import { type Cidr, cidrSize, cidrLast, familyBits } from '../ip/index.js';

/** Go's math.MaxInt64. */
export const MAX_INT64 = (1n << 63n) - 1n;

/** The fields of a pool that capacity depends on. */
export interface CountablePool {
  readonly cidrs: readonly Cidr[];
  readonly avoidBuggyIps: boolean;
}

/** True for an IPv4 address ending in .0 or .255, which some buggy firmware mishandles. */
export function isBuggyIp(family: 4 | 6, value: bigint): boolean {
  if (family !== 4) return false;
  const last = value & 0xffn;
  return last === 0n || last === 255n;
}

/** Capacity of the pool as MetalLB counts it (exact, as bigint; capped at MaxInt64). */
export function poolCount(pool: CountablePool): bigint {
  let total = 0n;
  for (const cidr of pool.cidrs) {
    const hostBits = familyBits(cidr.base.family) - cidr.bits;
    if (hostBits >= 62) return MAX_INT64;
    let size = cidrSize(cidr);
    if (pool.avoidBuggyIps && cidr.base.family === 4) {
      if (cidr.bits <= 24) {
        size -= (1n << BigInt(24 - cidr.bits)) * 2n;
      } else {
        if (isBuggyIp(4, cidr.base.value)) size--;
        if (isBuggyIp(4, cidrLast(cidr).value)) size--;
      }
    }
    total += size;
  }
  return total > MAX_INT64 ? MAX_INT64 : total;
}
