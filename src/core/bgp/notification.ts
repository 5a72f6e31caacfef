/**
 * NOTIFICATION (RFC 4271 §4.5), KEEPALIVE (§4.4) and ROUTE-REFRESH (RFC 2918 §3, RFC 7313 §3) codecs: the
 * three small messages.
 */
import { type Family } from '../ip/index.js';
import { ErrorCode, MessageType, RouteRefreshSubcode, Safi } from './constants.js';
import { type BgpError, type Result, fail, ok } from './error.js';
import { encodeMessage } from './header.js';
import { afiOf } from './wire.js';

/** A NOTIFICATION: error code, subcode and data. Sending one always precedes closing the connection. */
export interface NotificationMessage {
  readonly type: 'notification';
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
}

/** A KEEPALIVE (header only). */
export interface KeepaliveMessage {
  readonly type: 'keepalive';
}

/** A ROUTE-REFRESH request for one AFI/SAFI; `subtype` is RFC 7313's (0 = normal request). */
export interface RouteRefreshMessage {
  readonly type: 'routeRefresh';
  readonly afi: number;
  readonly safi: number;
  readonly subtype: number;
}

/** Encodes a NOTIFICATION. */
export function encodeNotification(n: { code: number; subcode: number; data?: Buffer }): Buffer {
  return encodeMessage(MessageType.NOTIFICATION, Buffer.concat([Buffer.from([n.code, n.subcode]), n.data ?? Buffer.alloc(0)]));
}

/** The NOTIFICATION reporting `e`. */
export function encodeNotificationFor(e: BgpError): Buffer {
  return encodeNotification(e);
}

/** Decodes a NOTIFICATION body (at least 2 octets, checked by the dispatcher). */
export function decodeNotificationBody(body: Buffer): NotificationMessage {
  return { type: 'notification', code: body[0]!, subcode: body[1]!, data: Buffer.from(body.subarray(2)) };
}

const KEEPALIVE = encodeMessage(MessageType.KEEPALIVE, Buffer.alloc(0));

/** The 19-octet KEEPALIVE. */
export function encodeKeepalive(): Buffer {
  return Buffer.from(KEEPALIVE);
}

/** Encodes a ROUTE-REFRESH for a family's unicast routes (or explicit AFI/SAFI). */
export function encodeRouteRefresh(r: { family: Family } | { afi: number; safi: number }): Buffer {
  const afi = 'family' in r ? afiOf(r.family) : r.afi;
  const safi = 'family' in r ? Safi.UNICAST : r.safi;
  const body = Buffer.alloc(4);
  body.writeUInt16BE(afi, 0);
  body[3] = safi;
  return encodeMessage(MessageType.ROUTE_REFRESH, body);
}

/**
 * Decodes a ROUTE-REFRESH given the whole frame: a length other than 23 is a ROUTE-REFRESH Message Error
 * "Invalid Message Length" carrying the complete message as data (RFC 7313 §5).
 */
export function decodeRouteRefresh(frame: Buffer): Result<RouteRefreshMessage> {
  if (frame.length !== 23) {
    return fail(ErrorCode.ROUTE_REFRESH_MESSAGE, RouteRefreshSubcode.INVALID_MESSAGE_LENGTH, `ROUTE-REFRESH length ${frame.length}`, Buffer.from(frame));
  }
  return ok({ type: 'routeRefresh', afi: frame.readUInt16BE(19), subtype: frame[21]!, safi: frame[22]! });
}
