/**
 * OPEN capabilities (RFC 5492): multiprotocol (RFC 4760 §8), route refresh (RFC 2918 §2), graceful restart
 * (RFC 4724 §3) and 4-octet AS numbers (RFC 6793 §3). Unknown capabilities are kept raw and ignored, as
 * RFC 5492 §3 asks.
 */
import { CapabilityCode, ErrorCode, OpenSubcode } from './constants.js';
import { type Result, fail, ok } from './error.js';

/** One AFI/SAFI pair (RFC 4760 §8). */
export interface AfiSafi {
  readonly afi: number;
  readonly safi: number;
}

/** Graceful restart capability (RFC 4724 §3): Restart State bit, Restart Time, per-AFI/SAFI Forwarding State. */
export interface GracefulRestartCapability {
  /** R bit: the sender has restarted and has not yet sent its End-of-RIB markers. */
  readonly restartState: boolean;
  /** Seconds the peer should keep our routes after the session goes down (0–4095). */
  readonly restartTimeSeconds: number;
  readonly families: readonly (AfiSafi & { readonly forwardingState: boolean })[];
}

/** The capabilities of one OPEN. */
export interface Capabilities {
  readonly multiprotocol: readonly AfiSafi[];
  readonly routeRefresh: boolean;
  /** The sender's real AS number when it supports 4-octet ASNs (RFC 6793). */
  readonly fourOctetAs?: number | undefined;
  readonly gracefulRestart?: GracefulRestartCapability | undefined;
  /** Capabilities this speaker does not interpret (code + value), in received order. */
  readonly other: readonly { readonly code: number; readonly value: Buffer }[];
}

/** No capabilities at all (an RFC 4271-only peer). */
export const NO_CAPABILITIES: Capabilities = { multiprotocol: [], routeRefresh: false, other: [] };

function tlv(code: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([code, value.length]), value]);
}

/** Encodes each capability as its own code/length/value triple, in a fixed order (MP, RR, GR, AS4, others). */
export function encodeCapabilities(c: Capabilities): Buffer {
  const parts: Buffer[] = [];
  for (const mp of c.multiprotocol) {
    const v = Buffer.alloc(4);
    v.writeUInt16BE(mp.afi, 0);
    v[3] = mp.safi;
    parts.push(tlv(CapabilityCode.MULTIPROTOCOL, v));
  }
  if (c.routeRefresh) parts.push(tlv(CapabilityCode.ROUTE_REFRESH, Buffer.alloc(0)));
  if (c.gracefulRestart !== undefined) {
    const gr = c.gracefulRestart;
    const v = Buffer.alloc(2 + 4 * gr.families.length);
    v.writeUInt16BE(((gr.restartState ? 0x8 : 0) << 12) | (gr.restartTimeSeconds & 0x0fff), 0);
    gr.families.forEach((f, i) => {
      v.writeUInt16BE(f.afi, 2 + 4 * i);
      v[4 + 4 * i] = f.safi;
      v[5 + 4 * i] = f.forwardingState ? 0x80 : 0;
    });
    parts.push(tlv(CapabilityCode.GRACEFUL_RESTART, v));
  }
  if (c.fourOctetAs !== undefined) {
    const v = Buffer.alloc(4);
    v.writeUInt32BE(c.fourOctetAs, 0);
    parts.push(tlv(CapabilityCode.FOUR_OCTET_AS, v));
  }
  for (const o of c.other) parts.push(tlv(o.code, o.value));
  return Buffer.concat(parts);
}

type MutableCaps = { -readonly [K in keyof Capabilities]: Capabilities[K] };

/**
 * Decodes the value of one Capabilities optional parameter into `into` (capabilities may be spread over
 * several parameters). A capability whose length is wrong for its code, or that overruns the parameter,
 * is an OPEN Message Error with subcode 0 (RFC 5492 defines no finer subcode).
 */
export function decodeCapabilitiesInto(buf: Buffer, into: MutableCaps): Result<void> {
  const bad = (why: string) => fail<void>(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSPECIFIC, `malformed capability: ${why}`);
  let i = 0;
  while (i < buf.length) {
    if (i + 2 > buf.length) return bad('truncated header');
    const code = buf[i]!;
    const len = buf[i + 1]!;
    if (i + 2 + len > buf.length) return bad(`code ${code} overruns its parameter`);
    const v = buf.subarray(i + 2, i + 2 + len);
    i += 2 + len;
    switch (code) {
      case CapabilityCode.MULTIPROTOCOL:
        if (len !== 4) return bad(`multiprotocol length ${len}`);
        into.multiprotocol = [...into.multiprotocol, { afi: v.readUInt16BE(0), safi: v[3]! }];
        break;
      case CapabilityCode.ROUTE_REFRESH:
        if (len !== 0) return bad(`route refresh length ${len}`);
        into.routeRefresh = true;
        break;
      case CapabilityCode.FOUR_OCTET_AS:
        if (len !== 4) return bad(`4-octet AS length ${len}`);
        into.fourOctetAs = v.readUInt32BE(0);
        break;
      case CapabilityCode.GRACEFUL_RESTART: {
        if (len < 2 || (len - 2) % 4 !== 0) return bad(`graceful restart length ${len}`);
        const head = v.readUInt16BE(0);
        const families = [];
        for (let j = 2; j < len; j += 4) families.push({ afi: v.readUInt16BE(j), safi: v[j + 2]!, forwardingState: (v[j + 3]! & 0x80) !== 0 });
        into.gracefulRestart = { restartState: (head & 0x8000) !== 0, restartTimeSeconds: head & 0x0fff, families };
        break;
      }
      default:
        into.other = [...into.other, { code, value: Buffer.from(v) }];
    }
  }
  return ok(undefined);
}
