/**
 * The OPEN this speaker sends, and the checks and negotiation applied to the peer's OPEN (RFC 4271 §6.2,
 * RFC 6793, RFC 4760 §8, RFC 4724, RFC 6286). Pure: the FSM calls these with its configuration.
 */
import { type Family, type IpAddr } from '../ip/index.js';
import { AS_TRANS, BGP_VERSION, ErrorCode, OpenSubcode, Safi } from './constants.js';
import { type Result, fail, ok } from './error.js';
import { type OpenMessage, peerAsOf } from './open.js';
import { type Negotiated, type SessionConfig } from './session-types.js';
import { afiOf, familyOfAfi } from './wire.js';

/**
 * Our OPEN: My AS (AS_TRANS above 65535), the configured hold time, and capabilities MP for each family,
 * route refresh, graceful restart with the Forwarding State bit for every family (we keep forwarding across
 * a speaker restart: the data path is the kernel's), and 4-octet AS.
 */
export function localOpen(config: SessionConfig, routerId: number): OpenMessage {
  const families = config.families.map((f) => ({ afi: afiOf(f), safi: Safi.UNICAST }));
  const gr = config.gracefulRestart;
  return {
    type: 'open',
    version: BGP_VERSION,
    myAs: config.localAs > 0xffff ? AS_TRANS : config.localAs,
    holdTimeSeconds: config.holdTimeSeconds,
    bgpIdentifier: routerId,
    capabilities: {
      multiprotocol: families,
      routeRefresh: true,
      fourOctetAs: config.localAs,
      gracefulRestart: gr === undefined ? undefined : {
        restartState: gr.restartState ?? false,
        restartTimeSeconds: Math.min(gr.restartTimeSeconds, 4095),
        families: families.map((f) => ({ ...f, forwardingState: true })),
      },
      other: [],
    },
  };
}

/** Families a peer's OPEN offers: its MP unicast capabilities, or IPv4 alone when it sent none (RFC 4760 §8). */
export function familiesOffered(open: OpenMessage): Family[] {
  if (open.capabilities.multiprotocol.length === 0) return [4];
  const out: Family[] = [];
  for (const mp of open.capabilities.multiprotocol) {
    const f = familyOfAfi(mp.afi);
    if (f !== undefined && mp.safi === Safi.UNICAST && !out.includes(f)) out.push(f);
  }
  return out;
}

function keepaliveMs(config: SessionConfig, holdSeconds: number): number {
  if (holdSeconds === 0) return 0;
  let ka = config.keepaliveTimeSeconds ?? holdSeconds / 3;
  // A keepalive interval not below the negotiated hold time would let the peer's hold timer expire.
  if (ka <= 0 || ka >= holdSeconds) ka = holdSeconds / 3;
  return Math.floor(ka * 1000);
}

/**
 * Checks the peer's OPEN and computes what the session negotiated. Errors (RFC 4271 §6.2): peer AS 0
 * (RFC 7607) or not the configured one → 2/2; hold time 1 or 2 → 2/6; BGP Identifier 0, or equal to ours on
 * an iBGP session (RFC 6286 §2.2) → 2/3. A peer without the 4-octet AS capability is fine even when our ASN
 * needs 4 octets: it gets AS_TRANS and AS4_PATH (RFC 6793 §4.2).
 */
export function negotiate(config: SessionConfig, localBgpId: number, localAddress: IpAddr, open: OpenMessage): Result<Negotiated> {
  const peerAs = peerAsOf(open);
  if (peerAs === 0 || peerAs !== config.peerAs) {
    return fail(ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_PEER_AS, `unexpected peer ASN ${peerAs}, want ${config.peerAs}`);
  }
  if (open.holdTimeSeconds === 1 || open.holdTimeSeconds === 2) {
    return fail(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNACCEPTABLE_HOLD_TIME, `invalid hold time ${open.holdTimeSeconds}s: must be 0 or at least 3s`);
  }
  const ibgp = config.localAs === config.peerAs;
  if (open.bgpIdentifier === 0 || (ibgp && open.bgpIdentifier >>> 0 === localBgpId >>> 0)) {
    return fail(ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_BGP_IDENTIFIER, `unacceptable BGP identifier ${open.bgpIdentifier >>> 0}`);
  }
  const holdTimeSeconds = Math.min(config.holdTimeSeconds, open.holdTimeSeconds);
  const offered = familiesOffered(open);
  const families = config.families.filter((f) => offered.includes(f));
  const peerGr = open.capabilities.gracefulRestart;
  const gracefulRestart =
    config.gracefulRestart !== undefined && peerGr !== undefined
      ? {
          peerRestartTimeSeconds: peerGr.restartTimeSeconds,
          peerForwarding: peerGr.families.filter((f) => f.forwardingState && f.safi === Safi.UNICAST).flatMap((f) => familyOfAfi(f.afi) ?? []),
        }
      : undefined;
  return ok({
    localAs: config.localAs,
    peerAs,
    ibgp,
    localBgpId,
    peerBgpId: open.bgpIdentifier >>> 0,
    holdTimeSeconds,
    keepaliveMs: keepaliveMs(config, holdTimeSeconds),
    fourOctetAs: open.capabilities.fourOctetAs !== undefined,
    families,
    routeRefresh: open.capabilities.routeRefresh,
    gracefulRestart,
    localAddress,
  });
}
