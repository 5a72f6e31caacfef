/**
 * UPDATE encoding (RFC 4271 §4.3) and End-of-RIB markers (RFC 4724 §2). Decoding with RFC 7606 error
 * handling is in update-decode.ts.
 */
import { type Cidr, type Family } from '../ip/index.js';
import { MessageType, Safi } from './constants.js';
import { type AttributeContext, type PathAttributes, encodeAttributes } from './attributes.js';
import { encodeMessage } from './header.js';
import { afiOf, encodePrefixes } from './wire.js';

/** An UPDATE: IPv4 withdrawals, attributes (which may carry MP_REACH/MP_UNREACH), IPv4 NLRI. */
export interface UpdateMessage {
  readonly type: 'update';
  readonly withdrawn: readonly Cidr[];
  readonly attributes: PathAttributes;
  readonly nlri: readonly Cidr[];
}

/** Encodes an UPDATE; the caller keeps it within 4096 octets (rib-out.ts packs prefixes to fit). */
export function encodeUpdate(m: UpdateMessage, ctx: AttributeContext): Buffer {
  return encodeUpdateParts(encodePrefixes(m.withdrawn), encodeAttributes(m.attributes, ctx), encodePrefixes(m.nlri));
}

/** Assembles an UPDATE from already encoded fields. */
export function encodeUpdateParts(withdrawn: Buffer, attributes: Buffer, nlri: Buffer): Buffer {
  const body = Buffer.alloc(4 + withdrawn.length + attributes.length + nlri.length);
  body.writeUInt16BE(withdrawn.length, 0);
  withdrawn.copy(body, 2);
  body.writeUInt16BE(attributes.length, 2 + withdrawn.length);
  attributes.copy(body, 4 + withdrawn.length);
  nlri.copy(body, 4 + withdrawn.length + attributes.length);
  return encodeMessage(MessageType.UPDATE, body);
}

/**
 * The End-of-RIB marker of a family (RFC 4724 §2): for IPv4 unicast an UPDATE with no withdrawn routes, no
 * attributes and no NLRI; otherwise an UPDATE holding only an empty MP_UNREACH_NLRI for the AFI/SAFI.
 */
export function encodeEndOfRib(family: Family): Buffer {
  if (family === 4) return encodeUpdateParts(Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0));
  return encodeUpdate({ type: 'update', withdrawn: [], nlri: [], attributes: { mpUnreach: { afi: afiOf(family), safi: Safi.UNICAST, withdrawn: [] } } }, { fourOctetAs: true });
}
