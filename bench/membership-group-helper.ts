/**
 * A worker thread of the membership bench (bench/membership.ts): runs a group of real MembershipNodes (each its
 * own UDP socket and TCP listener on its own loopback address) on this thread's event loop, so a 200-member
 * cluster in one process spreads over the cores instead of starving one event loop.
 *
 * workerData: { members: [{ name, bindAddr }], secret }. Messages in: `join` { seeds, total } (every member of
 * the group with fewer than `total` alive syncs with the seeds), `sent` (reply: bytes sent so far, the group's
 * detector verdict counters and highest local health, and this thread's event-loop utilisation and loop delay
 * (ms: p50, p99, max) since the last `sent`), `close` { name } (a crash: no goodbye), `stop`.
 * Messages out: `started` { addrs }, `view` { name, alive } on every change of a member's alive set, `sent`,
 * `closed` { name }, `stopped`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { MembershipNode } from '../src/adapters/membership/transport.js';
import { realClock } from '../src/adapters/clock.js';
import type { Logger } from '../src/core/ports.js';
import { DEFAULT_TIMING } from '../src/core/membership/types.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const data = workerData as { members: Array<{ name: string; bindAddr: string }>; secret: string };
const port = parentPort!;
const nodes = new Map<string, MembershipNode>();

for (const m of data.members) {
  const node = await MembershipNode.start({ name: m.name, bindAddr: m.bindAddr, bindPort: 0, secret: data.secret, timing: DEFAULT_TIMING, clock: realClock, logger: quiet });
  nodes.set(m.name, node);
  node.onChange(() => port.postMessage({ kind: 'view', name: m.name, alive: [...node.alive()] }));
}
port.postMessage({ kind: 'started', addrs: Object.fromEntries([...nodes].map(([n, node]) => [n, node.addr])) });
let elu = performance.eventLoopUtilization();
// Loop delay sampled every 10 ms: how late this thread's timers (probe verdicts, suspicion expiries) fire.
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
// Stalls: a 10 ms interval that fired ≥ 250 ms late, and GC pauses, both since the last `sent` (what froze this
// thread's members together, and whether the collector did it).
const stalls: number[] = [];
let gcMs = 0; let gcMax = 0;
let tick = performance.now();
setInterval(() => { const now = performance.now(); if (now - tick >= 260) stalls.push(Math.round(now - tick - 10)); tick = now; }, 10).unref();
new PerformanceObserver((list) => { for (const e of list.getEntries()) { gcMs += e.duration; gcMax = Math.max(gcMax, e.duration); } }).observe({ entryTypes: ['gc'] });
const verdicts = { suspectedLocal: 0, failedLocal: 0, refuted: 0, lateTimers: 0 };
const closedVerdicts = { ...verdicts };

port.on('message', (msg: { kind: string; seeds?: string[]; total?: number; name?: string }) => {
  void (async () => {
    switch (msg.kind) {
      case 'join':
        for (const n of nodes.values()) if (n.alive().size < msg.total!) n.join(msg.seeds!);
        break;
      case 'sent': {
        let udp = 0; let tcp = 0;
        for (const n of nodes.values()) { udp += n.sent.udpBytes; tcp += n.sent.tcpBytes; }
        const now = performance.eventLoopUtilization();
        const v = { ...closedVerdicts };
        let health = 0;
        for (const n of nodes.values()) {
          for (const k of Object.keys(v) as Array<keyof typeof v>) v[k] += n.verdicts[k];
          health = Math.max(health, n.health());
        }
        const ms = (ns: number): number => ns / 1e6;
        port.postMessage({
          kind: 'sent', udp, tcp, elu: performance.eventLoopUtilization(now, elu).utilization, verdicts: v, health,
          lag: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
          stalls: stalls.splice(0), gcMs: Math.round(gcMs), gcMax: Math.round(gcMax),
        });
        gcMs = 0; gcMax = 0;
        elu = now;
        delay.reset();
        break;
      }
      case 'close': {
        const n = nodes.get(msg.name!);
        nodes.delete(msg.name!);
        if (n) for (const k of Object.keys(closedVerdicts) as Array<keyof typeof closedVerdicts>) closedVerdicts[k] += n.verdicts[k];
        await n?.close();
        port.postMessage({ kind: 'closed', name: msg.name });
        break;
      }
      case 'stop':
        await Promise.all([...nodes.values()].map((n) => n.close()));
        port.postMessage({ kind: 'stopped' });
        port.close();
        break;
    }
  })();
});
