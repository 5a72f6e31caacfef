/**
 * Types of the session FSM (RFC 4271 §8, architecture §3.3): its configuration, snapshot, events, actions
 * and what a successful OPEN exchange negotiated. The reducer is in fsm.ts.
 */
import { type Family, type IpAddr } from '../ip/index.js';
import { type BgpError } from './error.js';

/** One peer's session settings, from the peer's config entry (spec §1.1, §6.2). Times in seconds or ms as named. */
export interface SessionConfig {
  readonly localAs: number;
  readonly peerAs: number;
  /** Offered hold time: 0 (no keepalives, no hold timer) or ≥ 3 (RFC 4271 §4.2). v0.11 default 90. */
  readonly holdTimeSeconds: number;
  /** keepalive-time (v0.12); default hold/3. */
  readonly keepaliveTimeSeconds?: number | undefined;
  /** Families offered in MP capabilities; v0.11 offers both. */
  readonly families: readonly Family[];
  /** Graceful restart to advertise (RFC 4724); undefined = not advertised. */
  readonly gracefulRestart?: { readonly restartTimeSeconds: number; readonly restartState?: boolean | undefined } | undefined;
  /** How long a TCP connect may take before it counts as failed (v0.11: 10 s for connect + OPEN). */
  readonly connectTimeoutMs: number;
  /** Hold timer while waiting for the peer's OPEN (RFC 4271 §8.2.2 suggests 4 minutes). */
  readonly openHoldTimeMs: number;
  /** How long a session must stay Established before the connect backoff starts over. */
  readonly stableMs: number;
}

/** Defaults for the timing fields of SessionConfig. */
export const SESSION_TIMING_DEFAULTS = { connectTimeoutMs: 10_000, openHoldTimeMs: 240_000, stableMs: 60_000 } as const;

/** RFC 4271 §8.2.2 states this speaker uses (Active is folded into Connect: this speaker only dials out). */
export type FsmStateName = 'idle' | 'connect' | 'openSent' | 'openConfirm' | 'established';

/** The timers the FSM asks the adapter to run. */
export type TimerName = 'idleHold' | 'connectRetry' | 'hold' | 'keepalive' | 'stable';

/** What both OPENs agreed on. */
export interface Negotiated {
  readonly localAs: number;
  readonly peerAs: number;
  readonly ibgp: boolean;
  readonly localBgpId: number;
  readonly peerBgpId: number;
  /** min(ours, theirs); 0 = no hold timer and no keepalives. */
  readonly holdTimeSeconds: number;
  /** 0 when no keepalives are sent. */
  readonly keepaliveMs: number;
  readonly fourOctetAs: boolean;
  /** Families carried on this session: offered by both OPENs (RFC 4760 §8). */
  readonly families: readonly Family[];
  /** Both sides advertised route refresh (RFC 2918). */
  readonly routeRefresh: boolean;
  /** Set when both sides advertised graceful restart (RFC 4724): the peer keeps our routes as stale. */
  readonly gracefulRestart?: { readonly peerRestartTimeSeconds: number; readonly peerForwarding: readonly Family[] } | undefined;
  readonly localAddress: IpAddr;
}

/** Why a session is stopped on purpose. */
export type StopReason =
  | { readonly kind: 'cease'; readonly subcode: number; readonly why: string }
  /** RFC 4724: close TCP without a NOTIFICATION so the peer keeps our routes as stale. */
  | { readonly kind: 'gracefulRestart' };

/** FSM state. Treat as opaque outside fsm.ts; `state` is for logs and metrics. */
export interface FsmSnapshot {
  readonly config: SessionConfig;
  readonly state: FsmStateName;
  /** Between start and stop: failures schedule a reconnect. */
  readonly running: boolean;
  /** Consecutive failures since the last stable session: the connect backoff exponent. */
  readonly attempts: number;
  readonly localBgpId?: number | undefined;
  readonly localAddress?: IpAddr | undefined;
  readonly negotiated?: Negotiated | undefined;
}

/** Inputs of the FSM. */
export type FsmEvent =
  | { readonly type: 'start' }
  | { readonly type: 'stop'; readonly reason: StopReason }
  /** The connection requested by `connect` is up; `routerId` per spec §6.4 (router-id.ts). */
  | { readonly type: 'tcpConnected'; readonly localAddress: IpAddr; readonly routerId: number }
  /** The connection failed or closed (refused, reset, EOF, error). */
  | { readonly type: 'tcpClosed'; readonly error?: string | undefined }
  /** One whole message from the framer. */
  | { readonly type: 'message'; readonly frame: Buffer }
  /** The framer found a header error; the stream is unusable. */
  | { readonly type: 'decodeError'; readonly error: BgpError }
  | { readonly type: 'timerFired'; readonly timer: TimerName }
  /** UPDATEs from rib-out to send; dropped unless Established (rib-out resends everything on `up`). */
  | { readonly type: 'sendUpdates'; readonly frames: readonly Buffer[] };

/** Outputs of the FSM, carried out in order by the adapter. */
export type FsmAction =
  | { readonly type: 'connect' }
  /** Close the connection; the adapter must ignore every later event of that connection. */
  | { readonly type: 'close' }
  | { readonly type: 'send'; readonly frame: Buffer; readonly message: 'open' | 'keepalive' | 'update' | 'notification' }
  | { readonly type: 'setTimer'; readonly timer: TimerName; readonly ms: number }
  | { readonly type: 'clearTimer'; readonly timer: TimerName }
  | { readonly type: 'up'; readonly negotiated: Negotiated }
  /** Left Established. `graceful`: closed for a graceful restart (the peer keeps stale routes). */
  | { readonly type: 'down'; readonly reason: string; readonly graceful: boolean }
  /** The session failed before or after Established; for logs (`op: "session"`). */
  | { readonly type: 'error'; readonly reason: string; readonly sentNotification?: { readonly code: number; readonly subcode: number } | undefined }
  /** The peer asked for our routes of this family again (RFC 2918): resend them. */
  | { readonly type: 'routeRefresh'; readonly family: Family }
  /** A received UPDATE was malformed in a way RFC 7606 handles without a reset. */
  | { readonly type: 'updateError'; readonly handling: 'treat-as-withdraw' | 'attribute-discard'; readonly reason: string };
