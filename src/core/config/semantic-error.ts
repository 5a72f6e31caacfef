/** A semantic (MetalLB-rule) error before its source position is attached. */
export interface SemanticError {
  /** Stable identifier tests and tools branch on (e.g. `invalid-cidr`, `missing-peer-asn`). */
  readonly kind: string;
  /** The message, worded as MetalLB words it (with the peer number, pool name, value). */
  readonly message: string;
  /** The offending value (CIDR, ASN, name, operator…), `""` when there is none. */
  readonly value: string;
  /** JSON pointer of the offending node; a missing field points at the field's path. */
  readonly path: string;
}
