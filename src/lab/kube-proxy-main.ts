// The lab's kube-proxy stand-in for one node (IPVS mode, strictARP: true), run inside the node's network
// namespace by `lab up`:
//   ip netns exec <prefix>nodeN node dist/src/lab/kube-proxy-main.js --node nodeN --kubeconfig FILE
// It watches Services and keeps the node in line with them: every LoadBalancer IP on lo (the topology already set
// arp_ignore=1 / arp_announce=2, so the kernel never answers ARP for them and only the speaker does) and an HTTP
// server on each IP and TCP port that answers with the node's name. Restart-safe: at start-up and on every
// resync it removes VIPs from lo that no Service has any more, so a crash or a restart leaves nothing stale.
// Everything it creates lives in the namespace, which `lab down` deletes.
import { createServer, type Server } from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ResilientInformer, type ListWatchLike } from '../adapters/k8s/informer.js';
import { loadKubeClients } from '../adapters/k8s/client.js';
import { realClock } from '../adapters/clock.js';
import { createJsonLogger } from '../adapters/log/json-logger.js';
import { planFor, listenerKey, vipsOnLo, type Listener, type ServiceShape } from './kube-proxy.js';

const execFileP = promisify(execFile);
/** A full resync this often, on top of the watch: heals a failed `ip` call or a listener that could not bind. */
const RESYNC_MS = 5_000;

function flag(argv: string[], name: string): string {
  const i = argv.indexOf(name);
  const value = i >= 0 ? argv[i + 1] : undefined;
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function main(argv: string[]): Promise<void> {
  const node = flag(argv, '--node');
  const kubeconfig = flag(argv, '--kubeconfig');
  const logger = createJsonLogger({ level: 'info', bindings: { component: 'lab-kube-proxy', node } });
  const { k8s, kc, core } = await loadKubeClients(kubeconfig);
  const listWatch = new k8s.ListWatch('/api/v1/services', new k8s.Watch(kc), () => core.listServiceForAllNamespaces(), false);
  const servers = new Map<string, Server>();

  const ip = async (...args: string[]) => {
    try {
      await execFileP('ip', args);
      return true;
    } catch (err) {
      logger.warn({ op: 'ip', args: args.join(' '), error: (err as Error).message.trim(), msg: 'ip command failed; retried on the next resync' });
      return false;
    }
  };

  const openListener = (l: Listener) => {
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
      res.end(`${node}\n`);
    });
    servers.set(listenerKey(l), server);
    server.on('error', (err) => {
      // EADDRNOTAVAIL/EADDRINUSE: forget it; the next resync tries again.
      logger.warn({ op: 'listen', ip: l.ip, port: l.port, error: err.message, msg: 'cannot serve this Service port yet' });
      if (servers.get(listenerKey(l)) === server) servers.delete(listenerKey(l));
    });
    server.listen({ host: l.ip, port: l.port }, () => logger.info({ event: 'serving', ip: l.ip, port: l.port, msg: 'serving the Service port' }));
  };

  const closeListener = (key: string) => {
    const server = servers.get(key);
    servers.delete(key);
    if (!server) return;
    server.close();
    server.closeAllConnections();
    logger.info({ event: 'stoppedServing', listener: key, msg: 'stopped serving the Service port' });
  };

  let running: Promise<void> | undefined;
  let again = false;
  const reconcile = async () => {
    const plan = planFor(listWatch.list() as ServiceShape[]);
    let onLo: string[] = [];
    try {
      onLo = vipsOnLo((await execFileP('ip', ['-j', 'addr', 'show', 'dev', 'lo'])).stdout);
    } catch (err) {
      logger.warn({ op: 'ip', error: (err as Error).message, msg: 'cannot read lo addresses' });
    }
    const present = new Set(onLo);
    for (const key of [...servers.keys()]) if (!plan.listeners.has(key)) closeListener(key);
    for (const stale of onLo.filter((a) => !plan.ips.has(a))) {
      if (await ip('addr', 'del', `${stale}/${stale.includes(':') ? 128 : 32}`, 'dev', 'lo')) {
        logger.info({ event: 'vipRemoved', ip: stale, msg: 'removed the LoadBalancer IP from lo' });
      }
    }
    for (const want of plan.ips) {
      if (present.has(want)) continue;
      const added = want.includes(':')
        ? await ip('addr', 'add', `${want}/128`, 'dev', 'lo', 'nodad')
        : await ip('addr', 'add', `${want}/32`, 'dev', 'lo');
      if (added) logger.info({ event: 'vipAdded', ip: want, msg: 'put the LoadBalancer IP on lo' });
    }
    for (const [key, l] of plan.listeners) if (!servers.has(key)) openListener(l);
  };
  /** Runs reconcile now, or once more right after the running one; never two at a time. */
  let synced = false;
  const kick = () => {
    // Before the first full list, the cache is partial: reconciling then would drop VIPs that are still wanted.
    if (!synced) return;
    if (running) {
      again = true;
      return;
    }
    running = reconcile().catch((err: Error) => logger.error({ op: 'reconcile', error: err.message, msg: 'reconcile failed' })).finally(() => {
      running = undefined;
      if (again) {
        again = false;
        kick();
      }
    });
  };

  const informer = new ResilientInformer<unknown>({
    name: 'services', listWatch: listWatch as ListWatchLike<unknown>, clock: realClock, logger, onChange: () => kick(),
  });
  informer.start();
  await informer.whenSynced();
  synced = true;
  logger.info({ event: 'synced', msg: 'following Services' });
  kick();
  const resync = setInterval(kick, RESYNC_MS);

  const stop = (signal: string) => {
    logger.info({ event: 'stopping', signal, msg: 'stopping; the VIPs stay on lo until the next start or lab down' });
    clearInterval(resync);
    for (const key of [...servers.keys()]) closeListener(key);
    void informer.stop().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(`lab-kube-proxy: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
