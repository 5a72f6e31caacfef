/**
 * (v0.12) `bfd-profiles` semantics: required unique names and MetalLB's value ranges, checked in
 * MetalLB's order (detect-multiplier, receive, transmit, minimum-ttl, echo).
 */
import type { RawBfdProfile } from './raw-types.js';
import type { SemanticError } from './semantic-error.js';
import type { BfdProfile } from './types.js';

/** [key, label, low, high] in MetalLB's check order. */
const RANGES: readonly (readonly [keyof RawBfdProfile, string, number, number])[] = [
  ['detect-multiplier', 'invalid detect multiplier value', 2, 255],
  ['receive-interval', 'invalid receive interval value', 10, 60000],
  ['transmit-interval', 'invalid transmit interval value', 10, 60000],
  ['minimum-ttl', 'invalid minimum ttl value', 1, 254],
  // MetalLB labels this one "invalid minimum ttl value" (copy/paste bug); we name the real field.
  ['echo-interval', 'invalid echo interval value', 10, 60000],
];

function parseProfile(raw: RawBfdProfile, index: number): { ok: true; profile: BfdProfile } | { ok: false; error: SemanticError } {
  const base = `/bfd-profiles/${index}`;
  const wrap = (m: string) => `parsing bfd profile #${index + 1}: ${m}`;
  const name = raw.name ?? '';
  if (name === '') {
    return { ok: false, error: { kind: 'missing-bfd-profile-name', message: wrap('missing bfd profile name'), value: '', path: `${base}/name` } };
  }
  for (const [key, label, low, high] of RANGES) {
    const value = raw[key] as number | undefined;
    if (value !== undefined && (value < low || value > high)) {
      const message = wrap(`${label}: invalid value ${value}, must be in ${low}-${high} range`);
      return { ok: false, error: { kind: 'invalid-bfd-value', message, value: String(value), path: `${base}/${key}` } };
    }
  }
  const profile: BfdProfile = {
    name,
    receiveIntervalMs: raw['receive-interval'],
    transmitIntervalMs: raw['transmit-interval'],
    detectMultiplier: raw['detect-multiplier'],
    echoIntervalMs: raw['echo-interval'],
    echoMode: raw['echo-mode'] ?? false,
    passiveMode: raw['passive-mode'] ?? false,
    minimumTtl: raw['minimum-ttl'],
  };
  return { ok: true, profile };
}

/** Parses all BFD profiles (names unique). */
export function parseBfdProfiles(raws: readonly RawBfdProfile[]): { ok: true; profiles: BfdProfile[] } | { ok: false; error: SemanticError } {
  const profiles: BfdProfile[] = [];
  const names = new Set<string>();
  for (const [index, raw] of raws.entries()) {
    const parsed = parseProfile(raw, index);
    if (!parsed.ok) return parsed;
    if (names.has(parsed.profile.name)) {
      const message = `found duplicate bfd profile name ${parsed.profile.name}`;
      return { ok: false, error: { kind: 'duplicate-bfd-profile', message, value: parsed.profile.name, path: `/bfd-profiles/${index}/name` } };
    }
    names.add(parsed.profile.name);
    profiles.push(parsed.profile);
  }
  return { ok: true, profiles };
}
