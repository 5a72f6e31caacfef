/**
 * Received UPDATE decoding with RFC 7606's revised error handling. This speaker learns no routes, but it
 * must answer a malformed UPDATE correctly: "session reset" (a Result error → NOTIFICATION 3/x), or
 * "treat-as-withdraw" / "attribute discard" (the UPDATE decodes, with `treatAsWithdraw` / `discarded` set,
 * and the session stays up). When several errors meet, the strongest approach wins (RFC 7606 §3(i)).
 */
import { type Cidr, type Family } from '../ip/index.js';
import { AsPathSegmentType, AttrFlag, AttrType, ErrorCode, type OriginValue, UpdateSubcode } from './constants.js';
import { type AsPathSegment, type MpReach, type MpUnreach, type PathAttributes, type RawAttribute, encodeAttribute } from './attributes.js';
import { type AfiSafi } from './capabilities.js';
import { type Result, fail, ok } from './error.js';
import { type UpdateMessage } from './update.js';
import { decodePrefixes, familyOfAfi, ipFromBytes } from './wire.js';

/** What the session negotiated that decoding depends on. */
export interface UpdateDecodeContext {
  readonly fourOctetAs: boolean;
  /** The peer is in our AS: LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST are expected from it only. */
  readonly ibgp: boolean;
}

/** A decoded UPDATE and what RFC 7606 made of its errors. */
export interface ReceivedUpdate extends UpdateMessage {
  /** Set when RFC 7606 says to treat the UPDATE's routes as withdrawn: the reason. */
  readonly treatAsWithdraw?: string | undefined;
  /** Attributes ignored (RFC 7606 attribute discard, or repeated attributes), each with its reason. */
  readonly discarded: readonly string[];
  /** Set when the UPDATE is an End-of-RIB marker for this AFI/SAFI (RFC 4724 §2). */
  readonly endOfRib?: AfiSafi | undefined;
}

type Attrs = { -readonly [K in keyof PathAttributes]: PathAttributes[K] };

const resetAttrList = (why: string) => fail<ReceivedUpdate>(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, why);

/** Expected Optional/Transitive flag bits of the attributes we interpret (RFC 4271 §5, 4760, 1997, 6793). */
const EXPECTED_FLAGS: Record<number, number> = {
  [AttrType.ORIGIN]: AttrFlag.TRANSITIVE,
  [AttrType.AS_PATH]: AttrFlag.TRANSITIVE,
  [AttrType.NEXT_HOP]: AttrFlag.TRANSITIVE,
  [AttrType.MULTI_EXIT_DISC]: AttrFlag.OPTIONAL,
  [AttrType.LOCAL_PREF]: AttrFlag.TRANSITIVE,
  [AttrType.ATOMIC_AGGREGATE]: AttrFlag.TRANSITIVE,
  [AttrType.AGGREGATOR]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  [AttrType.COMMUNITIES]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  [AttrType.ORIGINATOR_ID]: AttrFlag.OPTIONAL,
  [AttrType.CLUSTER_LIST]: AttrFlag.OPTIONAL,
  [AttrType.MP_REACH_NLRI]: AttrFlag.OPTIONAL,
  [AttrType.MP_UNREACH_NLRI]: AttrFlag.OPTIONAL,
  [AttrType.EXTENDED_COMMUNITIES]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  [AttrType.AS4_PATH]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  [AttrType.AS4_AGGREGATOR]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  [AttrType.LARGE_COMMUNITIES]: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
};

/** Attributes whose errors are handled by discarding them (RFC 7606 §7.6, §7.7; RFC 6793 §6). */
const DISCARD_ON_ERROR = new Set<number>([AttrType.ATOMIC_AGGREGATE, AttrType.AGGREGATOR, AttrType.AS4_PATH, AttrType.AS4_AGGREGATOR]);

/** Parses AS_PATH/AS4_PATH segments; undefined when malformed (RFC 7606 §7.2: bad type, zero count, overrun). */
export function decodeAsPath(v: Buffer, width: 2 | 4): AsPathSegment[] | undefined {
  const out: AsPathSegment[] = [];
  let i = 0;
  while (i < v.length) {
    if (i + 2 > v.length) return undefined;
    const type = v[i]!;
    const count = v[i + 1]!;
    if (type < AsPathSegmentType.AS_SET || type > AsPathSegmentType.AS_CONFED_SET || count === 0) return undefined;
    if (i + 2 + count * width > v.length) return undefined;
    const asns: number[] = [];
    for (let j = 0; j < count; j++) asns.push(width === 4 ? v.readUInt32BE(i + 2 + 4 * j) : v.readUInt16BE(i + 2 + 2 * j));
    out.push({ type, asns });
    i += 2 + count * width;
  }
  return out;
}

/** MP next-hop lengths RFC 4760 / RFC 2545 / RFC 8950 allow per family. */
function nextHopLengthOk(family: Family, len: number): boolean {
  return family === 4 ? len === 4 || len === 16 || len === 32 : len === 16 || len === 32;
}

function decodeMpReach(v: Buffer): Result<MpReach> {
  const bad = (why: string) => fail<MpReach>(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, `malformed MP_REACH_NLRI: ${why}`);
  if (v.length < 5) return bad(`length ${v.length}`);
  const afi = v.readUInt16BE(0);
  const safi = v[2]!;
  const nhLen = v[3]!;
  if (4 + nhLen + 1 > v.length) return bad(`next hop length ${nhLen} overruns the attribute`);
  const family = familyOfAfi(afi);
  // An AFI/SAFI we do not carry: its NLRI are not ours to parse; keep the attribute opaque (no routes).
  if (family === undefined || safi !== 1) return ok({ afi, safi, nextHops: [], nlri: [] });
  // RFC 7606 §7.11: a next-hop length inconsistent with the AFI/SAFI makes the NLRI unlocatable: session reset.
  if (!nextHopLengthOk(family, nhLen)) return bad(`next hop length ${nhLen} for AFI ${afi}`);
  const nh = v.subarray(4, 4 + nhLen);
  const nextHops = nhLen === 32 ? [ipFromBytes(nh.subarray(0, 16)), ipFromBytes(nh.subarray(16))] : [ipFromBytes(nh)];
  const nlri = decodePrefixes(v.subarray(4 + nhLen + 1), family);
  if (nlri === undefined) return bad('NLRI field syntactically incorrect');
  return ok({ afi, safi, nextHops, nlri });
}

function decodeMpUnreach(v: Buffer): Result<MpUnreach> {
  const bad = (why: string) => fail<MpUnreach>(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, `malformed MP_UNREACH_NLRI: ${why}`);
  if (v.length < 3) return bad(`length ${v.length}`);
  const afi = v.readUInt16BE(0);
  const safi = v[2]!;
  const family = familyOfAfi(afi);
  if (family === undefined || safi !== 1) return ok({ afi, safi, withdrawn: [] });
  const withdrawn = decodePrefixes(v.subarray(3), family);
  if (withdrawn === undefined) return bad('withdrawn routes syntactically incorrect');
  return ok({ afi, safi, withdrawn });
}

/** Outcome of checking one attribute: its value is stored, or it asks for withdraw/discard/reset. */
type AttrVerdict = { kind: 'ok' } | { kind: 'withdraw'; why: string } | { kind: 'discard'; why: string } | { kind: 'reset'; result: Result<ReceivedUpdate> };

function applyAttribute(a: Attrs, flags: number, type: number, v: Buffer, ctx: UpdateDecodeContext): AttrVerdict {
  const withdraw = (why: string): AttrVerdict => ({ kind: 'withdraw', why });
  const discard = (why: string): AttrVerdict => ({ kind: 'discard', why });
  const expected = EXPECTED_FLAGS[type];
  if (expected === undefined) {
    // RFC 4271 §6.3: an unrecognized well-known attribute resets the session, data = the attribute.
    if ((flags & AttrFlag.OPTIONAL) === 0) {
      return { kind: 'reset', result: fail(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, `unrecognized well-known attribute ${type}`, encodeAttribute(flags, type, v)) };
    }
    a.other = [...(a.other ?? []), { flags, type, value: Buffer.from(v) } satisfies RawAttribute];
    return { kind: 'ok' };
  }
  // RFC 7606 §3(c): Optional/Transitive bits in conflict with the type make the attribute malformed.
  const flagsWrong = (flags & (AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE)) !== expected;
  const malformed = (why: string): AttrVerdict => (DISCARD_ON_ERROR.has(type) ? discard(why) : withdraw(why));
  if (flagsWrong && type !== AttrType.MP_REACH_NLRI && type !== AttrType.MP_UNREACH_NLRI) return malformed(`attribute ${type} has flags 0x${flags.toString(16)}`);
  switch (type) {
    case AttrType.ORIGIN:
      if (v.length !== 1 || v[0]! > 2) return withdraw('malformed ORIGIN'); // §7.1
      a.origin = v[0] as OriginValue;
      return { kind: 'ok' };
    case AttrType.AS_PATH: {
      const path = decodeAsPath(v, ctx.fourOctetAs ? 4 : 2);
      if (path === undefined) return withdraw('malformed AS_PATH'); // §7.2
      if (!ctx.ibgp && path.some((s) => s.type === AsPathSegmentType.AS_CONFED_SEQUENCE || s.type === AsPathSegmentType.AS_CONFED_SET)) {
        return withdraw('AS_PATH with confederation segments from an external peer');
      }
      a.asPath = path;
      return { kind: 'ok' };
    }
    case AttrType.NEXT_HOP:
      if (v.length !== 4) return withdraw(`NEXT_HOP length ${v.length}`); // §7.3
      a.nextHop = ipFromBytes(v);
      return { kind: 'ok' };
    case AttrType.MULTI_EXIT_DISC:
      if (v.length !== 4) return withdraw(`MULTI_EXIT_DISC length ${v.length}`); // §7.4
      a.med = v.readUInt32BE(0);
      return { kind: 'ok' };
    case AttrType.LOCAL_PREF:
      if (!ctx.ibgp) return discard('LOCAL_PREF from an external peer'); // §7.5
      if (v.length !== 4) return withdraw(`LOCAL_PREF length ${v.length}`);
      a.localPref = v.readUInt32BE(0);
      return { kind: 'ok' };
    case AttrType.ATOMIC_AGGREGATE:
      if (v.length !== 0) return discard(`ATOMIC_AGGREGATE length ${v.length}`); // §7.6
      a.atomicAggregate = true;
      return { kind: 'ok' };
    case AttrType.AGGREGATOR:
      if (v.length !== (ctx.fourOctetAs ? 8 : 6)) return discard(`AGGREGATOR length ${v.length}`); // §7.7
      return { kind: 'ok' };
    case AttrType.COMMUNITIES: {
      if (v.length === 0 || v.length % 4 !== 0) return withdraw(`COMMUNITIES length ${v.length}`); // §7.8
      const list: number[] = [];
      for (let i = 0; i < v.length; i += 4) list.push(v.readUInt32BE(i));
      a.communities = list;
      return { kind: 'ok' };
    }
    case AttrType.ORIGINATOR_ID:
    case AttrType.CLUSTER_LIST: // §7.9, §7.10
      if (!ctx.ibgp) return discard(`attribute ${type} from an external peer`);
      if (v.length === 0 || v.length % 4 !== 0 || (type === AttrType.ORIGINATOR_ID && v.length !== 4)) return withdraw(`attribute ${type} length ${v.length}`);
      return { kind: 'ok' };
    case AttrType.EXTENDED_COMMUNITIES: // §7.14
      return v.length % 8 === 0 ? { kind: 'ok' } : withdraw(`EXTENDED_COMMUNITIES length ${v.length}`);
    case AttrType.LARGE_COMMUNITIES: // RFC 8092 §6
      return v.length % 12 === 0 && v.length > 0 ? { kind: 'ok' } : withdraw(`LARGE_COMMUNITIES length ${v.length}`);
    case AttrType.AS4_PATH: {
      if (ctx.fourOctetAs) return discard('AS4_PATH from a 4-octet AS speaker'); // RFC 6793 §4.1
      const path = decodeAsPath(v, 4);
      if (path === undefined) return discard('malformed AS4_PATH');
      a.as4Path = path;
      return { kind: 'ok' };
    }
    case AttrType.AS4_AGGREGATOR:
      return v.length === 8 ? { kind: 'ok' } : discard(`AS4_AGGREGATOR length ${v.length}`);
    case AttrType.MP_REACH_NLRI: {
      const r = decodeMpReach(v);
      if (!r.ok) return { kind: 'reset', result: r };
      a.mpReach = r.value;
      return flagsWrong ? withdraw('MP_REACH_NLRI flags') : { kind: 'ok' };
    }
    default: {
      // MP_UNREACH_NLRI (the only remaining expected type).
      const r = decodeMpUnreach(v);
      if (!r.ok) return { kind: 'reset', result: r };
      a.mpUnreach = r.value;
      return flagsWrong ? withdraw('MP_UNREACH_NLRI flags') : { kind: 'ok' };
    }
  }
}

/**
 * Decodes an UPDATE body (after the header). Session-reset errors come back as a Result error: a Withdrawn
 * Routes Length or Total Path Attribute Length overrunning the message, MP_REACH/MP_UNREACH repeated (3/1),
 * an unparsable NLRI or withdrawn field (3/10), a malformed MP attribute (3/9), an unknown well-known
 * attribute (3/2).
 */
export function decodeUpdateBody(body: Buffer, ctx: UpdateDecodeContext): Result<ReceivedUpdate> {
  if (body.length < 4) return resetAttrList(`UPDATE body of ${body.length} octets`);
  const wl = body.readUInt16BE(0);
  if (2 + wl + 2 > body.length) return resetAttrList(`withdrawn routes length ${wl} overruns the message`);
  const withdrawn = decodePrefixes(body.subarray(2, 2 + wl), 4);
  if (withdrawn === undefined) return fail(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.INVALID_NETWORK_FIELD, 'withdrawn routes syntactically incorrect');
  const al = body.readUInt16BE(2 + wl);
  const attrStart = 4 + wl;
  if (attrStart + al > body.length) return resetAttrList(`total path attribute length ${al} overruns the message`);
  const nlri = decodePrefixes(body.subarray(attrStart + al), 4);
  if (nlri === undefined) return fail(ErrorCode.UPDATE_MESSAGE, UpdateSubcode.INVALID_NETWORK_FIELD, 'NLRI syntactically incorrect');

  const a: Attrs = {};
  const seen = new Set<number>();
  const discarded: string[] = [];
  let treatAsWithdraw: string | undefined;
  let i = attrStart;
  const end = attrStart + al;
  while (i < end) {
    // RFC 7606 §4: an attribute header or length overrunning the attribute field → treat-as-withdraw; the
    // Total Path Attribute Length still locates the NLRI.
    const ext = i < end && (body[i]! & AttrFlag.EXTENDED_LENGTH) !== 0;
    const headLen = ext ? 4 : 3;
    if (i + headLen > end) { treatAsWithdraw ??= 'attribute header overruns the attribute field'; break; }
    const flags = body[i]!;
    const type = body[i + 1]!;
    const len = ext ? body.readUInt16BE(i + 2) : body[i + 2]!;
    if (i + headLen + len > end) { treatAsWithdraw ??= `attribute ${type} overruns the attribute field`; break; }
    const v = body.subarray(i + headLen, i + headLen + len);
    i += headLen + len;
    if (seen.has(type)) {
      // RFC 7606 §3(g): repeated MP attributes reset the session; any other repeat is dropped.
      if (type === AttrType.MP_REACH_NLRI || type === AttrType.MP_UNREACH_NLRI) return resetAttrList(`attribute ${type} appears twice`);
      discarded.push(`repeated attribute ${type}`);
      continue;
    }
    seen.add(type);
    const verdict = applyAttribute(a, flags, type, v, ctx);
    if (verdict.kind === 'reset') return verdict.result;
    if (verdict.kind === 'withdraw') treatAsWithdraw ??= verdict.why;
    if (verdict.kind === 'discard') discarded.push(verdict.why);
  }

  const announces = nlri.length > 0 || (a.mpReach !== undefined && a.mpReach.nlri.length > 0);
  if (announces && treatAsWithdraw === undefined) {
    // RFC 7606 §3(d): a missing well-known mandatory attribute → treat-as-withdraw.
    if (a.origin === undefined) treatAsWithdraw = 'missing ORIGIN';
    else if (a.asPath === undefined) treatAsWithdraw = 'missing AS_PATH';
    else if (nlri.length > 0 && a.nextHop === undefined) treatAsWithdraw = 'missing NEXT_HOP';
  }
  let endOfRib: AfiSafi | undefined;
  if (body.length === 4) endOfRib = { afi: 1, safi: 1 };
  else if (wl === 0 && nlri.length === 0 && seen.size === 1 && a.mpUnreach !== undefined && a.mpUnreach.withdrawn.length === 0) {
    endOfRib = { afi: a.mpUnreach.afi, safi: a.mpUnreach.safi };
  }
  return ok({ type: 'update', withdrawn, attributes: a, nlri, treatAsWithdraw, discarded, endOfRib });
}

/** All prefixes an UPDATE withdraws or announces, for logs and treat-as-withdraw (IPv4 and MP). */
export function prefixesOf(u: UpdateMessage): { readonly withdrawn: readonly Cidr[]; readonly announced: readonly Cidr[] } {
  return {
    withdrawn: [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])],
    announced: [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])],
  };
}
