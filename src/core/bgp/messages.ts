/**
 * Decodes one framed message (header included) into a typed value, checking the per-type minimum and
 * exact lengths of RFC 4271 §6.1 (Bad Message Length, data = the Length field) and unknown types
 * (Bad Message Type, data = the type octet), then handing the body to the per-type codec.
 */
import { ErrorCode, HEADER_LENGTH, HeaderSubcode, MessageType } from './constants.js';
import { type Result, fail, ok } from './error.js';
import { type KeepaliveMessage, type NotificationMessage, type RouteRefreshMessage, decodeNotificationBody, decodeRouteRefresh } from './notification.js';
import { type OpenMessage, decodeOpenBody } from './open.js';
import { type ReceivedUpdate, type UpdateDecodeContext, decodeUpdateBody } from './update-decode.js';

/** Any message this speaker can receive. */
export type BgpMessage = OpenMessage | ReceivedUpdate | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/** Smallest legal total length per type (RFC 4271 §4.2–4.5, RFC 2918 §3). */
const MIN_LENGTH: Record<number, number> = {
  [MessageType.OPEN]: 29,
  [MessageType.UPDATE]: 23,
  [MessageType.NOTIFICATION]: 21,
  [MessageType.KEEPALIVE]: 19,
  [MessageType.ROUTE_REFRESH]: 19,
};

/** Before the OPEN exchange the session has negotiated nothing: decode AS_PATH 2 octets wide, as eBGP. */
export const DEFAULT_DECODE_CONTEXT: UpdateDecodeContext = { fourOctetAs: false, ibgp: false };

/**
 * Decodes a whole message. `ctx` says how the session decodes UPDATEs (4-octet ASNs, iBGP). Never throws:
 * every failure is a BgpError to report in a NOTIFICATION.
 */
export function decodeMessage(frame: Buffer, ctx: UpdateDecodeContext = DEFAULT_DECODE_CONTEXT): Result<BgpMessage> {
  if (frame.length < HEADER_LENGTH) return fail(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH, `message of ${frame.length} octets`);
  for (let i = 0; i < 16; i++) {
    if (frame[i] !== 0xff) return fail(ErrorCode.MESSAGE_HEADER, HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED, 'synchronization error, incorrect header marker');
  }
  const length = frame.readUInt16BE(16);
  const lengthField = Buffer.from(frame.subarray(16, 18));
  if (length !== frame.length) return fail(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH, `length field ${length} for a frame of ${frame.length} octets`, lengthField);
  const type = frame[18]!;
  const min = MIN_LENGTH[type];
  if (min === undefined) return fail(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_TYPE, `unknown message type ${type}`, Buffer.from([type]));
  const badLength = length < min || (type === MessageType.KEEPALIVE && length !== HEADER_LENGTH);
  if (badLength) return fail(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH, `message length ${length} too small for type ${type}`, lengthField);
  const body = frame.subarray(HEADER_LENGTH);
  switch (type) {
    case MessageType.OPEN:
      return decodeOpenBody(body);
    case MessageType.UPDATE:
      return decodeUpdateBody(body, ctx);
    case MessageType.NOTIFICATION:
      return ok(decodeNotificationBody(body));
    case MessageType.KEEPALIVE:
      return ok({ type: 'keepalive' });
    default:
      return decodeRouteRefresh(frame);
  }
}
