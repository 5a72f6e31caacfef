// BIRD 2 in the router namespace: AS 64512, a session to every node (IPv4 and IPv6, AS 64513), imports what
// the speakers announce and installs ECMP routes in the kernel. Short timers keep the lab fast.
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { run, runToLog, waitFor } from '../testing/cluster/processes.js';
import { NODE_AS, ROUTER_AS, ROUTER_IPV4, type LabNode } from './topology.js';

export interface Bird { pid: number; socket: string; config: string }

export function birdConfig(logFile: string, nodes: LabNode[]): string {
  const lines = [
    `log "${logFile}" all;`,
    `router id ${ROUTER_IPV4};`,
    'protocol device { scan time 10; }',
    // merge paths: ECMP into the kernel.
    'protocol kernel kernel4 { ipv4 { import none; export where source = RTS_BGP; }; merge paths on; }',
    'protocol kernel kernel6 { ipv6 { import none; export where source = RTS_BGP; }; merge paths on; }',
    'template bgp speakers {',
    `  local as ${ROUTER_AS};`,
    '  hold time 9; keepalive time 3;',
    '  connect delay time 1; connect retry time 1; error wait time 1, 5;',
    '}',
  ];
  for (const n of nodes) {
    lines.push(`protocol bgp ${n.name}v4 from speakers { neighbor ${n.ipv4} as ${NODE_AS}; ipv4 { import all; export none; }; }`);
    lines.push(`protocol bgp ${n.name}v6 from speakers { neighbor ${n.ipv6} as ${NODE_AS}; ipv6 { import all; export none; }; }`);
  }
  return lines.join('\n') + '\n';
}

export async function startBird(netns: string, dir: string, nodes: LabNode[]): Promise<Bird> {
  const config = join(dir, 'bird.conf');
  const socket = join(dir, 'bird.ctl');
  const pidFile = join(dir, 'bird.pid');
  if (socket.length > 100) throw new Error(`BIRD control socket path too long for a unix socket: ${socket}; use a shorter METALLB_TS_LAB_DIR`);
  writeFileSync(config, birdConfig(join(dir, 'logs', 'bird.log'), nodes));
  // bird forks into the background itself and writes its PID file; its stdio goes to a log, never to a pipe
  // of ours (a daemon holding our pipe would keep `lab up | cat` from returning).
  await runToLog('ip', ['netns', 'exec', netns, 'bird', '-c', config, '-s', socket, '-P', pidFile], join(dir, 'logs', 'bird.out'));
  await waitFor('BIRD control socket', 5000, async () => (await run('birdc', ['-s', socket, 'show', 'status'])).code === 0, 50);
  await waitFor('BIRD pid file', 2000, () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 50);
  return { pid: Number(readFileSync(pidFile, 'utf8').trim()), socket, config };
}

export async function birdProtocols(socket: string): Promise<string> {
  const result = await run('birdc', ['-s', socket, 'show', 'protocols']);
  return result.code === 0 ? result.stdout : `(birdc: ${result.stderr.trim()})`;
}
