/**
 * Builds allocator pools from the conformance vectors' pool maps
 * (`{name: {cidrs, auto_assign, avoid_buggy_ips}}`, JSON key order = config order).
 */
import { parseCidr, type Cidr } from '../../src/core/ip/index.js';
import type { AllocatorPool } from '../../src/core/allocator/index.js';
import type { Config } from '../../src/core/config/types.js';

export interface VectorPool {
  readonly cidrs: readonly string[];
  readonly auto_assign: boolean;
  readonly avoid_buggy_ips: boolean;
}

export function cidrOf(text: string): Cidr {
  const cidr = parseCidr(text);
  if (cidr === undefined) throw new Error(`bad CIDR in vector: ${text}`);
  return cidr;
}

export function poolsFromVector(pools: Readonly<Record<string, VectorPool>>): AllocatorPool[] {
  return Object.entries(pools).map(([name, p]) => ({
    name,
    cidrs: p.cidrs.map(cidrOf),
    avoidBuggyIps: p.avoid_buggy_ips,
    autoAssign: p.auto_assign,
  }));
}

/** A whole domain Config holding only the vector's pools (layer 2, no peers). */
export function configFromVector(pools: Readonly<Record<string, VectorPool>>): Config {
  return {
    pools: Object.entries(pools).map(([name, p]) => ({
      name,
      protocol: 'layer2' as const,
      cidrs: p.cidrs.map(cidrOf),
      addresses: [...p.cidrs],
      avoidBuggyIps: p.avoid_buggy_ips,
      autoAssign: p.auto_assign,
      bgpAdvertisements: [],
    })),
    peers: [],
    bfdProfiles: [],
    communityAliases: new Map(),
  };
}
