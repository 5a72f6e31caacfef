/**
 * Passive BGP (`--bgp-listen=ADDR:PORT`, off by default): a TCP listener whose every connection goes to
 * BgpAnnouncer.acceptConnection, which checks the source against the configured peers and closes the unknown.
 * Off by default because another BGP daemon on the host (Calico's BIRD, upstream MetalLB #114) often holds port
 * 179. A port below 1024 needs CAP_NET_BIND_SERVICE (the chart's `speaker.bgpListen` adds it).
 */
import net from 'node:net';
import type { Logger } from '../../core/ports.js';

export interface BgpListener {
  /** The bound address and port (the port the kernel chose when asked for 0). */
  readonly address: { readonly host: string; readonly port: number };
  close(): Promise<void>;
}

/**
 * Listens on host:port (`::` also takes IPv4 on a dual-stack host). Resolves once bound; rejects with the
 * bind error (EADDRINUSE, EACCES) so the speaker can say why it cannot start.
 */
export function startBgpListener(opts: { host: string; port: number; logger: Logger; onConnection: (socket: net.Socket) => void }): Promise<BgpListener> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      socket.on('error', () => { /* the session (or the close below) reports what matters */ });
      opts.onConnection(socket);
    });
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', reject);
      server.on('error', (err) => opts.logger.error({ op: 'listen', error: err.message, msg: 'BGP listener failed' }));
      const a = server.address() as net.AddressInfo;
      opts.logger.info({ event: 'bgpListening', host: a.address, port: a.port, msg: 'accepting BGP connections from configured peers (passive mode)' });
      resolve({
        address: { host: a.address, port: a.port },
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
