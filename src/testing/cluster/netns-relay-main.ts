// The netns relay: lets processes inside lab network namespaces reach the apiserver on the host's loopback.
//
// A process under `ip netns exec` has its own loopback and cannot reach the host's 127.0.0.1. Instead of
// giving the host an address on the lab's L2 (which would change host routing and clash between two labs),
// this process, running on the host, asks a short-lived helper inside each namespace to open a listening
// socket on 127.0.0.1:<port> there and hand it over through Node's IPC channel (SCM_RIGHTS). A socket keeps
// the namespace it was created in, so this host process then accepts connections made inside the namespace
// and forwards each to the host's 127.0.0.1:<port>. TLS passes through untouched.
//
// usage: node netns-relay-main.js --port P --ready-file FILE [--all-addresses] NETNS...
//        node netns-relay-main.js --listen-in-netns P [HOST]     (the helper, run under ip netns exec)
// --all-addresses: listen on every address of the namespace (:: with IPv4 mapped), not only 127.0.0.1.
import { spawn } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

function log(fields: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ ts: new Date().toISOString(), component: 'netns-relay', ...fields }) + '\n');
}

function listenHelper(port: number, host: string): void {
  const server = createServer();
  server.once('error', (err) => { process.stderr.write(`listen ${host}:${port}: ${err.message}\n`); process.exit(1); });
  server.listen({ host, port }, () => {
    process.send?.('listening', server, () => { server.close(); process.exit(0); });
  });
}

function openInNetns(netns: string, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const helper = spawn('ip', ['netns', 'exec', netns, process.execPath, fileURLToPath(import.meta.url), '--listen-in-netns', String(port), host],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let got = false;
    helper.on('message', (message, handle) => {
      if (message === 'listening' && handle) { got = true; resolve(handle as Server); }
    });
    helper.on('error', reject);
    helper.on('exit', (code) => { if (!got) reject(new Error(`helper in netns ${netns} exited with ${code}`)); });
  });
}

async function relay(port: number, readyFile: string, namespaces: string[], host: string): Promise<void> {
  const open = new Set<Socket>();
  const servers: Server[] = [];
  for (const netns of namespaces) {
    const server = await openInNetns(netns, port, host);
    server.on('connection', (inner: Socket) => {
      const outer = connect(port, '127.0.0.1');
      open.add(inner); open.add(outer);
      const done = () => { inner.destroy(); outer.destroy(); open.delete(inner); open.delete(outer); };
      inner.on('error', done); outer.on('error', done); inner.on('close', done); outer.on('close', done);
      inner.pipe(outer).pipe(inner);
    });
    servers.push(server);
    log({ event: 'listening', netns, address: `${host}:${port}`, target: `127.0.0.1:${port}` });
  }
  const stop = (signal: string) => {
    log({ event: 'stopping', signal });
    for (const s of servers) s.close();
    for (const s of open) s.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  writeFileSync(readyFile, `${process.pid}\n`);
}

const args = process.argv.slice(2);
if (args[0] === '--listen-in-netns') {
  listenHelper(Number(args[1]), args[2] ?? '127.0.0.1');
} else {
  const port = Number(args[args.indexOf('--port') + 1]);
  const readyFile = args[args.indexOf('--ready-file') + 1];
  const host = args.includes('--all-addresses') ? '::' : '127.0.0.1';
  const namespaces = args.filter((a, i) => !a.startsWith('--') && !['--port', '--ready-file'].includes(args[i - 1] ?? ''));
  if (!Number.isInteger(port) || port <= 0 || !readyFile || namespaces.length === 0) {
    process.stderr.write('usage: netns-relay-main.js --port P --ready-file FILE NETNS...\n');
    process.exit(2);
  }
  relay(port, readyFile, namespaces, host).catch((err: Error) => { log({ op: 'relay', error: err.message }); process.exit(1); });
}
