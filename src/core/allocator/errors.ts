/**
 * MetalLB's error texts for allocator failures. The allocator returns `AllocError` values; the
 * text is chosen at the edge because v0.11 and v0.12 word several of them differently
 * (v0.12 quotes address lists and drops the sharing reason).
 */
import { type IpAddr, formatIp } from '../ip/index.js';
import { type AllocError, type SharingConflict, familyOfIps, portKey } from './types.js';

/** Which release's wording to use. */
export type ErrorStyle = 'v0.11' | 'v0.12';

/** Go's `%q` for the strings we print (names, keys, addresses). */
function q(s: string): string {
  return JSON.stringify(s);
}

/** v0.11 prints one address with %q; v0.12 prints the list with %q: `["a" "b"]`. */
function quoteIps(ips: readonly IpAddr[], style: ErrorStyle): string {
  if (style === 'v0.11' && ips.length === 1) return q(formatIp(ips[0]!));
  return `[${ips.map((ip) => q(formatIp(ip))).join(' ')}]`;
}

/** MetalLB's `sharingOK` reasons (the backend-key text really says "sharing key"). */
export function formatSharingConflict(c: SharingConflict): string {
  switch (c.kind) {
    case 'existingNoSharing':
      return 'existing service does not allow sharing';
    case 'newNoSharing':
      return 'new service does not allow sharing';
    case 'sharingKeyMismatch':
      return `sharing key ${q(c.wanted)} does not match existing sharing key ${q(c.existing)}`;
    case 'backendKeyMismatch':
      return `backend key ${q(c.wanted)} does not match existing sharing key ${q(c.existing)}`;
  }
}

/** The error text MetalLB `style` would print. */
export function formatAllocError(e: AllocError, style: ErrorStyle = 'v0.12'): string {
  switch (e.kind) {
    case 'notAllowed':
      return `${quoteIps(e.ips, style)} is not allowed in config`;
    case 'sharing': {
      const head = `can't change sharing key for ${q(e.svc)}, address also in use by ${e.others.join(',')}`;
      return style === 'v0.11' ? `${head}: ${formatSharingConflict(e.conflict)}` : head;
    }
    case 'portInUse':
      return `port ${portKey(e.port)} is already in use on ${q(formatIp(e.ip))}`;
    case 'wrongFamily':
      return style === 'v0.11' && e.held.length === 1
        ? `IP for wrong family assigned ${formatIp(e.held[0]!)}`
        : `IP for wrong family assigned alloc ${familyOfIps(e.held) ?? 'unknown'} service family ${e.requested}`;
    case 'unknownPool':
      return `unknown pool ${q(e.pool)}`;
    case 'poolExhausted':
      return style === 'v0.11' && e.family !== 'dual'
        ? `no available IPs in pool ${q(e.pool)}`
        : `no available IPs in pool ${q(e.pool)} for ${e.family} IPFamily`;
    case 'noAvailable':
      return 'no available IPs';
    case 'orphan':
      return `new config not compatible with assigned IPs: service ${q(e.svc)} cannot own ${quoteIps(e.ips, style)} under new config`;
  }
}
