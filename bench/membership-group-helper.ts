/**
 * A worker thread of the membership bench (bench/membership.ts): runs a group of real MembershipNodes (each its
 * own UDP socket and TCP listener on its own loopback address) on this thread's event loop, so a 200-member
 * cluster in one process spreads over the cores instead of starving one event loop.
 *
 * workerData: { members: [{ name, bindAddr }], secret }. Messages in: `join` { seeds, total } (every member of
 * the group with fewer than `total` alive syncs with the seeds), `sent` (reply: bytes sent so far and this
 * thread's event-loop utilisation since the last `sent`), `close` { name } (a crash: no goodbye), `stop`.
 * Messages out: `started` { addrs }, `view` { name, alive } on every change of a member's alive set, `sent`,
 * `closed` { name }, `stopped`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
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
        port.postMessage({ kind: 'sent', udp, tcp, elu: performance.eventLoopUtilization(now, elu).utilization });
        elu = now;
        break;
      }
      case 'close': {
        const n = nodes.get(msg.name!);
        nodes.delete(msg.name!);
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
