// BIRD 2 in the router namespace: a session to every node per router session of the applied config (peering.ts:
// by default IPv4 and IPv6, AS 64512 against AS 64513), with the config's password (TCP-MD5) and families; iBGP
// sessions resolve next hops directly (the nodes share the router's segment). Imports what the speakers announce and
// installs ECMP routes in the kernel. Short timers keep the lab fast; the graceful-restart helper is on (BIRD's
// default for BGP, stated explicitly).
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { run, runToLog, waitFor } from '../testing/cluster/processes.js';
import { ROUTER_IPV4, type LabNode } from './topology.js';
import { DEFAULT_SESSIONS, nodeAddress, sessionsUseBfd, type RouterSession } from './peering.js';

/**
 * `bfd graceful` instead of `bfd on` (accepted by BIRD 2.0.12): BFD Down then starts a graceful restart of the BGP
 * session instead of a hard down. METALLB_TS_LAB_BFD_GRACEFUL=1 chooses it (docs/design/bfd.md "BFD and graceful
 * restart": with the speaker's BFD-gated sessions negotiating no graceful restart, it changes nothing).
 */
export function labBfdGraceful(): boolean {
  return process.env['METALLB_TS_LAB_BFD_GRACEFUL'] === '1';
}

export interface Bird { pid: number; socket: string; config: string }

export function birdConfig(logFile: string, nodes: readonly LabNode[], sessions: readonly RouterSession[] = DEFAULT_SESSIONS): string {
  const lines = [
    `log "${logFile}" all;`,
    `router id ${ROUTER_IPV4};`,
    'protocol device { scan time 10; }',
    // merge paths: ECMP into the kernel.
    'protocol kernel kernel4 { ipv4 { import none; export where source = RTS_BGP; }; merge paths on; }',
    'protocol kernel kernel6 { ipv6 { import none; export where source = RTS_BGP; }; merge paths on; }',
    'template bgp speakers {',
        '  connect delay time 1; connect retry time 1; error wait time 1, 5;',
    '  graceful restart aware;',
    '}',
    ...(sessionsUseBfd(sessions) ? ['protocol bfd {}'] : []),
  ];
  for (const s of sessions) {
    const options = [
      `local as ${s.routerAs};`,
      `hold time ${s.holdTimeSeconds}; keepalive time ${Math.max(1, Math.floor(s.holdTimeSeconds / 3))};`,
      // iBGP: the next hop is a node on our segment; resolve it directly, not through an IGP we do not run.
      ...(s.ibgp ? ['direct;'] : []),
      ...(s.password !== undefined ? [`password "${s.password.replace(/["\\]/g, '\\$&')}";`] : []),
      // BFD requested by the BGP protocol, with the profile's timers for this session (BIRD ≥ 2.0.9 per-peer options).
      ...(s.bfd !== undefined ? [`bfd ${labBfdGraceful() ? 'graceful' : 'on'};`,
        `bfd { min rx interval ${s.bfd.rxMs} ms; min tx interval ${s.bfd.txMs} ms; multiplier ${s.bfd.multiplier};${s.bfd.multihop ? ' multihop on;' : ''} };`] : []),
    ];
    const gateway = s.ibgp ? ' gateway direct;' : '';
    const channels = s.families.map((f) => `ipv${f} { import all; export none;${gateway} };`);
    for (const n of nodes) {
      lines.push(`protocol bgp ${n.name}v${s.transport} from speakers { neighbor ${nodeAddress(n, s)} as ${s.nodeAs}; ${options.join(' ')} ${channels.join(' ')} }`);
    }
  }
  return lines.join('\n') + '\n';
}

export function startBird(netns: string, dir: string, nodes: LabNode[], sessions: readonly RouterSession[] = DEFAULT_SESSIONS): Promise<Bird> {
  return startBirdWith(netns, dir, birdConfig(join(dir, 'logs', 'bird.log'), nodes, sessions));
}

/** Starts BIRD in `netns` with `configText`; its config, control socket and pid file in `dir` (logs in dir/logs). */
export async function startBirdWith(netns: string, dir: string, configText: string): Promise<Bird> {
  const config = join(dir, 'bird.conf');
  const socket = join(dir, 'bird.ctl');
  const pidFile = join(dir, 'bird.pid');
  if (socket.length > 100) throw new Error(`BIRD control socket path too long for a unix socket: ${socket}; use a shorter METALLB_TS_LAB_DIR`);
  writeFileSync(config, configText);
  // bird forks into the background itself and writes its PID file; its stdio goes to a log, never to a pipe
  // of ours (a daemon holding our pipe would keep `lab up | cat` from returning).
  await runToLog('ip', ['netns', 'exec', netns, 'bird', '-c', config, '-s', socket, '-P', pidFile], join(dir, 'logs', 'bird.out'));
  await waitFor('BIRD control socket', 5000, async () => (await run('birdc', ['-s', socket, 'show', 'status'])).code === 0, 50);
  await waitFor('BIRD pid file', 2000, () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 50);
  return { pid: Number(readFileSync(pidFile, 'utf8').trim()), socket, config };
}

/** Rewrites BIRD's config for `sessions` and has it reload (`birdc configure`: changed protocols restart). */
export async function reconfigureBird(dir: string, nodes: readonly LabNode[], sessions: readonly RouterSession[]): Promise<void> {
  const config = join(dir, 'bird.conf');
  writeFileSync(config, birdConfig(join(dir, 'logs', 'bird.log'), nodes, sessions));
  const result = await run('birdc', ['-s', join(dir, 'bird.ctl'), 'configure']);
  if (result.code !== 0 || !/Reconfigured|Reconfiguration in progress/.test(result.stdout)) {
    throw new Error(`birdc configure: ${(result.stdout + result.stderr).trim()}`);
  }
}

export async function birdProtocols(socket: string): Promise<string> {
  const result = await run('birdc', ['-s', socket, 'show', 'protocols']);
  return result.code === 0 ? result.stdout : `(birdc: ${result.stderr.trim()})`;
}
