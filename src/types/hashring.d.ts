/**
 * Types for npm `hashring` 3.2.0 (ketama consistent hashing; the package ships none). Only the
 * part metallb-ts uses is declared: construction, `get`, and the walk (`hashValue`, `find`, `ring`)
 * that picks the first point of a subset of the servers. Pinned version: these are stable.
 */
declare module 'hashring' {
  interface HashRingOptions {
    /** Virtual nodes per server (default 40); each makes `replicas` points on the ring. */
    readonly 'vnode count'?: number;
    /** Points per virtual node (default 4, ketama). */
    readonly replicas?: number;
    /** Size of the per-ring LRU of key → server lookups (default 5000). */
    readonly 'max cache size'?: number;
  }
  class HashRing {
    /** `servers`: names, or name → `{ vnodes }` (a count other than the ring default is taken exactly). */
    constructor(servers: readonly string[] | Readonly<Record<string, { readonly vnodes: number }>>, algorithm?: string, options?: HashRingOptions);
    /** The server owning `key`; undefined for an empty ring. */
    get(key: string): string | undefined;
    /** The ring's 32-bit point for `key` (first 4 bytes of its md5, little-endian). */
    hashValue(key: string): number;
    /** Index of the first point at or after `hashValue` (0 past the end: the ring wraps). */
    find(hashValue: number): number;
    /** Number of points on the ring. */
    readonly size: number;
    /** The sorted ring (points and their server), for measurements. */
    readonly ring: ReadonlyArray<{ readonly value: number; readonly server: string }>;
  }
  export default HashRing;
}
