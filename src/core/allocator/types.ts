/**
 * Value types of the allocator: ports, families and the structured errors it returns.
 */
import type { IpAddr } from '../ip/index.js';

/** A service port as far as IP sharing is concerned: protocol (as written, e.g. `TCP`) and number. */
export interface Port {
  readonly proto: string;
  readonly port: number;
}

/** The text form MetalLB prints and keys ports by, e.g. `TCP/80`. */
export function portKey(p: Port): string {
  return `${p.proto}/${p.port}`;
}

/** The IP family a Service asks for (v0.12 `ipfamily.Family`). */
export type FamilyRequest = 'ipv4' | 'ipv6' | 'dual';

/**
 * Family of a set of addresses: one address gives its family, an IPv4 + IPv6 pair is `dual`;
 * anything else (none, two of one family, more than two) has no family: undefined.
 */
export function familyOfIps(ips: readonly IpAddr[]): FamilyRequest | undefined {
  const [a, b] = ips;
  if (a === undefined || ips.length > 2) return undefined;
  if (b === undefined) return a.family === 4 ? 'ipv4' : 'ipv6';
  return a.family !== b.family ? 'dual' : undefined;
}

/** Why two services cannot share an address (MetalLB's `sharingOK`). */
export type SharingConflict =
  | { readonly kind: 'existingNoSharing' }
  | { readonly kind: 'newNoSharing' }
  | { readonly kind: 'sharingKeyMismatch'; readonly wanted: string; readonly existing: string }
  | { readonly kind: 'backendKeyMismatch'; readonly wanted: string; readonly existing: string };

/** Every expected allocator failure, as data; `formatAllocError` renders MetalLB's texts. */
export type AllocError =
  /** No pool (allowed by avoid-buggy-ips) contains all the addresses. */
  | { readonly kind: 'notAllowed'; readonly ips: readonly IpAddr[] }
  /** The address is used by other services and sharing is not compatible. */
  | { readonly kind: 'sharing'; readonly svc: string; readonly others: readonly string[]; readonly conflict: SharingConflict }
  /** Another service on the address already uses the port. */
  | { readonly kind: 'portInUse'; readonly port: Port; readonly ip: IpAddr }
  /** The service already holds addresses of another family. */
  | { readonly kind: 'wrongFamily'; readonly held: readonly IpAddr[]; readonly requested: FamilyRequest }
  | { readonly kind: 'unknownPool'; readonly pool: string }
  /** The pool has no address (of the family) the service may use. */
  | { readonly kind: 'poolExhausted'; readonly pool: string; readonly family: FamilyRequest }
  /** No auto-assign pool could serve the request. */
  | { readonly kind: 'noAvailable' }
  /** A config change would leave an assigned address outside every pool. */
  | { readonly kind: 'orphan'; readonly svc: string; readonly ips: readonly IpAddr[] };

/** Result of an allocator operation that yields addresses. */
export type AllocResult =
  | { readonly ok: true; readonly ips: readonly IpAddr[] }
  | { readonly ok: false; readonly error: AllocError };
