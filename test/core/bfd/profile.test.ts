/** `bfd-profiles` → session parameters, receive classification (TTL, demultiplexing) and the metric names. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BFD_METRICS, bfdSessionConfig, classifyDatagram, encodeControlPacket, stateChangeMetrics, type SessionIndex,
} from '../../../src/core/bfd/index.js';
import { parseBfdProfiles } from '../../../src/core/config/bfd.js';

const profile = (raw: Record<string, unknown>) => {
  const r = parseBfdProfiles([raw as never]);
  assert.ok(r.ok);
  return r.profiles[0]!;
};

test('defaults: MetalLB profile defaults (300 ms / 300 ms / ×3, active, min TTL 254), with or without a profile', () => {
  const none = bfdSessionConfig(undefined, false);
  const empty = bfdSessionConfig(profile({ name: 'p' }), false);
  for (const r of [none, empty]) {
    assert.ok(r.ok);
    assert.deepEqual(r.config, {
      session: { desiredMinTxIntervalUs: 300_000, requiredMinRxIntervalUs: 300_000, detectMult: 3, passive: false },
      multihop: false, port: 3784, minimumReceivedTtl: 255,
    });
  }
  const multi = bfdSessionConfig(profile({ name: 'p' }), true);
  assert.ok(multi.ok);
  assert.equal(multi.config.port, 4784);
  assert.equal(multi.config.minimumReceivedTtl, 254);
});

test('every profile field maps; minimum-ttl only applies to multihop (single hop requires 255)', () => {
  const full = profile({ name: 'fast', 'receive-interval': 100, 'transmit-interval': 150, 'detect-multiplier': 4, 'passive-mode': true, 'minimum-ttl': 250, 'echo-interval': 20 });
  const single = bfdSessionConfig(full, false);
  assert.ok(single.ok);
  assert.deepEqual(single.config.session, { desiredMinTxIntervalUs: 150_000, requiredMinRxIntervalUs: 100_000, detectMult: 4, passive: true });
  assert.equal(single.config.minimumReceivedTtl, 255);
  const multi = bfdSessionConfig(full, true);
  assert.ok(multi.ok);
  assert.equal(multi.config.minimumReceivedTtl, 250);
});

test('echo-mode: true is refused with a clear error', () => {
  const r = bfdSessionConfig(profile({ name: 'echo', 'echo-mode': true }), false);
  assert.deepEqual(r, {
    ok: false,
    error: { kind: 'bfd-echo-mode-unsupported', message: "bfd profile echo: echo-mode is not supported by the native BGP speaker's BFD; set echo-mode: false" },
  });
});

const hello = (your: number, state: 'Down' | 'Up' = 'Down') => encodeControlPacket({
  diag: 0, state, poll: false, final: false, controlPlaneIndependent: false, demand: false, detectMult: 3,
  myDiscriminator: 77, yourDiscriminator: your, desiredMinTxIntervalUs: 1_000_000, requiredMinRxIntervalUs: 1_000_000, requiredMinEchoRxIntervalUs: 0,
});

test('classify: TTL below the session minimum is dropped; demultiplexing by discriminator and source', () => {
  const sessions = new Map([['192.0.2.1', { key: 's1', discr: 11, minTtl: 255 }], ['198.51.100.1', { key: 's2', discr: 22, minTtl: 254 }]]);
  const index: SessionIndex<string> = {
    byDiscriminator: (d) => [...sessions.values()].find((s) => s.discr === d)?.key,
    bySource: (src) => sessions.get(src)?.key,
    minimumTtl: (k) => [...sessions.values()].find((s) => s.key === k)!.minTtl,
  };
  const at = (payload: Buffer, source: string, ttl: number | undefined) => classifyDatagram({ payload, source, ttl }, index);
  assert.equal(at(hello(0), '192.0.2.1', 255).ok, true);
  assert.deepEqual(at(hello(0), '192.0.2.1', 254), { ok: false, reason: 'bad-ttl' }, 'single hop requires 255 (RFC 5881 §5)');
  assert.equal(at(hello(0), '198.51.100.1', 254).ok, true, 'multihop minimum-ttl 254');
  assert.deepEqual(at(hello(0), '198.51.100.1', 253), { ok: false, reason: 'bad-ttl' });
  assert.equal(at(hello(0), '192.0.2.1', undefined).ok, true, 'kernel-enforced TTL: nothing to check here');
  const up = at(hello(11, 'Up'), '192.0.2.1', 255);
  assert.ok(up.ok);
  assert.equal(up.key, 's1');
  assert.deepEqual(at(hello(99, 'Up'), '192.0.2.1', 255), { ok: false, reason: 'unknown-discriminator' });
  assert.deepEqual(at(hello(22, 'Up'), '192.0.2.1', 255), { ok: false, reason: 'unknown-discriminator' }, "another peer's discriminator");
  assert.deepEqual(at(hello(0), '203.0.113.9', 255), { ok: false, reason: 'no-session' });
  assert.deepEqual(at(Buffer.from([1, 2, 3]), '192.0.2.1', 255), { ok: false, reason: 'truncated' });
});

test("metric names are MetalLB's, labelled by peer; Up/Down events count transitions", () => {
  assert.deepEqual(Object.values(BFD_METRICS).map((m) => m.name).sort(), [
    'metallb_bfd_control_packet_input', 'metallb_bfd_control_packet_output', 'metallb_bfd_echo_packet_input',
    'metallb_bfd_echo_packet_output', 'metallb_bfd_session_down_events', 'metallb_bfd_session_up', 'metallb_bfd_session_up_events',
  ]);
  assert.deepEqual(stateChangeMetrics('Init', 'Up'), { up: 1, upEvent: 1, downEvent: 0 });
  assert.deepEqual(stateChangeMetrics('Up', 'Down'), { up: 0, upEvent: 0, downEvent: 1 });
  assert.deepEqual(stateChangeMetrics('Down', 'Init'), { up: 0, upEvent: 0, downEvent: 0 });
});
