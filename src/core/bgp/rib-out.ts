/**
 * Adj-RIB-Out for one session: from the routes we want the peer to have (`desired`) and those it has
 * (`advertised`), the fewest UPDATEs that get it there. Prefixes with identical attributes share an UPDATE
 * (packed up to 4096 octets), withdrawals are batched, an unchanged route is not resent, a changed one is
 * re-announced (an implicit withdraw, RFC 4271 §3.1). `initialUpdates` adds the End-of-RIB per family
 * (RFC 4724 §2) after the first full send. Attribute values follow spec §6.3: ORIGIN INCOMPLETE, AS_PATH
 * empty on iBGP and our ASN on eBGP, LOCAL_PREF on iBGP only (0 when unset, as v0.11), COMMUNITIES sorted.
 */
import { type Cidr, type Family, type IpAddr, compareIp, formatCidr, formatIp } from '../ip/index.js';
import { AsPathSegmentType, HEADER_LENGTH, MAX_MESSAGE_LENGTH, Origin, Safi } from './constants.js';
import { type PathAttributes, encodeAttributes } from './attributes.js';
import { encodeEndOfRib, encodeUpdateParts } from './update.js';
import { afiOf, encodePrefix, prefixWireLength } from './wire.js';

/** What we say about one prefix. */
export interface RouteAttributes {
  /** LOCAL_PREF, sent on iBGP sessions only; v0.11 sends 0 when the advertisement sets none. */
  readonly localPref?: number | undefined;
  /** COMMUNITIES (RFC 1997), any order: written sorted ascending without duplicates. */
  readonly communities?: readonly number[] | undefined;
  /** Next hop overriding the session's default for the prefix's family. */
  readonly nextHop?: IpAddr | undefined;
}

/** One route: a prefix and its attributes. */
export interface Route {
  readonly prefix: Cidr;
  readonly attributes: RouteAttributes;
}

/** Routes keyed by `formatCidr(prefix)` (see routeTable). */
export type RouteTable = ReadonlyMap<string, Route>;

/** Builds a RouteTable; a later route for the same prefix replaces an earlier one. */
export function routeTable(routes: Iterable<Route>): Map<string, Route> {
  const m = new Map<string, Route>();
  for (const r of routes) m.set(formatCidr(r.prefix), r);
  return m;
}

/** The session facts UPDATEs depend on (from Negotiated and the node's addresses, spec §6.4). */
export interface RibOutContext {
  readonly localAs: number;
  readonly ibgp: boolean;
  readonly fourOctetAs: boolean;
  /** Families the session carries; other routes stay pending. */
  readonly families: readonly Family[];
  /** Default next hop per family: the session's local address for its own family, the node's address for the other. */
  readonly nextHops: { readonly 4?: IpAddr | undefined; readonly 6?: IpAddr | undefined };
}

/** The plan: messages to send, what the peer has afterwards, and routes that cannot be sent on this session. */
export interface RibOutPlan {
  readonly frames: Buffer[];
  readonly advertised: Map<string, Route>;
  /** Desired routes not sent: family not carried, or no next hop of the family known. */
  readonly pending: Route[];
}

const EMPTY = Buffer.alloc(0);
/** Room for path attributes plus NLRI: 4096 minus header and the two 2-octet length fields. */
const ROOM = MAX_MESSAGE_LENGTH - HEADER_LENGTH - 4;

function familyOf(r: Route): Family {
  return r.prefix.base.family;
}

function compareRoutes(a: Route, b: Route): number {
  return compareIp(a.prefix.base, b.prefix.base) || a.prefix.bits - b.prefix.bits;
}

function nextHopOf(r: Route, ctx: RibOutContext): IpAddr | undefined {
  const f = familyOf(r);
  const nh = r.attributes.nextHop;
  return nh !== undefined && nh.family === f ? nh : ctx.nextHops[f];
}

/** The attributes actually sent, as a canonical key: two routes with equal keys share an UPDATE. */
function wireKey(r: Route, ctx: RibOutContext): string {
  const nh = nextHopOf(r, ctx);
  const lp = ctx.ibgp ? (r.attributes.localPref ?? 0) : -1;
  return `${familyOf(r)}|${nh ? formatIp(nh) : ''}|${lp}|${sortedCommunities(r).join(',')}`;
}

function sortedCommunities(r: Route): number[] {
  return [...new Set(r.attributes.communities ?? [])].sort((a, b) => a - b);
}

/** Attributes of a group, without MP_REACH (added per message for IPv6). */
function baseAttributes(r: Route, ctx: RibOutContext): PathAttributes {
  return {
    origin: Origin.INCOMPLETE,
    asPath: ctx.ibgp ? [] : [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [ctx.localAs] }],
    nextHop: familyOf(r) === 4 ? nextHopOf(r, ctx) : undefined,
    localPref: ctx.ibgp ? (r.attributes.localPref ?? 0) : undefined,
    communities: sortedCommunities(r),
  };
}

/** Splits `prefixes` into runs whose encoded size stays within `room(n)` octets. */
function pack(prefixes: readonly Cidr[], room: (nlriBytes: number) => boolean): Cidr[][] {
  const out: Cidr[][] = [];
  let cur: Cidr[] = [];
  let bytes = 0;
  for (const p of prefixes) {
    const len = prefixWireLength(p);
    if (cur.length > 0 && !room(bytes + len)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(p);
    bytes += len;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** MP attribute header is 3 octets, or 4 with Extended Length above 255 octets of value. */
const mpHeader = (valueLen: number) => (valueLen > 255 ? 4 : 3);

function withdrawals(family: Family, prefixes: readonly Cidr[], ctx: RibOutContext): Buffer[] {
  if (prefixes.length === 0) return [];
  if (family === 4) {
    return pack(prefixes, (n) => n <= ROOM).map((run) => encodeUpdateParts(Buffer.concat(run.map(encodePrefix)), EMPTY, EMPTY));
  }
  return pack(prefixes, (n) => mpHeader(3 + n) + 3 + n <= ROOM).map((run) => {
    const attrs = encodeAttributes({ mpUnreach: { afi: afiOf(family), safi: Safi.UNICAST, withdrawn: run } }, ctx);
    return encodeUpdateParts(EMPTY, attrs, EMPTY);
  });
}

function announcements(group: readonly Route[], ctx: RibOutContext): Buffer[] {
  const first = group[0]!;
  const base = baseAttributes(first, ctx);
  const prefixes = group.map((r) => r.prefix);
  const baseBytes = encodeAttributes(base, ctx);
  if (familyOf(first) === 4) {
    return pack(prefixes, (n) => baseBytes.length + n <= ROOM).map((run) => encodeUpdateParts(EMPTY, baseBytes, Buffer.concat(run.map(encodePrefix))));
  }
  const nh = nextHopOf(first, ctx)!;
  const fixed = 5 + 16; // AFI, SAFI, next-hop length, 16-octet next hop, reserved octet
  return pack(prefixes, (n) => baseBytes.length + mpHeader(fixed + n) + fixed + n <= ROOM).map((run) => {
    const attrs = encodeAttributes({ ...base, mpReach: { afi: afiOf(6), safi: Safi.UNICAST, nextHops: [nh], nlri: run } }, ctx);
    return encodeUpdateParts(EMPTY, attrs, EMPTY);
  });
}

/**
 * Plans the UPDATEs taking the peer from `advertised` to `desired`: withdrawals first (IPv4, then IPv6),
 * then announcements grouped by identical attributes, each group's prefixes in address order.
 */
export function planUpdates(advertised: RouteTable, desired: RouteTable, ctx: RibOutContext): RibOutPlan {
  const next = new Map<string, Route>();
  const pending: Route[] = [];
  const groups = new Map<string, Route[]>();
  for (const [key, route] of desired) {
    if (!ctx.families.includes(familyOf(route)) || nextHopOf(route, ctx) === undefined) {
      pending.push(route);
      continue;
    }
    next.set(key, route);
    const before = advertised.get(key);
    const wk = wireKey(route, ctx);
    if (before !== undefined && wireKey(before, ctx) === wk) continue;
    const g = groups.get(wk);
    if (g) g.push(route);
    else groups.set(wk, [route]);
  }
  const gone: Record<Family, Cidr[]> = { 4: [], 6: [] };
  for (const [key, route] of advertised) if (!next.has(key)) gone[familyOf(route)].push(route.prefix);
  const byAddr = (a: Cidr, b: Cidr) => compareIp(a.base, b.base) || a.bits - b.bits;
  const frames = [...withdrawals(4, gone[4].sort(byAddr), ctx), ...withdrawals(6, gone[6].sort(byAddr), ctx)];
  const ordered = [...groups.values()].map((g) => g.sort(compareRoutes)).sort((a, b) => compareRoutes(a[0]!, b[0]!));
  for (const g of ordered) frames.push(...announcements(g, ctx));
  return { frames, advertised: next, pending };
}

/** Everything after the session comes up: all routes, then End-of-RIB for each family the session carries. */
export function initialUpdates(desired: RouteTable, ctx: RibOutContext): RibOutPlan {
  const plan = planUpdates(new Map(), desired, ctx);
  return { ...plan, frames: [...plan.frames, ...ctx.families.map(encodeEndOfRib)] };
}

/** Answer to a ROUTE-REFRESH for `family` (RFC 2918 §4): every advertised route of it again. */
export function refreshUpdates(advertised: RouteTable, family: Family, ctx: RibOutContext): Buffer[] {
  const only = new Map([...advertised].filter(([, r]) => familyOf(r) === family));
  return planUpdates(new Map(), only, ctx).frames;
}
