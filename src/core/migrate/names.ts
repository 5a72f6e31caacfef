/**
 * MetalLB's name conversion (v0.13.11+ `configmaptocrs`, spec §10): legacy pool and BFD profile names are
 * free text, CR names are DNS labels. Upstream converts names that do not match its DNS-label pattern and
 * stops there; we additionally report a converted name that Kubernetes would still reject.
 */

/** The pattern upstream tests before converting (a DNS label of at least two characters). */
const UPSTREAM_K8S_NAME = /^[a-z][-a-z0-9]{0,61}[a-z0-9]{1}$/;
/** What the apiserver accepts as a custom resource name: a DNS-1123 subdomain. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_NAME_LENGTH = 63;

export type NameConversion =
  | { readonly ok: true; readonly name: string; readonly renamed: boolean }
  | { readonly ok: false; readonly reason: 'no-letter' | 'invalid-after-conversion'; readonly name: string };

/**
 * Converts a legacy name the way MetalLB's converter does: names already matching its pattern are kept;
 * others are truncated to 63 characters, lower-cased, `_` becomes `-`, and everything before the first
 * letter a-z is dropped. A name with no such letter cannot be converted (upstream:
 * `failed to make <kind> K8S compatible: <name>`); a converted name the apiserver would reject (a trailing
 * `-`, a space…) is reported rather than emitted.
 */
export function toK8sName(legacy: string): NameConversion {
  if (UPSTREAM_K8S_NAME.test(legacy)) return { ok: true, name: legacy, renamed: false };
  const lowered = legacy.slice(0, MAX_NAME_LENGTH).toLowerCase().replaceAll('_', '-');
  const firstLetter = lowered.search(/[a-z]/);
  if (firstLetter < 0) return { ok: false, reason: 'no-letter', name: lowered };
  const name = lowered.slice(firstLetter);
  if (!DNS_SUBDOMAIN.test(name)) return { ok: false, reason: 'invalid-after-conversion', name };
  return { ok: true, name, renamed: name !== legacy };
}
