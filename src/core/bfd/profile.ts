/**
 * From a peer's (v0.12) `bfd-profile` to session parameters, with MetalLB's documented profile defaults
 * (spec §1.1 (0.12) bfd-profiles; MetalLB's BFDProfile reference): receive-interval 300 ms,
 * transmit-interval 300 ms, detect-multiplier 3, echo-interval 50 ms, echo-mode false, passive-mode false,
 * minimum-ttl 254 (multihop only).
 */
import type { BfdProfile } from '../config/types.js';
import type { BfdSessionParams } from './session.js';

export const METALLB_BFD_DEFAULTS = {
  receiveIntervalMs: 300,
  transmitIntervalMs: 300,
  detectMultiplier: 3,
  echoIntervalMs: 50,
  echoMode: false,
  passiveMode: false,
  minimumTtl: 254,
} as const;

/** RFC 5881 §4 (single hop) and RFC 5883 §5 (multihop) destination ports. */
export const BFD_SINGLE_HOP_PORT = 3784;
export const BFD_MULTIHOP_PORT = 4784;
/** RFC 5881 §4: single-hop source ports are 49152–65535. */
export const BFD_SOURCE_PORT_MIN = 49152;
export const BFD_SOURCE_PORT_MAX = 65535;
/** RFC 5881 §5: sent TTL / hop limit, and the only one accepted on a single-hop session. */
export const BFD_TTL = 255;

/** Everything the adapter needs for one peer's session. */
export interface BfdPeerSessionConfig {
  readonly session: BfdSessionParams;
  readonly multihop: boolean;
  /** UDP destination port: 3784 single hop, 4784 multihop. */
  readonly port: number;
  /** Lowest received TTL / hop limit accepted: 255 single hop (RFC 5881 §5), `minimum-ttl` multihop. */
  readonly minimumReceivedTtl: number;
}

export type BfdProfileError = { readonly kind: 'bfd-echo-mode-unsupported'; readonly message: string };

/**
 * Maps a profile (undefined = all defaults) for a single-hop or multihop peer.
 * Errors: `echo-mode: true` is refused: the native speaker's BFD has no Echo function (RFC 5880 §6.4),
 * and silently running without it would give the operator a slower detection than they configured for.
 * `echo-interval` is ignored since echo never runs.
 */
export function bfdSessionConfig(profile: BfdProfile | undefined, multihop: boolean):
  { ok: true; config: BfdPeerSessionConfig } | { ok: false; error: BfdProfileError } {
  if (profile?.echoMode) {
    const message = `bfd profile ${profile.name}: echo-mode is not supported by the native BGP speaker's BFD; set echo-mode: false`;
    return { ok: false, error: { kind: 'bfd-echo-mode-unsupported', message } };
  }
  const d = METALLB_BFD_DEFAULTS;
  const session: BfdSessionParams = {
    desiredMinTxIntervalUs: (profile?.transmitIntervalMs ?? d.transmitIntervalMs) * 1000,
    requiredMinRxIntervalUs: (profile?.receiveIntervalMs ?? d.receiveIntervalMs) * 1000,
    detectMult: profile?.detectMultiplier ?? d.detectMultiplier,
    passive: profile?.passiveMode ?? d.passiveMode,
  };
  const config: BfdPeerSessionConfig = {
    session,
    multihop,
    port: multihop ? BFD_MULTIHOP_PORT : BFD_SINGLE_HOP_PORT,
    minimumReceivedTtl: multihop ? profile?.minimumTtl ?? d.minimumTtl : BFD_TTL,
  };
  return { ok: true, config };
}
