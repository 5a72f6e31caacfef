/**
 * What the migration reports besides the objects. Upstream's converter loses several things silently;
 * each of them is an issue here, with a stable `code` (tests and tools branch on it), a message saying
 * what happened and a hint saying what to do.
 */

export const WARNING_CODES = [
  /** An unknown key was dropped (upstream drops it silently). */
  'unknown-key',
  /** A pool's protocol is neither `layer2` nor `bgp`: the pool is created but nothing advertises it. */
  'unknown-protocol',
  /** A pool was renamed to a valid Kubernetes name; Service annotations still name the old one. */
  'pool-renamed',
  /** A BFD profile was renamed; its peers' references are renamed with it. */
  'bfd-profile-renamed',
  /** A peer password is written in plain text into the BGPPeer. */
  'plain-password',
] as const;

export const ERROR_CODES = [
  /** A name has no letter a-z, or is still not a valid Kubernetes name after conversion. */
  'name-not-convertible',
  /** Two legacy names convert to the same Kubernetes name. */
  'name-collision',
  /** A value valid in the ConfigMap that the v0.13+ CRDs reject (peer port > 16384, aggregation 0). */
  'crd-range',
] as const;

export type WarningCode = (typeof WARNING_CODES)[number];
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface MigrationIssue<C extends string = WarningCode | ErrorCode> {
  readonly code: C;
  readonly message: string;
  /** JSON-pointer-like path into the legacy config, e.g. `/address-pools/1/name`. */
  readonly path: string;
  readonly hint?: string;
}

export type MigrationWarning = MigrationIssue<WarningCode>;
export type MigrationError = MigrationIssue<ErrorCode>;

/** A legacy name that changed on the way to a CR name. */
export interface Rename {
  readonly kind: 'pool' | 'bfd-profile';
  readonly from: string;
  readonly to: string;
  readonly path: string;
}
