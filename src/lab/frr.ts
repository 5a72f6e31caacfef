// FRR 8 in the router namespace instead of BIRD (`lab up --router frr`): zebra + bgpd as the package's `frr` user
// (zebra refuses root without the frrvty group), from a private directory `frr/` in the lab dir, AS 64512 with an
// IPv4 and an IPv6 neighbour per node (AS 64513), each activated in its own family only, multipath (ECMP into the
// kernel through zebra), the graceful-restart helper on (FRR's default, stated explicitly). Short timers as BIRD's.
// Measured on this machine: /work/shared/lab/FINDINGS.md §5.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runToLog, waitFor } from '../testing/cluster/processes.js';
import { NODE_AS, ROUTER_AS, ROUTER_IPV4, type LabNode } from './topology.js';

export interface Frr { pids: { zebra: number; bgpd: number }; dir: string }

export function frrBgpdConfig(dir: string, nodes: readonly LabNode[]): string {
  const lines = [
    'hostname router', `log file ${join(dir, 'bgpd.log')}`, '!', `router bgp ${ROUTER_AS}`, ` bgp router-id ${ROUTER_IPV4}`,
    // FRR ≥ 8 drops every eBGP route without a policy unless told otherwise.
    ' no bgp ebgp-requires-policy', ' no bgp default ipv4-unicast',
  ];
  for (const group of ['SPEAKERS', 'SPEAKERS6']) {
    lines.push(` neighbor ${group} peer-group`, ` neighbor ${group} remote-as ${NODE_AS}`, ` neighbor ${group} timers 3 9`, ` neighbor ${group} timers connect 1`, ` neighbor ${group} graceful-restart-helper`);
  }
  for (const n of nodes) lines.push(` neighbor ${n.ipv4} peer-group SPEAKERS`, ` neighbor ${n.ipv6} peer-group SPEAKERS6`);
  lines.push(
    ' address-family ipv4 unicast', '  neighbor SPEAKERS activate', '  maximum-paths 8', ' exit-address-family',
    ' address-family ipv6 unicast', '  neighbor SPEAKERS6 activate', '  maximum-paths 8', ' exit-address-family', '!',
  );
  return lines.join('\n') + '\n';
}

/** Starts zebra and bgpd in `netns`; their pids (from their pid files) for `lab down`. */
export async function startFrr(netns: string, labDir: string, nodes: readonly LabNode[]): Promise<Frr> {
  const dir = join(labDir, 'frr');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'bgpd.conf'), frrBgpdConfig(dir, nodes));
  writeFileSync(join(dir, 'zebra.conf'), `hostname router\nlog file ${join(dir, 'zebra.log')}\n`);
  chmodSync(labDir, 0o755); // the frr user must traverse it
  const chown = await run('chown', ['-R', 'frr:frr', dir]);
  if (chown.code !== 0) throw new Error(`chown frr ${dir}: ${chown.stderr.trim()} (is the frr package installed?)`);
  const common = ['--vty_socket', dir, '-P', '0', '-z', join(dir, 'zserv.api'), '-u', 'frr', '-g', 'frr'];
  // Daemons fork; their stdio goes to a log file, never to a pipe of ours.
  await runToLog('ip', ['netns', 'exec', netns, '/usr/lib/frr/zebra', '-d', '-f', join(dir, 'zebra.conf'), '-i', join(dir, 'zebra.pid'), ...common], join(dir, 'zebra.out'));
  await waitFor('zebra\'s zserv socket', 10_000, () => existsSync(join(dir, 'zserv.api')), 50);
  await runToLog('ip', ['netns', 'exec', netns, '/usr/lib/frr/bgpd', '-d', '-f', join(dir, 'bgpd.conf'), '-i', join(dir, 'bgpd.pid'), ...common], join(dir, 'bgpd.out'));
  const pid = (name: string) => (existsSync(join(dir, `${name}.pid`)) ? Number(readFileSync(join(dir, `${name}.pid`), 'utf8').trim()) : 0);
  await waitFor('zebra and bgpd pid files', 10_000, () => pid('zebra') > 0 && pid('bgpd') > 0, 50);
  await waitFor('bgpd to answer vtysh', 10_000, async () => (await vtysh(dir, 'show bgp summary')).code === 0, 100);
  return { pids: { zebra: pid('zebra'), bgpd: pid('bgpd') }, dir };
}

export function vtysh(dir: string, ...commands: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('vtysh', ['--vty_socket', dir, ...commands.flatMap((c) => ['-c', c])]);
}
