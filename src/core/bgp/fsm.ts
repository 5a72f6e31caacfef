/**
 * The BGP session FSM (RFC 4271 §8) as a pure reducer: `step(snapshot, event) → {state, actions}`. Time and
 * sockets are events and actions (architecture §3.3, §4 convention 4); the adapter runs timers with an
 * injected clock and carries out actions in order.
 *
 * Differences from v0.11 (spec §6.2), all RFC behaviour: Established only after the peer's KEEPALIVE
 * (OpenConfirm), a hold timer enforced on receive, a NOTIFICATION with the RFC's code/subcode on every error,
 * Cease with an RFC 4486 subcode on a deliberate stop (none for a graceful restart, RFC 4724), and the
 * backoff reset only after a session stayed up (`stableMs`), so a peer that accepts and then drops every
 * session is not redialled in a tight loop.
 */
import { CeaseSubcode, ErrorCode, FsmSubcode } from './constants.js';
import { type BgpError, bgpError, describeNotification } from './error.js';
import { backoffMs } from './backoff.js';
import { decodeMessage, DEFAULT_DECODE_CONTEXT } from './messages.js';
import { encodeKeepalive, encodeNotificationFor } from './notification.js';
import { encodeOpen } from './open.js';
import { localOpen, negotiate } from './open-check.js';
import { type FsmAction, type FsmEvent, type FsmSnapshot, type SessionConfig, type TimerName } from './session-types.js';
import { familyOfAfi } from './wire.js';

/** Result of one step. */
export interface StepResult {
  readonly state: FsmSnapshot;
  readonly actions: FsmAction[];
}

const ALL_TIMERS: readonly TimerName[] = ['idleHold', 'connectRetry', 'hold', 'keepalive', 'stable'];

/** A session that has not been started. */
export function initialSnapshot(config: SessionConfig): FsmSnapshot {
  return { config, state: 'idle', running: false, attempts: 0 };
}

const clearAll = (): FsmAction[] => ALL_TIMERS.map((timer) => ({ type: 'clearTimer', timer }));

function startConnect(s: FsmSnapshot): StepResult {
  return {
    state: { ...s, state: 'connect', negotiated: undefined, localAddress: undefined, localBgpId: undefined },
    actions: [{ type: 'connect' }, { type: 'setTimer', timer: 'connectRetry', ms: s.config.connectTimeoutMs }],
  };
}

/**
 * Tears the connection down after a failure: optionally a NOTIFICATION, then close, timers cleared, `down`
 * if the session was Established, and (while running) a reconnect after the backoff delay.
 */
function failSession(s: FsmSnapshot, reason: string, notify?: BgpError): StepResult {
  const actions: FsmAction[] = [];
  if (notify !== undefined) actions.push({ type: 'send', frame: encodeNotificationFor(notify), message: 'notification' });
  actions.push({ type: 'close' }, ...clearAll());
  actions.push({ type: 'error', reason, sentNotification: notify && { code: notify.code, subcode: notify.subcode } });
  if (s.state === 'established') actions.push({ type: 'down', reason, graceful: false });
  const next: FsmSnapshot = { ...s, state: 'idle', negotiated: undefined, attempts: s.attempts + 1 };
  if (s.running) actions.push({ type: 'setTimer', timer: 'idleHold', ms: backoffMs(s.attempts) });
  return { state: next, actions };
}

function fsmError(s: FsmSnapshot, what: string): StepResult {
  const subcode = s.state === 'openSent' ? FsmSubcode.UNEXPECTED_MESSAGE_IN_OPENSENT : s.state === 'openConfirm' ? FsmSubcode.UNEXPECTED_MESSAGE_IN_OPENCONFIRM : FsmSubcode.UNEXPECTED_MESSAGE_IN_ESTABLISHED;
  return failSession(s, `unexpected ${what} in ${s.state}`, bgpError(ErrorCode.FSM, subcode, `unexpected ${what} in ${s.state}`));
}

function holdTimer(s: FsmSnapshot): FsmAction[] {
  const hold = s.negotiated?.holdTimeSeconds ?? 0;
  return hold === 0 ? [{ type: 'clearTimer', timer: 'hold' }] : [{ type: 'setTimer', timer: 'hold', ms: hold * 1000 }];
}

function keepaliveTimer(s: FsmSnapshot): FsmAction[] {
  const ms = s.negotiated?.keepaliveMs ?? 0;
  return ms === 0 ? [] : [{ type: 'setTimer', timer: 'keepalive', ms }];
}

function stop(s: FsmSnapshot, reason: Extract<FsmEvent, { type: 'stop' }>['reason']): StepResult {
  const next: FsmSnapshot = { ...s, state: 'idle', running: false, attempts: 0, negotiated: undefined };
  if (s.state === 'idle') return { state: next, actions: clearAll() };
  if (s.state === 'connect') return { state: next, actions: [{ type: 'close' }, ...clearAll()] };
  const actions: FsmAction[] = [];
  const graceful = reason.kind === 'gracefulRestart' && s.state === 'established' && s.negotiated?.gracefulRestart !== undefined;
  let why: string;
  if (graceful) {
    why = 'graceful restart: closing without a NOTIFICATION';
  } else {
    // Without a negotiated graceful restart the peer drops our routes either way: say so politely.
    const subcode = reason.kind === 'cease' ? reason.subcode : CeaseSubcode.ADMINISTRATIVE_SHUTDOWN;
    why = reason.kind === 'cease' ? reason.why : 'shutdown (graceful restart not negotiated)';
    actions.push({ type: 'send', frame: encodeNotificationFor(bgpError(ErrorCode.CEASE, subcode, why)), message: 'notification' });
  }
  actions.push({ type: 'close' }, ...clearAll());
  if (s.state === 'established') actions.push({ type: 'down', reason: why, graceful });
  return { state: next, actions };
}

function onMessage(s: FsmSnapshot, frame: Buffer): StepResult {
  const n = s.negotiated;
  const decoded = decodeMessage(frame, n ? { fourOctetAs: n.fourOctetAs, ibgp: n.ibgp } : DEFAULT_DECODE_CONTEXT);
  if (!decoded.ok) return failSession(s, decoded.error.reason, decoded.error);
  const m = decoded.value;
  if (m.type === 'notification') {
    const text = `peer sent notification ${m.code}/${m.subcode} (${describeNotification(m.code, m.subcode)}), closing session`;
    return failSession(s, text);
  }
  switch (s.state) {
    case 'openSent': {
      if (m.type !== 'open') return fsmError(s, m.type);
      const r = negotiate(s.config, s.localBgpId ?? 0, s.localAddress!, m);
      if (!r.ok) return failSession(s, r.error.reason, r.error);
      const next: FsmSnapshot = { ...s, state: 'openConfirm', negotiated: r.value };
      return {
        state: next,
        actions: [{ type: 'send', frame: encodeKeepalive(), message: 'keepalive' }, ...holdTimer(next), ...keepaliveTimer(next)],
      };
    }
    case 'openConfirm': {
      if (m.type !== 'keepalive') return fsmError(s, m.type);
      const next: FsmSnapshot = { ...s, state: 'established' };
      return {
        state: next,
        actions: [...holdTimer(next), { type: 'setTimer', timer: 'stable', ms: s.config.stableMs }, { type: 'up', negotiated: n! }],
      };
    }
    case 'established': {
      if (m.type === 'open') return fsmError(s, m.type);
      const actions: FsmAction[] = holdTimer(s);
      if (m.type === 'update') {
        if (m.treatAsWithdraw !== undefined) actions.push({ type: 'updateError', handling: 'treat-as-withdraw', reason: m.treatAsWithdraw });
        for (const why of m.discarded) actions.push({ type: 'updateError', handling: 'attribute-discard', reason: why });
      } else if (m.type === 'routeRefresh') {
        // RFC 2918 §4: answer only for an AFI/SAFI the session carries; ignore any other.
        const family = familyOfAfi(m.afi);
        if (n!.routeRefresh && family !== undefined && m.safi === 1 && m.subtype === 0 && n!.families.includes(family)) {
          actions.push({ type: 'routeRefresh', family });
        }
      }
      return { state: s, actions };
    }
    default:
      return { state: s, actions: [] }; // idle/connect: no connection to read from (a stale event)
  }
}

function onTimer(s: FsmSnapshot, timer: TimerName): StepResult {
  switch (timer) {
    case 'idleHold':
      return s.state === 'idle' && s.running ? startConnect(s) : { state: s, actions: [] };
    case 'connectRetry':
      return s.state === 'connect' ? failSession(s, 'connect timed out') : { state: s, actions: [] };
    case 'hold':
      if (s.state !== 'openSent' && s.state !== 'openConfirm' && s.state !== 'established') return { state: s, actions: [] };
      return failSession(s, 'hold timer expired', bgpError(ErrorCode.HOLD_TIMER_EXPIRED, 0, 'hold timer expired'));
    case 'keepalive':
      if (s.state !== 'openConfirm' && s.state !== 'established') return { state: s, actions: [] };
      return { state: s, actions: [{ type: 'send', frame: encodeKeepalive(), message: 'keepalive' }, ...keepaliveTimer(s)] };
    case 'stable':
      return { state: s.state === 'established' ? { ...s, attempts: 0 } : s, actions: [] };
  }
}

/**
 * Advances the FSM by one event. Never throws; events that make no sense in the current state (a stale
 * timer, a late tcpClosed) are ignored, so the adapter need not be perfect about ordering.
 */
export function step(s: FsmSnapshot, e: FsmEvent): StepResult {
  switch (e.type) {
    case 'start':
      if (s.running) return { state: s, actions: [] };
      return startConnect({ ...s, running: true, attempts: 0 });
    case 'stop':
      return stop(s, e.reason);
    case 'tcpConnected': {
      if (s.state !== 'connect') return { state: s, actions: [{ type: 'close' }] };
      const next: FsmSnapshot = { ...s, state: 'openSent', localAddress: e.localAddress, localBgpId: e.routerId >>> 0 };
      return {
        state: next,
        actions: [
          { type: 'clearTimer', timer: 'connectRetry' },
          { type: 'send', frame: encodeOpen(localOpen(s.config, e.routerId >>> 0)), message: 'open' },
          { type: 'setTimer', timer: 'hold', ms: s.config.openHoldTimeMs },
        ],
      };
    }
    case 'tcpClosed':
      if (s.state === 'idle') return { state: s, actions: [] };
      return failSession(s, e.error ? `connection closed: ${e.error}` : 'connection closed by peer');
    case 'message':
      return onMessage(s, e.frame);
    case 'decodeError':
      if (s.state === 'idle' || s.state === 'connect') return { state: s, actions: [] };
      return failSession(s, e.error.reason, e.error);
    case 'timerFired':
      return onTimer(s, e.timer);
    case 'sendUpdates': {
      if (s.state !== 'established' || e.frames.length === 0) return { state: s, actions: [] };
      // RFC 4271 §8.2.2: sending an UPDATE restarts the KeepaliveTimer.
      const sends: FsmAction[] = e.frames.map((frame) => ({ type: 'send', frame, message: 'update' }));
      return { state: s, actions: [...sends, ...keepaliveTimer(s)] };
    }
  }
}
