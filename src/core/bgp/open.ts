/**
 * OPEN message codec (RFC 4271 §4.2) with capabilities in optional parameters (RFC 5492 §4) and the
 * RFC 9072 extended optional parameters length when a peer uses it. Session-level checks (peer AS, hold
 * time, identifier) live in open-check.ts, because they need the local configuration.
 */
import { BGP_VERSION, ErrorCode, MessageType, OpenSubcode, OptionalParameter } from './constants.js';
import { type Capabilities, NO_CAPABILITIES, decodeCapabilitiesInto, encodeCapabilities } from './capabilities.js';
import { type Result, fail, ok } from './error.js';
import { encodeMessage } from './header.js';

/** A decoded or to-be-encoded OPEN. */
export interface OpenMessage {
  readonly type: 'open';
  readonly version: number;
  /** The 2-octet My Autonomous System field (AS_TRANS when the real ASN needs 4 octets). */
  readonly myAs: number;
  readonly holdTimeSeconds: number;
  /** BGP Identifier as an unsigned 32-bit integer (an IPv4 address by convention). */
  readonly bgpIdentifier: number;
  readonly capabilities: Capabilities;
}

/**
 * Encodes an OPEN with all capabilities in one Capabilities parameter (as MetalLB v0.11 does). Throws
 * RangeError only for an OPEN no peer could read (over 255 octets of parameters), a programming error.
 */
export function encodeOpen(m: OpenMessage): Buffer {
  const caps = encodeCapabilities(m.capabilities);
  const params = caps.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([OptionalParameter.CAPABILITIES, caps.length]), caps]);
  if (caps.length > 255 || params.length > 255) throw new RangeError(`OPEN optional parameters too long: ${params.length} octets`);
  const body = Buffer.alloc(10);
  body[0] = m.version;
  body.writeUInt16BE(m.myAs, 1);
  body.writeUInt16BE(m.holdTimeSeconds, 3);
  body.writeUInt32BE(m.bgpIdentifier >>> 0, 5);
  body[9] = params.length;
  return encodeMessage(MessageType.OPEN, Buffer.concat([body, params]));
}

/** The peer's real AS number: the 4-octet AS capability if present, else the My AS field (RFC 6793 §4.1). */
export function peerAsOf(m: OpenMessage): number {
  return m.capabilities.fourOctetAs ?? m.myAs;
}

/**
 * Decodes an OPEN body (the message after the 19-octet header). Errors per RFC 4271 §6.2: version other
 * than 4 → 2/1 with the supported version as data; an optional parameter other than Capabilities → 2/4;
 * malformed parameter lengths → 2/0.
 */
export function decodeOpenBody(body: Buffer): Result<OpenMessage> {
  if (body.length < 10) return fail(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSPECIFIC, `OPEN body of ${body.length} octets`);
  const version = body[0]!;
  if (version !== BGP_VERSION) {
    return fail(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSUPPORTED_VERSION_NUMBER, `wrong BGP version ${version}`, Buffer.from([0, BGP_VERSION]));
  }
  const myAs = body.readUInt16BE(1);
  const holdTimeSeconds = body.readUInt16BE(3);
  const bgpIdentifier = body.readUInt32BE(5);
  let paramsLen = body[9]!;
  let at = 10;
  // RFC 9072: Non-Ext OP Len 255 followed by Non-Ext OP Type 255 means 2-octet lengths follow.
  let extended = false;
  if (paramsLen === 255 && body.length >= 13 && body[10] === OptionalParameter.EXTENDED_LENGTH) {
    extended = true;
    paramsLen = body.readUInt16BE(11);
    at = 13;
  }
  if (at + paramsLen !== body.length) {
    return fail(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSPECIFIC, `optional parameters length ${paramsLen} does not match the message`);
  }
  const caps = { ...NO_CAPABILITIES };
  const end = at + paramsLen;
  const headLen = extended ? 3 : 2;
  while (at < end) {
    if (at + headLen > end) return fail(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSPECIFIC, 'truncated optional parameter');
    const type = body[at]!;
    const len = extended ? body.readUInt16BE(at + 1) : body[at + 1]!;
    const start = at + headLen;
    if (start + len > end) return fail(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSPECIFIC, `optional parameter ${type} overruns the parameters`);
    if (type !== OptionalParameter.CAPABILITIES) {
      return fail(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, `unknown BGP option type ${type}`);
    }
    const r = decodeCapabilitiesInto(body.subarray(start, start + len), caps);
    if (!r.ok) return r;
    at = start + len;
  }
  return ok({ type: 'open', version, myAs, holdTimeSeconds, bgpIdentifier, capabilities: caps });
}
