/**
 * The speaker's BFD (SpeakerBfd, with the production koffi TTL filter and MetalLB's metrics) in its own process,
 * so a test can run it inside a network namespace (`ip netns exec <ns> node bfd-child.js`). Environment:
 * BFD_PEERS (comma-separated peer addresses), BFD_TX_MS / BFD_RX_MS / BFD_MULT (profile values, MetalLB defaults
 * otherwise), BFD_MULTIHOP=1 (RFC 5883, port 4784) with BFD_MIN_TTL, BFD_PASSIVE=1.
 * Writes JSON lines on stdout: {"ready":true}, {"event":"state",peer,from,to,diag}, and answers stdin commands
 * {"op":"stats"} → {"stats":{peer:{state,discriminator,packetsIn,packetsOut}},"metrics":"<Prometheus text>"} and
 * {"op":"close"} (AdminDown to every peer, then exit).
 */
import { createInterface } from 'node:readline';
import { Registry } from 'prom-client';
import { bfdSessionConfig } from '../core/bfd/index.js';
import { SpeakerBfd } from '../adapters/bfd/speaker-bfd.js';
import { createBfdMetrics } from '../adapters/bfd/metrics.js';
import { attachSocketFilter } from '../adapters/bfd/socket-filter.js';
import { NOOP_LOGGER } from '../core/ports.js';

process.noDeprecation = true;
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const num = (k: string) => (process.env[k] ? Number(process.env[k]) : undefined);
const peers = (process.env['BFD_PEERS'] ?? '').split(',').filter(Boolean);
const profile = {
  name: 'test', receiveIntervalMs: num('BFD_RX_MS'), transmitIntervalMs: num('BFD_TX_MS'), detectMultiplier: num('BFD_MULT'),
  echoIntervalMs: undefined, echoMode: false, passiveMode: process.env['BFD_PASSIVE'] === '1', minimumTtl: num('BFD_MIN_TTL'),
};
const mapped = bfdSessionConfig(profile, process.env['BFD_MULTIHOP'] === '1');
if (!mapped.ok) throw new Error(mapped.error.message);
const registry = new Registry();
const bfd = new SpeakerBfd({ logger: NOOP_LOGGER, metrics: createBfdMetrics(registry), attachTtlFilter: attachSocketFilter });
for (const peer of peers) {
  await bfd.add(peer, mapped.config, { onState: (c) => out({ event: 'state', ...c }) });
}
out({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  let cmd: { op?: string };
  try { cmd = JSON.parse(line) as typeof cmd; } catch { continue; }
  if (cmd.op === 'stats') {
    out({
      stats: Object.fromEntries(peers.map((p) => [p, { state: bfd.state(p), discriminator: bfd.discriminator(p), ...bfd.counters(p) }])),
      metrics: await registry.metrics(),
    });
  } else if (cmd.op === 'close') {
    await bfd.close();
    out({ closed: true });
    process.exit(0);
  }
}
