// The responder host's watchdog on the speaker's main loop (issue 11: a frozen speaker's child must stop answering),
// driven by a fake clock: the speaker's heartbeat timer and the host's check timer both run on it, and freezing the
// speaker is stopping its timer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../helpers/fake-clock.js';
import {
  check, heard, responderMuteAfterMs, startWatchdog, RESPONDER_HEARTBEAT_MS, RESPONDER_MUTE_AFTER_MS, type ParentMessageKind, type ResponderWatchdog,
} from '../../../src/core/layer2/responder-watchdog.js';

/** A speaker (heartbeat every RESPONDER_HEARTBEAT_MS until frozen) and a host checking as often; records mutes. */
function harness(muteAfterMs = RESPONDER_MUTE_AFTER_MS) {
  const clock = new FakeClock();
  let w: ResponderWatchdog = startWatchdog(clock.now());
  let frozen = false;
  const mutes: Array<{ at: number; silentMs: number }> = [];
  const unmutes: number[] = [];
  const deliver = (kind: ParentMessageKind) => {
    const r = heard(w, clock.now(), kind);
    w = r.watchdog;
    if (r.unmute) unmutes.push(clock.now());
  };
  const beat = () => { if (frozen) return; deliver('alive'); clock.setTimer(RESPONDER_HEARTBEAT_MS, beat); };
  const tick = () => {
    const r = check(w, clock.now(), muteAfterMs);
    w = r.watchdog;
    if (r.mute) mutes.push({ at: clock.now(), silentMs: r.silentMs });
    clock.setTimer(RESPONDER_HEARTBEAT_MS, tick);
  };
  clock.setTimer(RESPONDER_HEARTBEAT_MS, beat);
  clock.setTimer(RESPONDER_HEARTBEAT_MS, tick);
  return {
    clock, mutes, unmutes, deliver,
    get muted() { return w.muted; },
    freeze() { frozen = true; },
    resume() { frozen = false; beat(); },
  };
}

test('a speaker heartbeating every 100 ms is never muted', () => {
  const h = harness();
  h.clock.advance(60_000);
  assert.deepEqual(h.mutes, []);
  assert.equal(h.muted, false);
});

test('a frozen speaker: the host mutes once, at the first check 1 s after the last heartbeat, and stays muted', () => {
  const h = harness();
  h.clock.advance(5000);
  h.freeze(); // last heartbeat at 5000
  h.clock.advance(999);
  assert.deepEqual(h.mutes, [], 'not before the threshold');
  h.clock.advance(30_000);
  assert.deepEqual(h.mutes, [{ at: 6000, silentMs: 1000 }], 'one mute, however long the freeze');
  assert.equal(h.muted, true);
});

test('resumed: heartbeats alone do not unmute; the full owned-set sync does, and a later freeze mutes again', () => {
  const h = harness();
  h.clock.advance(1000);
  h.freeze();
  h.clock.advance(3000);
  assert.equal(h.muted, true);
  h.resume();
  h.deliver('other'); // e.g. a probe or an `own` delta posted before the speaker read the host's `muted`
  h.clock.advance(500);
  assert.equal(h.muted, true, 'still muted: the speaker has not resent what it owns now');
  h.deliver('owned');
  assert.equal(h.muted, false);
  assert.deepEqual(h.unmutes, [4500]);
  h.clock.advance(10_000);
  assert.equal(h.mutes.length, 1, 'heartbeating again: no new mute');
  h.freeze();
  h.clock.advance(2000);
  assert.equal(h.mutes.length, 2);
  assert.equal(h.muted, true);
});

test('an owned-set sync while answering is no unmute; any message from the speaker counts as heard', () => {
  let w = startWatchdog(0);
  const r = heard(w, 900, 'owned');
  assert.equal(r.unmute, false);
  w = heard(r.watchdog, 1800, 'other').watchdog;
  assert.equal(check(w, 2700).mute, false, 'silent 900 ms only');
  assert.equal(check(w, 2800).mute, true);
});

test('a host that stalled itself reads the heartbeats queued meanwhile before it checks: no mute', () => {
  const w = startWatchdog(0);
  // The host's loop was stuck from 100 to 3000 ms; the speaker's heartbeats wait in the pipe and are read first.
  const after = heard(w, 3000, 'alive').watchdog;
  assert.equal(check(after, 3000).mute, false);
  assert.equal(check(w, 3000).mute, true, 'checked before reading them it would have muted');
  assert.equal(heard(after, 2000, 'alive').watchdog.heardAt, 3000, 'never goes back in time');
});

test('the threshold: 1 s, or 10 gossip probe intervals when that is longer', () => {
  assert.equal(responderMuteAfterMs(), 1000);
  assert.equal(responderMuteAfterMs(100), 1000);
  assert.equal(responderMuteAfterMs(1000), 10_000);
  const h = harness(responderMuteAfterMs(1000));
  h.freeze();
  h.clock.advance(9000);
  assert.deepEqual(h.mutes, []);
  h.clock.advance(1000);
  assert.equal(h.mutes.length, 1);
});
