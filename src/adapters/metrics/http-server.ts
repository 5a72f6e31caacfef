/**
 * The monitoring HTTP endpoint on `--port` (all interfaces, as MetalLB's `:7472`): `/metrics` in the Prometheus
 * text format (what the v0.12 manifests probe), `/healthz` (200 while the process serves HTTP: liveness) and
 * `/readyz` (200 once the caller says it is ready, e.g. informers synced; 503 before: readiness).
 * Shared by controller and speaker.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../../core/ports.js';

export interface MonitoringServerOptions {
  readonly port: number;
  /** Bind address; undefined = all interfaces. */
  readonly host?: string | undefined;
  readonly registry: Registry;
  readonly ready: () => boolean;
  readonly logger: Logger;
}

export interface MonitoringServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

export async function startMonitoringServer(options: MonitoringServerOptions): Promise<MonitoringServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405).end(); return; }
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => { res.writeHead(200, { 'content-type': options.registry.contentType }).end(text); },
        (err: unknown) => { res.writeHead(500).end(String(err)); });
      return;
    }
    if (path === '/healthz' || path === '/livez') { res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n'); return; }
    if (path === '/readyz') {
      const ready = options.ready();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ok\n' : 'not ready\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await listen(server, options.port, options.host);
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ event: 'metricsListening', port, msg: `serving /metrics, /healthz and /readyz on port ${port}` });
  return {
    port,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => { server.off('error', reject); resolve(); };
    if (host === undefined) server.listen(port, done); else server.listen(port, host, done);
  });
}
