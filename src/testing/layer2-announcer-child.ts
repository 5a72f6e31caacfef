/**
 * A layer-2 announcer in its own process, driven over stdin/stdout with JSON lines, so tests and the bench
 * can run it inside a node network namespace (`ip netns exec <ns> node layer2-announcer-child.js`).
 *
 * Commands (stdin): {"id":1,"op":"set","name":"svc","ips":["192.0.2.100"]} · {"id":2,"op":"delete","name":"svc"}
 * · {"id":3,"op":"stats"} · {"id":4,"op":"metrics"} · {"id":5,"op":"close"}. Each gets one answer line
 * {"id":N,"ok":true,"result":…}. The first line written is {"ready":true}. Logs go to stderr as JSON.
 * Environment: L2_INTERFACES (comma-separated names to restrict responders to), L2_LOG_LEVEL (default info).
 */
import { createInterface } from 'node:readline';
import { createJsonLogger, type LogLevel } from '../adapters/log/json-logger.js';
import { createRegistry } from '../adapters/metrics/registry.js';
import { createLayer2Metrics } from '../adapters/layer2/metrics.js';
import { startLayer2Announcer } from '../adapters/layer2/announcer.js';

const only = process.env['L2_INTERFACES']?.split(',').filter(Boolean);
const logger = createJsonLogger({
  level: (process.env['L2_LOG_LEVEL'] ?? 'info') as LogLevel,
  write: (line) => { process.stderr.write(line); },
  bindings: { component: 'layer2-announcer' },
});
const registry = createRegistry();
const announcer = await startLayer2Announcer({
  logger, metrics: createLayer2Metrics(registry), ...(only ? { interfaceFilter: (n: string) => only.includes(n) } : {}),
});
const reply = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
reply({ ready: true, stats: announcer.stats() });

for await (const line of createInterface({ input: process.stdin })) {
  let cmd: { id?: number; op?: string; name?: string; ips?: string[] };
  try { cmd = JSON.parse(line) as typeof cmd; } catch { reply({ ok: false, error: 'bad JSON' }); continue; }
  try {
    switch (cmd.op) {
      case 'set': announcer.setBalancer(cmd.name ?? '', cmd.ips ?? []); reply({ id: cmd.id, ok: true }); break;
      case 'delete': announcer.deleteBalancer(cmd.name ?? ''); reply({ id: cmd.id, ok: true }); break;
      case 'stats': reply({ id: cmd.id, ok: true, result: announcer.stats() }); break;
      case 'rescan': announcer.rescan(); reply({ id: cmd.id, ok: true, result: announcer.stats() }); break;
      case 'metrics': reply({ id: cmd.id, ok: true, result: await registry.metrics() }); break;
      case 'close': await announcer.close(); reply({ id: cmd.id, ok: true }); process.exit(0);
      default: reply({ id: cmd.id, ok: false, error: `unknown op ${cmd.op}` });
    }
  } catch (err) {
    reply({ id: cmd.id, ok: false, error: String(err) });
  }
}
await announcer.close();
process.exit(0);
