// GoBGP 3 in the router namespace instead of BIRD (`lab up --router gobgp`): gobgpd, AS 64512, an IPv4 and an
// IPv6 neighbour per node (AS 64513), each with its own family only, `use-multiple-paths` on (its RIB keeps the
// three nodes' paths as one multipath set) and the graceful-restart helper enabled explicitly: GoBGP keeps a
// restarting peer's paths only when told to (`graceful-restart` + `mp-graceful-restart` per family, helper-only).
// gobgpd installs no kernel routes by itself (no zebra here), so the lab's external host cannot reach the demo
// through it; its RIB is the router's view (`gobgp global rib -a ipv4|ipv6`). Short timers as BIRD's.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, startDaemon, isAlive, waitFor, StopWaiting } from '../testing/cluster/processes.js';
import { ROUTER_AS, ROUTER_IPV4, type LabNode } from './topology.js';
import { DEFAULT_SESSIONS, nodeAddress, type RouterSession } from './peering.js';

export interface Gobgp { pid: number; config: string; socket: string }

/** The gRPC unix socket gobgpd serves and `gobgp --target` talks to (no TCP port to share between labs). */
export function gobgpSocket(dir: string): string {
  return join(dir, 'gobgp.sock');
}

/** gobgpd's TOML config (GoBGP 3: `gobgpd -t toml`), a neighbour per node and router session (peering.ts). */
export function gobgpConfig(nodes: readonly LabNode[], opts: { restartTimeSeconds?: number } = {}, sessions: readonly RouterSession[] = DEFAULT_SESSIONS): string {
  const lines = [
    '[global.config]', `  as = ${sessions[0]?.routerAs ?? ROUTER_AS}`, `  router-id = "${ROUTER_IPV4}"`,
    '[global.use-multiple-paths.config]', '  enabled = true',
  ];
  const neighbour = (address: string, s: RouterSession) => {
    lines.push(
      '[[neighbors]]',
      '  [neighbors.config]', `    neighbor-address = "${address}"`, `    peer-as = ${s.nodeAs}`,
      ...(s.password !== undefined ? [`    auth-password = ${JSON.stringify(s.password)}`] : []),
      // idle-hold-time-after-reset: GoBGP otherwise waits 30 s before it accepts the peer again after a reset.
      '  [neighbors.timers.config]', '    connect-retry = 1', `    hold-time = ${s.holdTimeSeconds}`, `    keepalive-interval = ${Math.max(1, Math.floor(s.holdTimeSeconds / 3))}`, '    idle-hold-time-after-reset = 1',
      '  [neighbors.graceful-restart.config]', '    enabled = true', '    helper-only = true', `    restart-time = ${opts.restartTimeSeconds ?? 120}`,
    );
    for (const f of s.families) {
      lines.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', `      afi-safi-name = "ipv${f}-unicast"`,
        '    [neighbors.afi-safis.mp-graceful-restart.config]', '      enabled = true');
    }
  };
  for (const n of nodes) for (const s of sessions) neighbour(nodeAddress(n, s), s);
  return lines.join('\n') + '\n';
}

/** Starts gobgpd in `netns` with the lab's config (it does not fork: its pid is the daemon's) and waits until `gobgp` answers. */
export function startGobgp(netns: string, dir: string, nodes: readonly LabNode[], sessions: readonly RouterSession[] = DEFAULT_SESSIONS): Promise<Gobgp> {
  return startGobgpWith(netns, dir, gobgpConfig(nodes, {}, sessions));
}

/** Starts gobgpd in `netns` with the TOML `configText`; config and API socket in `dir` (its log in dir/logs). */
export async function startGobgpWith(netns: string, dir: string, configText: string): Promise<Gobgp> {
  const config = join(dir, 'gobgpd.toml');
  const socket = gobgpSocket(dir);
  if (socket.length > 100) throw new Error(`gobgpd's API socket path is too long for a unix socket: ${socket}; use a shorter METALLB_TS_LAB_DIR`);
  writeFileSync(config, configText);
  const pid = startDaemon({
    command: 'ip',
    args: ['netns', 'exec', netns, 'gobgpd', '-t', 'toml', '-f', config, '--api-hosts', `unix://${socket}`, '--pprof-disable', '--log-plain', '--log-level', 'info'],
    logFile: join(dir, 'logs', 'gobgpd.log'),
  });
  await waitFor('gobgpd to answer `gobgp global`', 10_000, async () => {
    if (!isAlive(pid)) throw new StopWaiting(`gobgpd exited (see ${join(dir, 'logs', 'gobgpd.log')})`);
    return (await gobgp(socket, 'global')).code === 0;
  }, 100);
  return { pid, config, socket };
}

/** `gobgp <args>` against the gobgpd serving `socket`. */
export function gobgp(socket: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('gobgp', ['--target', `unix://${socket}`, ...args]);
}
