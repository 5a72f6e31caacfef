/**
 * The speaker's BGP side for bench/bgp.ts, run as a child inside the bench's speaker namespace: the product's
 * BgpAnnouncer (src/adapters/bgp/announcer.ts: planner, sessions, Adj-RIB-Out, real sockets) with a real
 * clock, fed the way the speaker feeds it (setConfig, setBalancer per Service, synced) — only the Kubernetes
 * watches are left out. Commands on stdin, one JSON object a line; answers on stdout, one JSON object a line:
 *   {"cmd":"config","peers":[{"address","port","source"},…]}   setConfig: AS 64513 → 64512, source-address set
 *   {"cmd":"announce","count":N}                Services bench-0…bench-N-1, one IPv6 each (2001:db8:ffff::/112)
 *   {"cmd":"withdraw"}                          every Service deleted
 *   {"cmd":"start"}                             synced(): sessions start now → {"event":"up","peer":…,"at":ms} each
 *   {"cmd":"stats"}                             → {"rss":bytes,"heap":bytes,"updates":{peer:n},"up":[peer…]}
 * Every command is answered {"done":cmd} once carried out (the UPDATEs go out on the next event-loop turns).
 */
import { createInterface } from 'node:readline';
import { BgpAnnouncer } from '../src/adapters/bgp/announcer.js';
import { realClock } from '../src/adapters/clock.js';
import { parseConfig } from '../src/core/config/parse.js';
import type { Config } from '../src/core/config/types.js';
import type { Logger } from '../src/core/ports.js';

const say = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
const updates: Record<string, number> = {};
const up = new Set<string>();
/** Errors only, to stderr (the bench keeps them in its log). */
const quiet: Logger = { debug() {}, info() {}, warn() {}, error(o) { process.stderr.write(`${JSON.stringify(o)}\n`); }, child: () => quiet };

const announcer = new BgpAnnouncer({
  nodeName: 'bench', logger: quiet, clock: realClock, gracefulRestartSeconds: 120,
  metrics: {
    sessionUp(peer, on) {
      if (on && !up.has(peer)) say({ event: 'up', peer, at: Date.now() });
      if (on) up.add(peer); else up.delete(peer);
    },
    updateSent(peer) { updates[peer] = (updates[peer] ?? 0) + 1; },
    prefixes() {},
    removePeer(peer) { up.delete(peer); },
  },
});

/** A peer; the source is set (through md5-dialer.ts) because GoBGP's address sits on the same interface. */
interface BenchPeer { address: string; port: number; source: string }

function config(peers: readonly BenchPeer[]): Config {
  const text = [
    'peers:', ...peers.flatMap((p) => [`- peer-address: ${p.address}`, `  peer-port: ${p.port}`, '  peer-asn: 64512', '  my-asn: 64513', `  source-address: ${p.source}`]),
    'address-pools:', '- name: bench', '  protocol: bgp', '  addresses:', '  - 2001:db8:ffff::/112',
  ].join('\n');
  const r = parseConfig(text);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.config;
}

/** The i-th address of 2001:db8:ffff::/112 (i < 65536), canonical. */
const ipOf = (i: number) => `2001:db8:ffff::${i.toString(16)}`;
let announced = 0;

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  const c = JSON.parse(line) as { cmd: string; peers?: BenchPeer[]; count?: number };
  switch (c.cmd) {
    case 'config': announcer.setConfig(config(c.peers ?? [])); break;
    case 'announce':
      for (let i = 0; i < (c.count ?? 0); i++) announcer.setBalancer(`bench-${i}`, { protocol: 'bgp', ips: [ipOf(i)], pool: 'bench' });
      announced = Math.max(announced, c.count ?? 0);
      break;
    case 'withdraw':
      for (let i = 0; i < announced; i++) announcer.deleteBalancer(`bench-${i}`);
      break;
    case 'start': announcer.synced(); break;
    case 'stats': {
      const m = process.memoryUsage();
      say({ rss: m.rss, heap: m.heapUsed, updates, up: [...up] });
      break;
    }
    default: say({ error: `unknown command ${c.cmd}` });
  }
  say({ done: c.cmd });
}
announcer.close(false);
