/**
 * One BFD session in Asynchronous mode (RFC 5880 §6.2 state machine, §6.8 procedures) as a pure reducer:
 * `step(session, event, random)` → `{ session, actions }`. No clock, no timers, no sockets: the adapter
 * runs the timers the actions name, sends the packets, and feeds timer expiries and received packets back.
 *
 * What this implementation does and does not do (stated for the operator, see docs/design/bfd.md):
 * - C bit sent = 0: BFD runs in the speaker's userspace process and shares its fate (§4.1, §6.8.7).
 * - Demand mode: never requested (D = 0 sent, bfd.DemandMode = 0). A peer that sets D is honoured as
 *   §6.8.7 requires (we stop periodic transmission while both ends are Up).
 * - Echo function: not supported; we advertise Required Min Echo RX Interval 0 (§6.8.9), and a profile with
 *   `echo-mode: true` is refused before a session exists (see profile.ts).
 * - Authentication: none (bfd.AuthType 0); the codec drops packets with the A bit.
 *
 * Units: every interval is in microseconds, as on the wire. `random` is a uniform number in [0, 1) used for
 * the transmit jitter of any tx timer this step arms (§6.8.7), so the reducer stays deterministic.
 */
import { BfdDiag, type BfdControlPacket, type BfdControlPacketFields, type BfdState } from './packet.js';

/** §6.8.3: while the session is not Up, bfd.DesiredMinTxInterval is at least one second. */
export const SLOW_TX_INTERVAL_US = 1_000_000;

/** Configured values of a session (from its peer's `bfd-profile`, see profile.ts). */
export interface BfdSessionParams {
  /** bfd.DesiredMinTxInterval once Up, µs (> 0). */
  readonly desiredMinTxIntervalUs: number;
  /** bfd.RequiredMinRxInterval, µs (> 0: we always want packets). */
  readonly requiredMinRxIntervalUs: number;
  /** bfd.DetectMult, 1–255. */
  readonly detectMult: number;
  /** Passive role (§6.1): send nothing until the peer's discriminator is known. */
  readonly passive: boolean;
}

/** The RFC's state variables (§6.8.1) plus what the poll and timer rules need. */
export interface BfdSession {
  readonly params: BfdSessionParams;
  readonly state: BfdState;
  readonly remoteState: BfdState;
  readonly localDiscr: number;
  readonly remoteDiscr: number;
  readonly localDiag: number;
  /** bfd.DesiredMinTxInterval as advertised now (≥ 1 s unless Up). */
  readonly desiredMinTxIntervalUs: number;
  /** bfd.RequiredMinRxInterval as advertised now. */
  readonly requiredMinRxIntervalUs: number;
  /** bfd.RemoteMinRxInterval (initially 1 µs, §6.8.1). */
  readonly remoteMinRxIntervalUs: number;
  /** Desired Min TX Interval of the last valid packet received, µs (0 before any). */
  readonly remoteDesiredMinTxIntervalUs: number;
  /** Detect Mult of the last valid packet received (0 before any). */
  readonly remoteDetectMult: number;
  readonly remoteDemandMode: boolean;
  /** DesiredMinTx our own cadence uses: an increase while Up waits for the Poll Sequence (§6.8.3). */
  readonly txBaseUs: number;
  /** RequiredMinRx our Detection Time uses: a decrease while Up waits for the Poll Sequence (§6.8.3). */
  readonly rxForDetectUs: number;
  /** A Poll Sequence is under way: every packet we send has P set until an F arrives (§6.5). */
  readonly pollActive: boolean;
  /** The intervals changed again during a poll: start another one when it ends. */
  readonly pollPending: boolean;
  readonly txTimerArmed: boolean;
  readonly detectTimerArmed: boolean;
}

export type BfdTimer = 'tx' | 'detect';

export type BfdEvent =
  | { readonly type: 'packet'; readonly packet: BfdControlPacket }
  | { readonly type: 'timer'; readonly timer: BfdTimer }
  | { readonly type: 'admin-down' }
  | { readonly type: 'admin-up' }
  | { readonly type: 'config'; readonly params: BfdSessionParams };

export type BfdAction =
  | { readonly type: 'send'; readonly packet: BfdControlPacketFields }
  /** (Re)start a one-shot timer; a running one is replaced. */
  | { readonly type: 'set-timer'; readonly timer: BfdTimer; readonly afterUs: number }
  | { readonly type: 'clear-timer'; readonly timer: BfdTimer }
  /** bfd.SessionState changed; `diag` is bfd.LocalDiag after the change (why we left Up, if we did). */
  | { readonly type: 'state-changed'; readonly from: BfdState; readonly to: BfdState; readonly diag: number };

export interface BfdStep {
  readonly session: BfdSession;
  readonly actions: readonly BfdAction[];
}

function advertisedTx(params: BfdSessionParams, state: BfdState): number {
  return state === 'Up' ? params.desiredMinTxIntervalUs : Math.max(params.desiredMinTxIntervalUs, SLOW_TX_INTERVAL_US);
}

/**
 * A new session in state Down (§6.8.1), with its tx timer armed unless passive.
 * `localDiscr` must be nonzero and unique among this system's sessions (the adapter picks it).
 */
export function createSession(params: BfdSessionParams, localDiscr: number, random: number): BfdStep {
  const tx = advertisedTx(params, 'Down');
  const session: BfdSession = {
    params, state: 'Down', remoteState: 'Down', localDiscr: localDiscr >>> 0, remoteDiscr: 0, localDiag: BfdDiag.None,
    desiredMinTxIntervalUs: tx, requiredMinRxIntervalUs: params.requiredMinRxIntervalUs,
    remoteMinRxIntervalUs: 1, remoteDesiredMinTxIntervalUs: 0, remoteDetectMult: 0, remoteDemandMode: false,
    txBaseUs: tx, rxForDetectUs: params.requiredMinRxIntervalUs, pollActive: false, pollPending: false,
    txTimerArmed: false, detectTimerArmed: false,
  };
  return settleTx(session, [], random, false);
}

/** §6.8.4, Asynchronous mode: remote Detect Mult × max(our RequiredMinRx, their last Desired Min TX). */
export function detectionTimeUs(s: BfdSession): number {
  return s.remoteDetectMult * Math.max(s.rxForDetectUs, s.remoteDesiredMinTxIntervalUs);
}

/** §6.8.2/§6.8.7: max(our DesiredMinTx in effect, bfd.RemoteMinRxInterval); 0 = no periodic packets. */
export function transmitIntervalUs(s: BfdSession): number {
  if (s.remoteMinRxIntervalUs === 0) return 0;
  return Math.max(s.txBaseUs, s.remoteMinRxIntervalUs);
}

/**
 * §6.8.7 jitter: the interval reduced by 0–25 % (0–10 % extra, i.e. 75–90 %, when bfd.DetectMult is 1).
 * `random` in [0, 1); the result is a whole number of µs.
 */
export function jitteredIntervalUs(intervalUs: number, detectMult: number, random: number): number {
  const r = Math.min(Math.max(random, 0), 0.999999);
  const factor = detectMult === 1 ? 0.75 + 0.15 * r : 0.75 + 0.25 * r;
  return Math.floor(intervalUs * factor);
}

/** §6.8.7: may periodic Control packets go out now? */
export function periodicTransmitAllowed(s: BfdSession): boolean {
  if (s.params.passive && s.remoteDiscr === 0) return false;
  if (s.remoteMinRxIntervalUs === 0) return false;
  if (s.remoteDemandMode && s.state === 'Up' && s.remoteState === 'Up') return false;
  return true;
}

/** The packet this session would send now (§6.8.7 contents). P and F are never both set. */
export function controlPacketFields(s: BfdSession, final: boolean): BfdControlPacketFields {
  return {
    diag: s.localDiag,
    state: s.state,
    poll: s.pollActive && !final,
    final,
    controlPlaneIndependent: false,
    demand: false,
    detectMult: s.params.detectMult,
    myDiscriminator: s.localDiscr,
    yourDiscriminator: s.remoteDiscr,
    desiredMinTxIntervalUs: s.desiredMinTxIntervalUs,
    requiredMinRxIntervalUs: s.requiredMinRxIntervalUs,
    requiredMinEchoRxIntervalUs: 0,
  };
}

/** Handles one event. Pure; `random` in [0, 1) jitters any tx timer armed by this step. */
export function step(session: BfdSession, event: BfdEvent, random: number): BfdStep {
  switch (event.type) {
    case 'packet': return receive(session, event.packet, random);
    case 'timer': return event.timer === 'tx' ? txTimerFired(session, random) : detectTimerFired(session, random);
    case 'admin-down': return adminDown(session, random);
    case 'admin-up': return adminUp(session, random);
    case 'config': return reconfigure(session, event.params, random);
  }
}

/**
 * Arms or clears the tx timer to match {@link periodicTransmitAllowed}. With `sendNow`, a packet goes out
 * at once (state change, poll start) and the cadence restarts from it, so no two periodic packets come closer
 * than the negotiated interval less jitter.
 */
function settleTx(s: BfdSession, actions: BfdAction[], random: number, sendNow: boolean): BfdStep {
  const allowed = periodicTransmitAllowed(s);
  const interval = transmitIntervalUs(s);
  if (!allowed || interval === 0) {
    if (s.txTimerArmed) actions.push({ type: 'clear-timer', timer: 'tx' });
    return { session: { ...s, txTimerArmed: false }, actions };
  }
  if (sendNow) actions.push({ type: 'send', packet: controlPacketFields(s, false) });
  if (sendNow || !s.txTimerArmed) {
    actions.push({ type: 'set-timer', timer: 'tx', afterUs: jitteredIntervalUs(interval, s.params.detectMult, random) });
  }
  return { session: { ...s, txTimerArmed: true }, actions };
}

/** Moves to `to` with `diag`, refreshes the advertised DesiredMinTx (1 s floor unless Up) and polls on a change. */
function changeState(s: BfdSession, to: BfdState, diag: number, actions: BfdAction[]): BfdSession {
  actions.push({ type: 'state-changed', from: s.state, to, diag });
  const moved: BfdSession = { ...s, state: to, localDiag: diag };
  return setAdvertised(moved, advertisedTx(s.params, to), s.params.requiredMinRxIntervalUs);
}

/**
 * §6.8.3: a change of either advertised interval starts a Poll Sequence (or queues one behind the running
 * poll). While Up, a larger DesiredMinTx and a smaller RequiredMinRx take effect for our own timing only when
 * the poll ends, so the peer has adapted its Detection Time first; otherwise they apply at once.
 */
function setAdvertised(s: BfdSession, tx: number, rx: number): BfdSession {
  if (tx === s.desiredMinTxIntervalUs && rx === s.requiredMinRxIntervalUs) return s;
  const up = s.state === 'Up';
  return {
    ...s,
    desiredMinTxIntervalUs: tx,
    requiredMinRxIntervalUs: rx,
    txBaseUs: up && tx > s.txBaseUs ? s.txBaseUs : tx,
    rxForDetectUs: up && rx < s.rxForDetectUs ? s.rxForDetectUs : rx,
    pollActive: true,
    pollPending: s.pollActive || s.pollPending,
  };
}

/** §6.8.6 from "Set bfd.RemoteDiscr" on; the packet already passed the codec's checks and demultiplexing. */
function receive(s0: BfdSession, p: BfdControlPacket, random: number): BfdStep {
  const actions: BfdAction[] = [];
  let s: BfdSession = {
    ...s0,
    remoteDiscr: p.myDiscriminator,
    remoteState: p.state,
    remoteDemandMode: p.demand,
    remoteMinRxIntervalUs: p.requiredMinRxIntervalUs,
    remoteDesiredMinTxIntervalUs: p.desiredMinTxIntervalUs,
    remoteDetectMult: p.detectMult,
  };
  if (s.pollActive && p.final) {
    // The poll ends: what waited on it now applies; a change made meanwhile gets its own poll.
    s = { ...s, txBaseUs: s.desiredMinTxIntervalUs, rxForDetectUs: s.requiredMinRxIntervalUs, pollActive: s.pollPending, pollPending: false };
  }
  if (s.state === 'AdminDown') return settleTx(s, actions, random, false);

  let sendNow = false;
  if (p.state === 'AdminDown') {
    if (s.state !== 'Down') {
      s = changeState(s, 'Down', BfdDiag.NeighborSignaledSessionDown, actions);
      sendNow = true;
    }
  } else if (s.state === 'Down') {
    if (p.state === 'Down') { s = changeState(s, 'Init', BfdDiag.None, actions); sendNow = true; }
    else if (p.state === 'Init') { s = changeState(s, 'Up', BfdDiag.None, actions); sendNow = true; }
  } else if (s.state === 'Init') {
    if (p.state === 'Init' || p.state === 'Up') { s = changeState(s, 'Up', BfdDiag.None, actions); sendNow = true; }
  } else if (p.state === 'Down') {
    s = changeState(s, 'Down', BfdDiag.NeighborSignaledSessionDown, actions);
    sendNow = true;
  }

  // A Poll is answered at once with F set and P clear, whatever the tx timer says (§6.5, §6.8.7).
  if (p.poll) actions.push({ type: 'send', packet: controlPacketFields(s, true) });
  // The packet counts as received for the Detection Time (§6.8.4).
  actions.push({ type: 'set-timer', timer: 'detect', afterUs: detectionTimeUs(s) });
  s = { ...s, detectTimerArmed: true };
  return settleTx(s, actions, random, sendNow);
}

function txTimerFired(s: BfdSession, random: number): BfdStep {
  const actions: BfdAction[] = [];
  const fired = { ...s, txTimerArmed: false };
  if (!periodicTransmitAllowed(fired) || transmitIntervalUs(fired) === 0) return { session: fired, actions };
  return settleTx(fired, actions, random, true);
}

/** §6.8.4/§6.8.1: no valid packet for a Detection Time: Init/Up go Down (diag 1); bfd.RemoteDiscr = 0. */
function detectTimerFired(s0: BfdSession, random: number): BfdStep {
  const actions: BfdAction[] = [];
  let s: BfdSession = { ...s0, detectTimerArmed: false, remoteDiscr: 0, remoteState: 'Down' };
  let sendNow = false;
  if (s.state === 'Init' || s.state === 'Up') {
    s = changeState(s, 'Down', BfdDiag.ControlDetectionTimeExpired, actions);
    sendNow = true;
  }
  return settleTx(s, actions, random, sendNow);
}

/** §6.8.16: AdminDown with diag 7; packets keep going out (State AdminDown) so the peer learns it. */
function adminDown(s0: BfdSession, random: number): BfdStep {
  if (s0.state === 'AdminDown') return { session: s0, actions: [] };
  const actions: BfdAction[] = [];
  let s = changeState(s0, 'AdminDown', BfdDiag.AdministrativelyDown, actions);
  if (s.detectTimerArmed) actions.push({ type: 'clear-timer', timer: 'detect' });
  s = { ...s, detectTimerArmed: false };
  return settleTx(s, actions, random, true);
}

/** §6.8.16: leaving AdminDown goes to Down; the diag stays 7 until the next transition says otherwise. */
function adminUp(s0: BfdSession, random: number): BfdStep {
  if (s0.state !== 'AdminDown') return { session: s0, actions: [] };
  const actions: BfdAction[] = [];
  const s = changeState(s0, 'Down', s0.localDiag, actions);
  return settleTx(s, actions, random, true);
}

/** New profile values: intervals through a Poll Sequence (§6.8.3); Detect Mult and passive at once. */
function reconfigure(s0: BfdSession, params: BfdSessionParams, random: number): BfdStep {
  const withParams: BfdSession = { ...s0, params };
  const s = setAdvertised(withParams, advertisedTx(params, s0.state), params.requiredMinRxIntervalUs);
  const startsPoll = s.pollActive && !s0.pollActive;
  return settleTx(s, [], random, startsPoll);
}
