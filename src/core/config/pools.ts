/**
 * `address-pools` semantics in MetalLB v0.12.1's order: name, addresses, each address, protocol,
 * BGP advertisements (errors wrapped "parsing BGP communities", as upstream), then — after the
 * pool parsed — duplicate name and overlap with every prefix defined so far.
 */
import { type Cidr, formatCidr } from '../ip/index.js';
import { parseAddressEntry } from './addresses.js';
import { parseCommunity } from './communities.js';
import { OverlapIndex } from './overlap.js';
import type { RawAddressPool, RawBgpAdvertisement } from './raw-types.js';
import type { SemanticError } from './semantic-error.js';
import type { BgpAdvertisement, Pool } from './types.js';

/** A parsed pool plus its prefixes per address entry (for error paths). */
type PoolResult = { ok: true; pool: Pool; entries: readonly (readonly Cidr[])[] } | { ok: false; error: SemanticError };

const DEFAULT_AD: BgpAdvertisement = { aggregationLength: 32, aggregationLengthV6: 128, localPref: 0, communities: [] };

/** Parses one pool (not the cross-pool checks). `index` is 0-based. */
function parsePool(raw: RawAddressPool, index: number, aliases: ReadonlyMap<string, number>): PoolResult {
  const base = `/address-pools/${index}`;
  const fail = (kind: string, message: string, value: string, path: string): PoolResult => ({
    ok: false,
    error: { kind, message: `parsing address pool #${index + 1}: ${message}`, value, path },
  });
  const name = raw.name ?? '';
  if (name === '') return fail('missing-pool-name', 'missing pool name', '', `${base}/name`);
  const addresses = raw.addresses ?? [];
  if (addresses.length === 0) return fail('no-addresses', 'pool has no prefixes defined', name, `${base}/addresses`);
  const entries: (readonly Cidr[])[] = [];
  for (const [i, entry] of addresses.entries()) {
    const parsed = parseAddressEntry(entry);
    if (!parsed.ok) {
      const message = `invalid CIDR ${JSON.stringify(entry)} in pool ${JSON.stringify(name)}: ${parsed.message}`;
      return fail('invalid-cidr', message, entry, `${base}/addresses/${i}`);
    }
    entries.push(parsed.cidrs);
  }
  const protocol = raw.protocol ?? '';
  if (protocol === '') return fail('missing-protocol', 'address pool is missing the protocol field', name, `${base}/protocol`);
  if (protocol !== 'bgp' && protocol !== 'layer2') {
    return fail('unknown-protocol', `unknown protocol ${JSON.stringify(protocol)}`, protocol, `${base}/protocol`);
  }
  const rawAds = raw['bgp-advertisements'] ?? [];
  let bgpAdvertisements: BgpAdvertisement[] = [];
  if (protocol === 'layer2' && rawAds.length > 0) {
    const message = 'cannot have bgp-advertisements configuration element in a layer2 address pool';
    return fail('bgp-advertisements-in-layer2', message, name, `${base}/bgp-advertisements`);
  }
  if (protocol === 'bgp') {
    const ads = parseAdvertisements(rawAds, entries, addresses, aliases, `${base}/bgp-advertisements`);
    if (!ads.ok) return fail(ads.error.kind, `parsing BGP communities: ${ads.error.message}`, ads.error.value, ads.error.path);
    bgpAdvertisements = ads.ads;
  }
  const pool: Pool = {
    name,
    protocol,
    cidrs: entries.flat(),
    addresses: [...addresses],
    avoidBuggyIps: raw['avoid-buggy-ips'] ?? false,
    autoAssign: raw['auto-assign'] ?? true,
    bgpAdvertisements,
  };
  return { ok: true, pool, entries };
}

type AdsResult = { ok: true; ads: BgpAdvertisement[] } | { ok: false; error: SemanticError };

/** Canonical text of a raw advertisement for MetalLB's deep-equality duplicate check. */
function adKey(ad: RawBgpAdvertisement): string {
  return JSON.stringify([ad['aggregation-length'], ad['aggregation-length-v6'], ad.localpref, ad.communities]);
}

function parseAdvertisements(
  rawAds: readonly RawBgpAdvertisement[],
  entries: readonly (readonly Cidr[])[],
  addresses: readonly string[],
  aliases: ReadonlyMap<string, number>,
  base: string,
): AdsResult {
  if (rawAds.length === 0) return { ok: true, ads: [DEFAULT_AD] };
  const seen = new Map<string, number>();
  for (const [i, ad] of rawAds.entries()) {
    const earlier = seen.get(adKey(ad));
    if (earlier !== undefined) {
      const message = `duplicate definition of bgpadvertisements. advertisement ${earlier + 1} and ${i + 1} are equal`;
      return { ok: false, error: { kind: 'duplicate-advertisement', message, value: String(i + 1), path: `${base}/${i}` } };
    }
    seen.set(adKey(ad), i);
  }
  const ads: BgpAdvertisement[] = [];
  for (const [i, raw] of rawAds.entries()) {
    const parsed = parseAdvertisement(raw, entries, addresses, aliases, `${base}/${i}`);
    if (!parsed.ok) return parsed;
    ads.push(parsed.ad);
  }
  return { ok: true, ads };
}

type AdResult = { ok: true; ad: BgpAdvertisement } | { ok: false; error: SemanticError };

function parseAdvertisement(
  raw: RawBgpAdvertisement,
  entries: readonly (readonly Cidr[])[],
  addresses: readonly string[],
  aliases: ReadonlyMap<string, number>,
  path: string,
): AdResult {
  const fail = (kind: string, message: string, value: string, at: string): AdResult => ({
    ok: false, error: { kind, message, value, path: at },
  });
  const agg = raw['aggregation-length'] ?? 32;
  const aggV6 = raw['aggregation-length-v6'] ?? 128;
  if (agg > 32) {
    return fail('invalid-aggregation-length', `invalid aggregation length ${agg} for IPv4`, String(agg), `${path}/aggregation-length`);
  }
  if (aggV6 > 128) {
    return fail('invalid-aggregation-length', `invalid aggregation length ${aggV6} for IPv6`, String(aggV6), `${path}/aggregation-length-v6`);
  }
  for (const [i, cidrs] of entries.entries()) {
    if (cidrs.length === 0) continue;
    const v6 = cidrs[0]!.base.family === 6;
    const length = v6 ? aggV6 : agg;
    const widest = Math.min(...cidrs.map((c) => c.bits));
    if (length < widest) {
      const key = v6 ? 'aggregation-length-v6' : 'aggregation-length';
      const message =
        `invalid aggregation length ${length}: prefix length ${widest} in this pool is more specific than ` +
        `the aggregation length for addresses ${addresses[i]!}`;
      return fail('invalid-aggregation-length', message, addresses[i]!, `${path}/${key}`);
    }
  }
  const communities = raw.communities ?? [];
  const values = new Set<number>();
  for (const [i, text] of communities.entries()) {
    if (communities.indexOf(text) !== i) {
      return fail('duplicate-community', `duplicate definition of community ${JSON.stringify(text)}`, text, `${path}/communities/${i}`);
    }
  }
  for (const [i, text] of communities.entries()) {
    const alias = aliases.get(text);
    if (alias !== undefined) {
      values.add(alias);
      continue;
    }
    const parsed = parseCommunity(text);
    if (!parsed.ok) {
      const message = `invalid community ${JSON.stringify(text)} in BGP advertisement: ${parsed.message}`;
      return fail('invalid-community', message, parsed.value, `${path}/communities/${i}`);
    }
    values.add(parsed.value);
  }
  const ad: BgpAdvertisement = {
    aggregationLength: agg,
    aggregationLengthV6: aggV6,
    localPref: raw.localpref ?? 0,
    communities: [...values].sort((a, b) => a - b),
  };
  return { ok: true, ad };
}

/** Parses all pools: per-pool checks, then duplicate names and overlaps, in MetalLB's order. */
export function parsePools(
  raws: readonly RawAddressPool[],
  aliases: ReadonlyMap<string, number>,
): { ok: true; pools: Pool[] } | { ok: false; error: SemanticError } {
  const pools: Pool[] = [];
  const names = new Set<string>();
  const overlap = new OverlapIndex();
  for (const [index, raw] of raws.entries()) {
    const parsed = parsePool(raw, index, aliases);
    if (!parsed.ok) return parsed;
    const pool = parsed.pool;
    if (names.has(pool.name)) {
      const error = { kind: 'duplicate-pool', message: `duplicate definition of pool ${JSON.stringify(pool.name)}`, value: pool.name, path: `/address-pools/${index}/name` };
      return { ok: false, error };
    }
    names.add(pool.name);
    const clash = overlapError(pool, parsed.entries, index, overlap);
    if (clash) return { ok: false, error: clash };
    pools.push(pool);
  }
  return { ok: true, pools };
}

function overlapError(
  pool: Pool,
  entries: readonly (readonly Cidr[])[],
  index: number,
  overlap: OverlapIndex,
): SemanticError | undefined {
  for (const [entryIndex, cidrs] of entries.entries()) {
    for (const cidr of cidrs) {
      const old = overlap.firstOverlapping(cidr);
      if (old) {
        const message = `CIDR ${JSON.stringify(formatCidr(cidr))} in pool ${JSON.stringify(pool.name)} overlaps with already defined CIDR ${JSON.stringify(formatCidr(old))}`;
        return { kind: 'overlapping-cidr', message, value: formatCidr(cidr), path: `/address-pools/${index}/addresses/${entryIndex}` };
      }
      overlap.add(cidr);
    }
  }
  return undefined;
}
