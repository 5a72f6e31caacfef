// FRR 8 in the router namespace instead of BIRD (`lab up --router frr`): zebra + bgpd as the package's `frr` user
// (zebra refuses root without the frrvty group), from a private directory `frr/` in the lab dir, with a peer group
// per router session of the applied config (peering.ts; by default AS 64512 with an IPv4 and an IPv6 neighbour per
// node, AS 64513, each activated in its own family only), the config's password (TCP-MD5), multipath for eBGP and
// iBGP (ECMP into the kernel through zebra), the graceful-restart helper on (FRR's default, stated explicitly).
// Short timers as BIRD's.
// Measured on this machine: /work/shared/lab/FINDINGS.md §5.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runToLog, stopOwnPid, waitFor } from '../testing/cluster/processes.js';
import { ROUTER_AS, ROUTER_IPV4, type LabNode } from './topology.js';
import { DEFAULT_SESSIONS, nodeAddress, sessionsUseBfd, type RouterSession } from './peering.js';
import { labBfdGraceful } from './router.js';

export interface Frr { pids: { zebra: number; bgpd: number; bfdd?: number }; dir: string }

/** bfdd's config: a profile per BFD session group (`lab4`, `lab6`) with the config's timers. */
export function frrBfddConfig(dir: string, sessions: readonly RouterSession[]): string {
  const lines = ['hostname router', `log file ${join(dir, 'bfdd.log')}`, '!', 'bfd'];
  for (const s of sessions) {
    if (s.bfd === undefined) continue;
    lines.push(` profile lab${s.transport}`, `  receive-interval ${s.bfd.rxMs}`, `  transmit-interval ${s.bfd.txMs}`,
      `  detect-multiplier ${s.bfd.multiplier}`, ' !');
  }
  lines.push('!');
  return lines.join('\n') + '\n';
}

export function frrBgpdConfig(dir: string, nodes: readonly LabNode[], sessions: readonly RouterSession[] = DEFAULT_SESSIONS): string {
  const lines = [
    'hostname router', `log file ${join(dir, 'bgpd.log')}`, '!', `router bgp ${sessions[0]?.routerAs ?? ROUTER_AS}`, ` bgp router-id ${ROUTER_IPV4}`,
    // FRR ≥ 8 drops every eBGP route without a policy unless told otherwise.
    ' no bgp ebgp-requires-policy', ' no bgp default ipv4-unicast',
  ];
  const group = (s: RouterSession) => `SPEAKERS${s.transport === 4 ? '' : '6'}`;
  for (const s of sessions) {
    const g = group(s);
    lines.push(` neighbor ${g} peer-group`, ` neighbor ${g} remote-as ${s.nodeAs}`, ` neighbor ${g} timers ${Math.max(1, Math.floor(s.holdTimeSeconds / 3))} ${s.holdTimeSeconds}`,
      ` neighbor ${g} timers connect 1`, ` neighbor ${g} graceful-restart-helper`);
    if (s.password !== undefined) lines.push(` neighbor ${g} password ${s.password}`);
    if (s.bfd !== undefined) {
      lines.push(` neighbor ${g} bfd`, ` neighbor ${g} bfd profile lab${s.transport}`);
      // FRR ignores a BFD Down with C = 0 during a graceful restart with this (docs/design/bfd.md).
      if (labBfdGraceful()) lines.push(` neighbor ${g} bfd check-control-plane-failure`);
    }
  }
  for (const s of sessions) for (const n of nodes) lines.push(` neighbor ${nodeAddress(n, s)} peer-group ${group(s)}`);
  for (const family of [4, 6] as const) {
    lines.push(` address-family ipv${family} unicast`);
    for (const s of sessions.filter((x) => x.families.includes(family))) lines.push(`  neighbor ${group(s)} activate`);
    lines.push('  maximum-paths 8', '  maximum-paths ibgp 8', ' exit-address-family');
  }
  lines.push('!');
  return lines.join('\n') + '\n';
}

/** Starts zebra, bfdd (when a session has BFD) and bgpd in `netns`; their pids (from their pid files) for `lab down`. */
export async function startFrr(netns: string, labDir: string, nodes: readonly LabNode[], sessions: readonly RouterSession[] = DEFAULT_SESSIONS): Promise<Frr> {
  const dir = join(labDir, 'frr');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'bgpd.conf'), frrBgpdConfig(dir, nodes, sessions));
  writeFileSync(join(dir, 'zebra.conf'), `hostname router\nlog file ${join(dir, 'zebra.log')}\n`);
  chmodSync(labDir, 0o755); // the frr user must traverse it
  const chown = await run('chown', ['-R', 'frr:frr', dir]);
  if (chown.code !== 0) throw new Error(`chown frr ${dir}: ${chown.stderr.trim()} (is the frr package installed?)`);
  const common = daemonArgs(dir);
  // Daemons fork; their stdio goes to a log file, never to a pipe of ours.
  await runToLog('ip', ['netns', 'exec', netns, '/usr/lib/frr/zebra', '-d', '-f', join(dir, 'zebra.conf'), '-i', join(dir, 'zebra.pid'), ...common], join(dir, 'zebra.out'));
  await waitFor('zebra\'s zserv socket', 10_000, () => existsSync(join(dir, 'zserv.api')), 50);
  const bfd = sessionsUseBfd(sessions);
  if (bfd) {
    writeFileSync(join(dir, 'bfdd.conf'), frrBfddConfig(dir, sessions));
    await run('chown', ['frr:frr', join(dir, 'bfdd.conf')]);
    await runToLog('ip', ['netns', 'exec', netns, '/usr/lib/frr/bfdd', '-d', '-f', join(dir, 'bfdd.conf'), '-i', join(dir, 'bfdd.pid'), ...common], join(dir, 'bfdd.out'));
    await waitFor('bfdd\'s pid file', 10_000, () => pidOf(dir, 'bfdd') > 0, 50);
  }
  const bgpd = await startBgpd(netns, dir);
  await waitFor('zebra\'s pid file', 10_000, () => pidOf(dir, 'zebra') > 0, 50);
  return { pids: { zebra: pidOf(dir, 'zebra'), bgpd, ...(bfd ? { bfdd: pidOf(dir, 'bfdd') } : {}) }, dir };
}

const daemonArgs = (dir: string) => ['--vty_socket', dir, '-P', '0', '-z', join(dir, 'zserv.api'), '-u', 'frr', '-g', 'frr'];
const pidOf = (dir: string, name: string) => (existsSync(join(dir, `${name}.pid`)) ? Number(readFileSync(join(dir, `${name}.pid`), 'utf8').trim()) : 0);

async function startBgpd(netns: string, dir: string): Promise<number> {
  await runToLog('ip', ['netns', 'exec', netns, '/usr/lib/frr/bgpd', '-d', '-f', join(dir, 'bgpd.conf'), '-i', join(dir, 'bgpd.pid'), ...daemonArgs(dir)], join(dir, 'bgpd.out'));
  await waitFor('bgpd\'s pid file', 10_000, () => pidOf(dir, 'bgpd') > 0, 50);
  await waitFor('bgpd to answer vtysh', 10_000, async () => (await vtysh(dir, 'show bgp summary')).code === 0, 100);
  return pidOf(dir, 'bgpd');
}

/**
 * Gives bgpd the config for `sessions`: it is stopped and started again on the new file (zebra and the kernel's
 * routes stay; bgpd's sessions restart), which is simpler and surer in a lab than a diff through vtysh. The new pid.
 */
export async function reconfigureFrr(netns: string, labDir: string, nodes: readonly LabNode[], sessions: readonly RouterSession[], bgpdPid: number): Promise<number> {
  const dir = join(labDir, 'frr');
  writeFileSync(join(dir, 'bgpd.conf'), frrBgpdConfig(dir, nodes, sessions));
  await run('chown', ['frr:frr', join(dir, 'bgpd.conf')]);
  await stopOwnPid(bgpdPid, labDir, 5000);
  rmSync(join(dir, 'bgpd.pid'), { force: true });
  return startBgpd(netns, dir);
}

export function vtysh(dir: string, ...commands: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('vtysh', ['--vty_socket', dir, ...commands.flatMap((c) => ['-c', c])]);
}
