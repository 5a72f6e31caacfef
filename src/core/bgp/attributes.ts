/**
 * Path attributes (RFC 4271 §4.3/§5) as values, and their encoding. Decoding, with RFC 7606's error
 * handling, is in update-decode.ts. AS numbers are written 4 octets wide when the session negotiated
 * RFC 6793's capability, else 2 octets with AS_TRANS for larger ASNs plus an AS4_PATH carrying the real path.
 */
import { type Cidr, type IpAddr } from '../ip/index.js';
import { AS_TRANS, AsPathSegmentType, AttrFlag, AttrType, type OriginValue } from './constants.js';
import { encodePrefixes, ipToBytes } from './wire.js';

/** One AS_PATH segment (AS_SET, AS_SEQUENCE or a confederation segment), ASNs as plain numbers. */
export interface AsPathSegment {
  readonly type: number;
  readonly asns: readonly number[];
}

/** MP_REACH_NLRI (RFC 4760 §3): next hop(s) (one global, optionally a link-local for IPv6) and prefixes. */
export interface MpReach {
  readonly afi: number;
  readonly safi: number;
  readonly nextHops: readonly IpAddr[];
  readonly nlri: readonly Cidr[];
}

/** MP_UNREACH_NLRI (RFC 4760 §4). Empty `withdrawn` for AFI/SAFI = that family's End-of-RIB (RFC 4724 §2). */
export interface MpUnreach {
  readonly afi: number;
  readonly safi: number;
  readonly withdrawn: readonly Cidr[];
}

/** An attribute kept as bytes (unknown types, or known ones this speaker does not interpret). */
export interface RawAttribute {
  readonly flags: number;
  readonly type: number;
  readonly value: Buffer;
}

/** The attributes of one UPDATE. Absent = not carried. */
export interface PathAttributes {
  readonly origin?: OriginValue | undefined;
  readonly asPath?: readonly AsPathSegment[] | undefined;
  /** NEXT_HOP (IPv4 only; IPv6 next hops travel in MP_REACH_NLRI). */
  readonly nextHop?: IpAddr | undefined;
  readonly med?: number | undefined;
  readonly localPref?: number | undefined;
  readonly atomicAggregate?: boolean | undefined;
  /** COMMUNITIES (RFC 1997): 32-bit values, written in the given order. */
  readonly communities?: readonly number[] | undefined;
  readonly mpReach?: MpReach | undefined;
  readonly mpUnreach?: MpUnreach | undefined;
  /** AS4_PATH as received; on encode it is derived automatically when needed. */
  readonly as4Path?: readonly AsPathSegment[] | undefined;
  readonly other?: readonly RawAttribute[] | undefined;
}

/** How to write AS numbers on this session. */
export interface AttributeContext {
  /** Both OPENs carried the 4-octet AS capability (RFC 6793 §3). */
  readonly fourOctetAs: boolean;
}

const WELL_KNOWN = AttrFlag.TRANSITIVE;
const OPTIONAL_TRANSITIVE = AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE;

/** Writes flags/type/length/value, setting Extended Length when the value exceeds 255 octets. */
export function encodeAttribute(flags: number, type: number, value: Buffer): Buffer {
  const ext = value.length > 255;
  const head = Buffer.alloc(ext ? 4 : 3);
  head[0] = (flags & ~AttrFlag.EXTENDED_LENGTH) | (ext ? AttrFlag.EXTENDED_LENGTH : 0);
  head[1] = type;
  if (ext) head.writeUInt16BE(value.length, 2);
  else head[2] = value.length;
  return Buffer.concat([head, value]);
}

/** Encodes AS_PATH/AS4_PATH segments with `width`-octet ASNs (ASNs above 65535 become AS_TRANS at width 2). */
export function encodeAsPath(segments: readonly AsPathSegment[], width: 2 | 4): Buffer {
  const parts: Buffer[] = [];
  for (const seg of segments) {
    // RFC 4271 §4.3: at most 255 ASNs per segment, so longer runs split into consecutive segments; an
    // empty segment is malformed (RFC 7606 §7.2), so none is written.
    for (let i = 0; i < seg.asns.length; i += 255) {
      const chunk = seg.asns.slice(i, i + 255);
      const b = Buffer.alloc(2 + width * chunk.length);
      b[0] = seg.type;
      b[1] = chunk.length;
      chunk.forEach((asn, j) => {
        if (width === 4) b.writeUInt32BE(asn >>> 0, 2 + 4 * j);
        else b.writeUInt16BE(asn > 0xffff ? AS_TRANS : asn, 2 + 2 * j);
      });
      parts.push(b);
    }
  }
  return Buffer.concat(parts);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

function encodeMpReach(r: MpReach): Buffer {
  const nh = Buffer.concat(r.nextHops.map(ipToBytes));
  const head = Buffer.alloc(4 + nh.length);
  head.writeUInt16BE(r.afi, 0);
  head[2] = r.safi;
  head[3] = nh.length;
  nh.copy(head, 4);
  // One reserved octet (formerly the SNPA count, RFC 4760 §3) then the NLRI.
  return Buffer.concat([head, Buffer.from([0]), encodePrefixes(r.nlri)]);
}

function encodeMpUnreach(u: MpUnreach): Buffer {
  const head = Buffer.alloc(3);
  head.writeUInt16BE(u.afi, 0);
  head[2] = u.safi;
  return Buffer.concat([head, encodePrefixes(u.withdrawn)]);
}

/**
 * Encodes the path attributes: MP_UNREACH_NLRI and MP_REACH_NLRI first (RFC 7606 §5.1), then the others in
 * type-code order (ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, ATOMIC_AGGREGATE, COMMUNITIES, AS4_PATH, raw).
 */
export function encodeAttributes(a: PathAttributes, ctx: AttributeContext): Buffer {
  const parts: Buffer[] = [];
  if (a.mpUnreach) parts.push(encodeAttribute(AttrFlag.OPTIONAL, AttrType.MP_UNREACH_NLRI, encodeMpUnreach(a.mpUnreach)));
  if (a.mpReach) parts.push(encodeAttribute(AttrFlag.OPTIONAL, AttrType.MP_REACH_NLRI, encodeMpReach(a.mpReach)));
  if (a.origin !== undefined) parts.push(encodeAttribute(WELL_KNOWN, AttrType.ORIGIN, Buffer.from([a.origin])));
  let as4: readonly AsPathSegment[] | undefined = a.as4Path;
  if (a.asPath !== undefined) {
    parts.push(encodeAttribute(WELL_KNOWN, AttrType.AS_PATH, encodeAsPath(a.asPath, ctx.fourOctetAs ? 4 : 2)));
    // RFC 6793 §4.2.2: towards an old speaker, a path holding 4-octet ASNs also travels as AS4_PATH.
    if (!ctx.fourOctetAs && as4 === undefined && a.asPath.some((s) => s.asns.some((n) => n > 0xffff))) {
      as4 = a.asPath.filter((s) => s.type === AsPathSegmentType.AS_SEQUENCE || s.type === AsPathSegmentType.AS_SET);
    }
  }
  if (a.nextHop !== undefined) parts.push(encodeAttribute(WELL_KNOWN, AttrType.NEXT_HOP, ipToBytes(a.nextHop)));
  if (a.med !== undefined) parts.push(encodeAttribute(AttrFlag.OPTIONAL, AttrType.MULTI_EXIT_DISC, u32(a.med)));
  if (a.localPref !== undefined) parts.push(encodeAttribute(WELL_KNOWN, AttrType.LOCAL_PREF, u32(a.localPref)));
  if (a.atomicAggregate) parts.push(encodeAttribute(WELL_KNOWN, AttrType.ATOMIC_AGGREGATE, Buffer.alloc(0)));
  if (a.communities !== undefined && a.communities.length > 0) {
    parts.push(encodeAttribute(OPTIONAL_TRANSITIVE, AttrType.COMMUNITIES, Buffer.concat(a.communities.map(u32))));
  }
  if (as4 !== undefined && !ctx.fourOctetAs) parts.push(encodeAttribute(OPTIONAL_TRANSITIVE, AttrType.AS4_PATH, encodeAsPath(as4, 4)));
  for (const r of a.other ?? []) parts.push(encodeAttribute(r.flags, r.type, r.value));
  return Buffer.concat(parts);
}
