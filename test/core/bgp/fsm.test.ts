/**
 * The session FSM (RFC 4271 §8) as story tables: events in, actions out, no sockets and no real time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp, type IpAddr } from '../../../src/core/ip/index.js';
import {
  decodeMessage, encodeKeepalive, encodeNotification, encodeOpen, encodeRouteRefresh, encodeUpdateParts, initialSnapshot, step,
  SESSION_TIMING_DEFAULTS, type Capabilities, type FsmAction, type FsmEvent, type FsmSnapshot, type SessionConfig,
} from '../../../src/core/bgp/index.js';

const ip = (s: string): IpAddr => parseIp(s)!;
const LOCAL = ip('192.0.2.10');
const ROUTER_ID = Number(LOCAL.value);
const CONFIG: SessionConfig = { localAs: 64512, peerAs: 64513, holdTimeSeconds: 90, families: [4, 6], gracefulRestart: { restartTimeSeconds: 120 }, ...SESSION_TIMING_DEFAULTS };
const FULL_CAPS: Capabilities = {
  multiprotocol: [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }], routeRefresh: true, fourOctetAs: 64513,
  gracefulRestart: { restartState: false, restartTimeSeconds: 90, families: [{ afi: 1, safi: 1, forwardingState: true }] }, other: [],
};
function peerOpen(over: { myAs?: number; hold?: number; id?: number; caps?: Partial<Capabilities> } = {}): Buffer {
  return encodeOpen({ type: 'open', version: 4, myAs: over.myAs ?? 64513, holdTimeSeconds: over.hold ?? 30, bgpIdentifier: over.id ?? Number(ip('192.0.2.1').value), capabilities: { ...FULL_CAPS, ...over.caps } });
}

/** Drives the reducer and keeps every action, so a story reads as events and the actions they caused. */
class Session {
  state: FsmSnapshot;
  constructor(config: SessionConfig = CONFIG) {
    this.state = initialSnapshot(config);
  }
  on(e: FsmEvent): FsmAction[] {
    const r = step(this.state, e);
    this.state = r.state;
    return r.actions;
  }
  msg(frame: Buffer): FsmAction[] {
    return this.on({ type: 'message', frame });
  }
  established(open = peerOpen()): FsmAction[] {
    this.on({ type: 'start' });
    this.on({ type: 'tcpConnected', localAddress: LOCAL, routerId: ROUTER_ID });
    this.msg(open);
    return this.msg(encodeKeepalive());
  }
}

const kinds = (as: FsmAction[]) => as.map((a) => (a.type === 'send' ? `send:${a.message}` : a.type === 'setTimer' ? `set:${a.timer}:${a.ms}` : a.type === 'clearTimer' ? `clear:${a.timer}` : a.type));
const notificationOf = (as: FsmAction[]) => {
  const a = as.find((x) => x.type === 'send' && x.message === 'notification');
  if (a === undefined || a.type !== 'send') return undefined;
  const m = decodeMessage(a.frame);
  assert.ok(m.ok && m.value.type === 'notification');
  return [m.value.code, m.value.subcode];
};
const idleHoldOf = (as: FsmAction[]) => as.flatMap((a) => (a.type === 'setTimer' && a.timer === 'idleHold' ? [a.ms] : []));
const CLEAR_ALL = ['clear:idleHold', 'clear:connectRetry', 'clear:hold', 'clear:keepalive', 'clear:stable'];

test('happy path: connect, OPEN, KEEPALIVE, Established with negotiated hold, families and graceful restart', () => {
  const s = new Session();
  assert.deepEqual(kinds(s.on({ type: 'start' })), ['connect', 'set:connectRetry:10000']);
  const opened = s.on({ type: 'tcpConnected', localAddress: LOCAL, routerId: ROUTER_ID });
  assert.deepEqual(kinds(opened), ['clear:connectRetry', 'send:open', 'set:hold:240000']);
  const sent = opened[1]!;
  assert.ok(sent.type === 'send');
  const ours = decodeMessage(sent.frame);
  assert.ok(ours.ok && ours.value.type === 'open');
  assert.equal(ours.value.bgpIdentifier, ROUTER_ID);
  assert.deepEqual(kinds(s.msg(peerOpen())), ['send:keepalive', 'set:hold:30000', 'set:keepalive:10000']);
  assert.equal(s.state.state, 'openConfirm');
  const up = s.msg(encodeKeepalive());
  assert.deepEqual(kinds(up), ['set:hold:30000', 'set:stable:60000', 'up']);
  const n = up[2]!.type === 'up' ? up[2]!.negotiated : undefined;
  assert.deepEqual(
    n && { hold: n.holdTimeSeconds, ka: n.keepaliveMs, fam: n.families, gr: n.gracefulRestart, rr: n.routeRefresh, as4: n.fourOctetAs, ibgp: n.ibgp },
    { hold: 30, ka: 10000, fam: [4, 6], gr: { peerRestartTimeSeconds: 90, peerForwarding: [4] }, rr: true, as4: true, ibgp: false },
  );
  assert.equal(s.state.state, 'established');
  // Every KEEPALIVE or UPDATE received restarts the hold timer; our keepalive timer re-arms itself.
  assert.deepEqual(kinds(s.msg(encodeKeepalive())), ['set:hold:30000']);
  assert.deepEqual(kinds(s.msg(encodeUpdateParts(Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0)))), ['set:hold:30000']);
  assert.deepEqual(kinds(s.on({ type: 'timerFired', timer: 'keepalive' })), ['send:keepalive', 'set:keepalive:10000']);
});

test('families: the intersection of both OPENs; a peer without MP capabilities gets IPv4 only', () => {
  const v6only = new Session();
  const up = v6only.established(peerOpen({ caps: { multiprotocol: [{ afi: 2, safi: 1 }] } })).find((a) => a.type === 'up');
  assert.deepEqual(up?.type === 'up' && up.negotiated.families, [6]);
  const legacy = new Session();
  const up2 = legacy.established(peerOpen({ caps: { multiprotocol: [], gracefulRestart: undefined } })).find((a) => a.type === 'up');
  assert.deepEqual(up2?.type === 'up' && [up2.negotiated.families, up2.negotiated.gracefulRestart], [[4], undefined]);
});

test('hold timer expiry on receive: NOTIFICATION 4/0, close, down, reconnect at once', () => {
  const s = new Session();
  s.established();
  const a = s.on({ type: 'timerFired', timer: 'hold' });
  assert.deepEqual(notificationOf(a), [4, 0]);
  assert.deepEqual(kinds(a), ['send:notification', 'close', ...CLEAR_ALL, 'error', 'down', 'set:idleHold:0']);
  assert.equal(s.state.state, 'idle');
  assert.deepEqual(kinds(s.on({ type: 'timerFired', timer: 'idleHold' })), ['connect', 'set:connectRetry:10000']);
});

test('hold time 0 negotiated: no hold timer and no keepalives', () => {
  const s = new Session();
  s.on({ type: 'start' });
  s.on({ type: 'tcpConnected', localAddress: LOCAL, routerId: ROUTER_ID });
  assert.deepEqual(kinds(s.msg(peerOpen({ hold: 0 }))), ['send:keepalive', 'clear:hold']);
});

test('keepalive-time is used when below the negotiated hold time, else hold/3', () => {
  const s = new Session({ ...CONFIG, keepaliveTimeSeconds: 5 });
  s.on({ type: 'start' });
  s.on({ type: 'tcpConnected', localAddress: LOCAL, routerId: ROUTER_ID });
  assert.ok(kinds(s.msg(peerOpen({ hold: 30 }))).includes('set:keepalive:5000'));
  const t = new Session({ ...CONFIG, keepaliveTimeSeconds: 60 });
  t.on({ type: 'start' });
  t.on({ type: 'tcpConnected', localAddress: LOCAL, routerId: ROUTER_ID });
  assert.ok(kinds(t.msg(peerOpen({ hold: 9 }))).includes('set:keepalive:3000'));
});

test('a refusing peer is redialled with backoff 0, 1, 2, 4 … 120 s, never without the timer', () => {
  const s = new Session();
  s.on({ type: 'start' });
  const delays: number[] = [];
  for (let i = 0; i < 12; i++) {
    const a = s.on({ type: 'tcpClosed', error: 'ECONNREFUSED' });
    assert.ok(!kinds(a).includes('connect'), 'no connect before the backoff timer fires');
    delays.push(...idleHoldOf(a));
    assert.deepEqual(kinds(s.on({ type: 'timerFired', timer: 'idleHold' })), ['connect', 'set:connectRetry:10000']);
  }
  assert.deepEqual(delays, [0, 1000, 2000, 4000, 8000, 16000, 32000, 64000, 120000, 120000, 120000, 120000]);
  // A connect that hangs counts as a failure too.
  assert.deepEqual(idleHoldOf(s.on({ type: 'timerFired', timer: 'connectRetry' })), [120000]);
});

test('a peer that accepts and drops every session backs off too; the backoff resets once a session stays up', () => {
  const s = new Session();
  const delays: number[] = [];
  s.established();
  for (let i = 0; i < 5; i++) {
    delays.push(...idleHoldOf(s.on({ type: 'tcpClosed' })));
    s.on({ type: 'timerFired', timer: 'idleHold' });
    s.on({ type: 'tcpConnected', localAddress: LOCAL, routerId: ROUTER_ID });
    s.msg(peerOpen());
    s.msg(encodeKeepalive());
  }
  assert.deepEqual(delays, [0, 1000, 2000, 4000, 8000]);
  s.on({ type: 'timerFired', timer: 'stable' });
  assert.deepEqual(idleHoldOf(s.on({ type: 'tcpClosed' })), [0]);
});

test('OPEN checks answer with RFC 4271 §6.2 NOTIFICATIONs', () => {
  const cases: [string, Buffer, SessionConfig, [number, number]][] = [
    ['peer AS not the configured one', peerOpen({ myAs: 64999, caps: { fourOctetAs: 64999 } }), CONFIG, [2, 2]],
    ['peer AS 0', peerOpen({ myAs: 0, caps: { fourOctetAs: undefined } }), CONFIG, [2, 2]],
    ['hold time 2', peerOpen({ hold: 2 }), CONFIG, [2, 6]],
    ['BGP identifier 0', peerOpen({ id: 0 }), CONFIG, [2, 3]],
    ['iBGP peer with our identifier', peerOpen({ myAs: 64512, id: ROUTER_ID, caps: { fourOctetAs: 64512 } }), { ...CONFIG, peerAs: 64512 }, [2, 3]],
    ['version 3', Buffer.from(peerOpen()).fill(3, 19, 20), CONFIG, [2, 1]],
  ];
  for (const [desc, open, config, want] of cases) {
    const s = new Session(config);
    s.on({ type: 'start' });
    s.on({ type: 'tcpConnected', localAddress: LOCAL, routerId: ROUTER_ID });
    const a = s.msg(open);
    assert.deepEqual(notificationOf(a), want, desc);
    assert.ok(kinds(a).includes('close'), desc);
    assert.equal(s.state.state, 'idle', desc);
  }
  // A 4-octet ASN peer without the capability shows AS_TRANS: accepted only when configured as 23456.
  const s = new Session({ ...CONFIG, peerAs: 4200000000 });
  s.on({ type: 'start' });
  s.on({ type: 'tcpConnected', localAddress: LOCAL, routerId: ROUTER_ID });
  assert.equal(s.msg(peerOpen({ myAs: 23456, caps: { fourOctetAs: 4200000000 } })).some((a) => a.type === 'error'), false);
});

test('unexpected messages are FSM errors with RFC 6608 subcodes', () => {
  const openSent = new Session();
  openSent.on({ type: 'start' });
  openSent.on({ type: 'tcpConnected', localAddress: LOCAL, routerId: ROUTER_ID });
  assert.deepEqual(notificationOf(openSent.msg(encodeKeepalive())), [5, 1]);
  const openConfirm = new Session();
  openConfirm.on({ type: 'start' });
  openConfirm.on({ type: 'tcpConnected', localAddress: LOCAL, routerId: ROUTER_ID });
  openConfirm.msg(peerOpen());
  assert.deepEqual(notificationOf(openConfirm.msg(peerOpen())), [5, 2]);
  const est = new Session();
  est.established();
  const a = est.msg(peerOpen());
  assert.deepEqual(notificationOf(a), [5, 3]);
  assert.ok(kinds(a).includes('down'));
});

test('a received NOTIFICATION closes without answering; a framing error is reported in one', () => {
  const s = new Session();
  s.established();
  const a = s.msg(encodeNotification({ code: 6, subcode: 2 }));
  assert.equal(notificationOf(a), undefined);
  assert.deepEqual(kinds(a), ['close', ...CLEAR_ALL, 'error', 'down', 'set:idleHold:0']);
  const err = a.find((x) => x.type === 'error');
  assert.match(err?.type === 'error' ? err.reason : '', /6\/2 \(cease\/administrative shutdown\)/);
  const t = new Session();
  t.established();
  assert.deepEqual(notificationOf(t.on({ type: 'decodeError', error: { code: 1, subcode: 1, data: Buffer.alloc(0), reason: 'marker' } })), [1, 1]);
});

test('stop: Cease with the RFC 4486 subcode; a graceful restart closes without a NOTIFICATION', () => {
  const removed = new Session();
  removed.established();
  const a = removed.on({ type: 'stop', reason: { kind: 'cease', subcode: 3, why: 'peer removed from config' } });
  assert.deepEqual(notificationOf(a), [6, 3]);
  assert.deepEqual(kinds(a), ['send:notification', 'close', ...CLEAR_ALL, 'down']);
  assert.equal(removed.state.running, false);
  assert.deepEqual(removed.on({ type: 'tcpClosed' }), [], 'no reconnect after stop');
  assert.deepEqual(removed.on({ type: 'timerFired', timer: 'idleHold' }), []);

  const gr = new Session();
  gr.established();
  const g = gr.on({ type: 'stop', reason: { kind: 'gracefulRestart' } });
  assert.deepEqual(kinds(g), ['close', ...CLEAR_ALL, 'down']);
  assert.deepEqual(g.at(-1), { type: 'down', reason: 'graceful restart: closing without a NOTIFICATION', graceful: true });

  const noGr = new Session();
  noGr.established(peerOpen({ caps: { gracefulRestart: undefined } }));
  assert.deepEqual(notificationOf(noGr.on({ type: 'stop', reason: { kind: 'gracefulRestart' } })), [6, 2]);

  const connecting = new Session();
  connecting.on({ type: 'start' });
  assert.deepEqual(kinds(connecting.on({ type: 'stop', reason: { kind: 'cease', subcode: 2, why: 'shutdown' } })), ['close', ...CLEAR_ALL]);
});

test('UPDATEs are sent only when Established and restart the keepalive timer', () => {
  const s = new Session();
  s.on({ type: 'start' });
  assert.deepEqual(s.on({ type: 'sendUpdates', frames: [encodeKeepalive()] }), []);
  s.established();
  const u = encodeUpdateParts(Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0));
  assert.deepEqual(kinds(s.on({ type: 'sendUpdates', frames: [u, u] })), ['send:update', 'send:update', 'set:keepalive:10000']);
});

test('ROUTE-REFRESH for a carried family asks for a resend; others are ignored', () => {
  const s = new Session();
  s.established(peerOpen({ caps: { multiprotocol: [{ afi: 1, safi: 1 }] } }));
  assert.deepEqual(s.msg(encodeRouteRefresh({ family: 4 })).filter((a) => a.type === 'routeRefresh'), [{ type: 'routeRefresh', family: 4 }]);
  assert.deepEqual(s.msg(encodeRouteRefresh({ family: 6 })).filter((a) => a.type === 'routeRefresh'), []);
});

test('a malformed UPDATE handled by RFC 7606 keeps the session and says why', () => {
  const s = new Session();
  s.established();
  // ORIGIN with value 7 and an NLRI: treat-as-withdraw.
  const bad = encodeUpdateParts(Buffer.alloc(0), Buffer.from('400101074002004003040a000001', 'hex'), Buffer.from('18cb0071', 'hex'));
  const a = s.msg(bad);
  assert.deepEqual(a.filter((x) => x.type === 'updateError'), [{ type: 'updateError', handling: 'treat-as-withdraw', reason: 'malformed ORIGIN' }]);
  assert.equal(s.state.state, 'established');
});
