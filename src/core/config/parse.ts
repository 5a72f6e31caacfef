/**
 * `parseConfig`: MetalLB's ConfigMap payload → the typed domain Config, or errors that point at
 * the YAML. Stage 1 (raw.ts) decodes like yaml.v2 `UnmarshalStrict` and checks the shape against
 * the JSON Schema, reporting every shape error; stage 2 applies MetalLB's semantic rules in its
 * order — bfd-profiles, peers, bgp-communities, address-pools — stopping at the first error, as
 * MetalLB does, so the error reported is the one MetalLB reports.
 */
import { parseBfdProfiles } from './bfd.js';
import { parseCommunity } from './communities.js';
import { pointerSegment } from './decode.js';
import { readConfigSource } from './manifest.js';
import { parsePeers } from './peers.js';
import { parsePools } from './pools.js';
import { decodeRawConfig, type RawDecodeResult } from './raw.js';
import type { RawConfig } from './raw-types.js';
import type { SemanticError } from './semantic-error.js';
import type { TextOrigin } from './source.js';
import type { Config, ConfigError, ConfigResult, SourcePosition } from './types.js';

export interface ParseOptions {
  /** Where the payload sits in the user's file (default: it is the whole file). */
  readonly origin?: TextOrigin;
}

/** Parses a ConfigMap payload (the text of `data.config`). Never throws for bad input. */
export function parseConfig(text: string, options: ParseOptions = {}): ConfigResult {
  const decoded = decodeRawConfig(text, { strict: true, ...(options.origin ? { origin: options.origin } : {}) });
  return checkDecoded(decoded);
}

/**
 * Parses what `metallb-ts validate` accepts: a ConfigMap manifest (its `data.config`; a missing
 * key is a valid empty config) or a bare payload. Positions point into `text`.
 */
export function parseConfigDocument(text: string): ConfigResult {
  const source = readConfigSource(text);
  if (!source.ok) return { ok: false, errors: source.errors };
  return parseConfig(source.payload.text, { origin: source.payload.origin });
}

/** Stage 2 on an already decoded payload (used by parseConfig; exported for tools). */
export function checkDecoded(decoded: RawDecodeResult): ConfigResult {
  if (!decoded.raw) return { ok: false, errors: decoded.errors };
  const result = configFromRaw(decoded.raw);
  if (result.ok) return { ok: true, config: result.config };
  const { kind, message, value, path } = result.error;
  const position: SourcePosition | undefined = decoded.positionOf(path);
  const error: ConfigError = { kind, message, value, path, ...(position ? { position } : {}) };
  return { ok: false, errors: [error] };
}

/** MetalLB's semantic checks on a decoded payload, in MetalLB's order. */
export function configFromRaw(raw: RawConfig): { ok: true; config: Config } | { ok: false; error: SemanticError } {
  const bfd = parseBfdProfiles(raw['bfd-profiles'] ?? []);
  if (!bfd.ok) return bfd;
  const peers = parsePeers(raw.peers ?? [], new Set(bfd.profiles.map((p) => p.name)));
  if (!peers.ok) return peers;
  const aliases = new Map<string, number>();
  const rawAliases = raw['bgp-communities'] ?? {};
  for (const alias of Object.keys(rawAliases)) {
    const parsed = parseCommunity(rawAliases[alias]!);
    if (!parsed.ok) {
      const message = `parsing community ${JSON.stringify(alias)}: ${parsed.message}`;
      return { ok: false, error: { kind: 'invalid-community-alias', message, value: parsed.value, path: `/bgp-communities/${pointerSegment(alias)}` } };
    }
    aliases.set(alias, parsed.value);
  }
  const pools = parsePools(raw['address-pools'] ?? [], aliases);
  if (!pools.ok) return pools;
  return { ok: true, config: { pools: pools.pools, peers: peers.peers, bfdProfiles: bfd.profiles, communityAliases: aliases } };
}
