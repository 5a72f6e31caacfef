/**
 * keepalived (Debian's package, VRRPv3 per RFC 5798, 100 ms adverts) on the lab's node namespaces, as the failover
 * bench's reference row: the same VIP mechanism (the MASTER puts the VIP on eth0, the kernel answers ARP for it, and
 * keepalived sends gratuitous ARPs on becoming MASTER) measured the same way (the client's first connect through
 * another node). Run only while no speaker announces the VIP.
 *
 * One VRRP instance, virtual_router_id 51, priorities node1 150, node2 100, node3 50 with preemption, so node1 is
 * MASTER when all run and node2 takes over first (master-down interval 3 × 100 ms + skew ≈ 0.36 s for priority 100).
 * Faults: as src/testing/failover/lab-faults.ts, on keepalived's two processes (the parent and its VRRP child):
 * `sigkill` both, `sigstop` both, `sigterm` the parent (it sends a priority-0 advert: RFC 5798 §6.4.3), `link-down`,
 * and `partition` = VRRP (IP protocol 112) dropped both ways in the owner's namespace.
 *
 * Spread (`KeepalivedLab.spread`, traffic only): MetalLB's layer 2 spreads Service IPs over all nodes, so every node
 * owns some and must be watched; keepalived's way to do the same is one VRRP instance per node. With `spread` = one
 * VIP per node, node i (in `nodes` order) runs instance i as MASTER (priority 150) and the others' as BACKUP
 * (priorities rotated: 100, 50), virtual_router_id 61 + i, 100 ms adverts: every node sends its own instance's
 * adverts, so the cluster's VRRP traffic is N single instances'. No fault is applied to it.
 */
import { readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run, runOk, startDaemon, stopPid, isAlive, waitFor, pidsMentioning } from '../cluster/processes.js';
import { curlOnce } from '../../lab/observe.js';
import type { LabNode } from '../../lab/topology.js';
import { linkUp, type Fault } from './lab-faults.js';

export const KEEPALIVED_FAULTS: readonly Fault[] = ['sigkill', 'link-down', 'sigstop', 'sigterm', 'partition'];
const PRIORITY: Record<string, number> = { node1: 150, node2: 100, node3: 50 };

export interface KeepalivedLab {
  readonly dir: string;
  readonly nodes: readonly LabNode[];
  readonly client: string;
  /** The VIP (IPv4) keepalived moves; a LoadBalancer Service with it must exist so the kube-proxy stand-ins serve it. */
  readonly vip: string;
  /**
   * One VIP per node (IPv4, `nodes` order): one VRRP instance per node instead of the single one on `vip`, node i
   * MASTER of `spread[i]`. No Service is needed (only the adverts are measured).
   */
  readonly spread?: readonly string[];
  readonly binary?: string;
}

interface Instance { name: string; vrid: number; priority: number; vip: string }

/**
 * The VRRP instances `node` runs: the single one (vrid 51, fixed priorities), or with `spread` one per node, where
 * the node at index i of `nodes` has priority 150 in instance i and the others follow it in rotation down to 50.
 */
function instances(k: KeepalivedLab, node: LabNode): Instance[] {
  if (!k.spread) return [{ name: 'BENCH', vrid: 51, priority: PRIORITY[node.name] ?? 10, vip: k.vip }];
  const n = k.nodes.length;
  const j = k.nodes.findIndex((m) => m.name === node.name);
  if (j < 0 || k.spread.length !== n) throw new Error(`keepalived spread needs one VIP per node (${k.spread.length} VIPs, ${n} nodes)`);
  return k.spread.map((vip, i) => {
    const rank = (j - i + n) % n;
    return { name: `SPREAD_${k.nodes[i]!.name}`, vrid: 61 + i, priority: 150 - Math.round((100 * rank) / Math.max(1, n - 1)), vip };
  });
}

function config(k: KeepalivedLab, node: LabNode): string {
  const blocks = instances(k, node).map((i) => `vrrp_instance ${i.name} {
  state BACKUP
  interface eth0
  virtual_router_id ${i.vrid}
  priority ${i.priority}
  advert_int 0.1
  virtual_ipaddress {
    ${i.vip}/32 dev eth0
  }
}
`);
  return `global_defs {
  router_id ${node.name}
  vrrp_version 3
  vrrp_garp_master_repeat 5
  vrrp_garp_master_refresh 0
}
${blocks.join('')}`;
}

const paths = (k: KeepalivedLab, node: LabNode) => {
  const base = join(k.dir, k.spread ? 'keepalived-spread' : 'keepalived', node.name);
  return { base, conf: join(base, 'keepalived.conf'), pid: join(base, 'keepalived.pid'), vrrpPid: join(base, 'vrrp.pid'), log: join(base, 'keepalived.log') };
};

/** keepalived's parent and VRRP child PIDs on `node` (from its pid files; missing ones left out). */
export function keepalivedPids(k: KeepalivedLab, node: LabNode): number[] {
  const p = paths(k, node);
  const out: number[] = [];
  for (const f of [p.pid, p.vrrpPid]) {
    try { const pid = Number(readFileSync(f, 'utf8').trim()); if (pid > 0 && isAlive(pid)) out.push(pid); } catch { /* not written yet */ }
  }
  return out;
}

/** Starts keepalived in `node`'s namespace (foreground parent, VRRP only, logs to its own file). */
export function startKeepalived(k: KeepalivedLab, node: LabNode): void {
  const p = paths(k, node);
  mkdirSync(p.base, { recursive: true });
  writeFileSync(p.conf, config(k, node));
  startDaemon({
    command: 'ip',
    args: ['netns', 'exec', node.netns, k.binary ?? 'keepalived', '--dont-fork', '--log-console', '--log-detail', '--vrrp',
      `--use-file=${p.conf}`, `--pid=${p.pid}`, `--vrrp_pid=${p.vrrpPid}`, `--config-id=${node.name}`],
    logFile: p.log,
  });
}

/**
 * Stops keepalived on `node` and removes a VIP a killed one left on eth0. Besides the pid files' PIDs, every process
 * started with this node's config file is stopped: one started just before (pid files not written yet) would
 * otherwise be left running, still MASTER, sending its adverts into the next measurement.
 */
export async function stopKeepalived(k: KeepalivedLab, node: LabNode): Promise<void> {
  const p = paths(k, node);
  // Again while any is left: a parent stopped during its start-up may have forked its VRRP child after the scan.
  const mentioning = () => pidsMentioning(`--use-file=${p.conf}`); // its parent and its VRRP child
  for (let pass = 0, pids = [...new Set([...keepalivedPids(k, node), ...mentioning()])]; pass < 3 && pids.length > 0; pass++, pids = mentioning()) {
    for (const pid of pids) {
      try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ }
      await stopPid(pid, 3000);
    }
  }
  for (const vip of k.spread ?? [k.vip]) await run('ip', ['-n', node.netns, 'addr', 'del', `${vip}/32`, 'dev', 'eth0']);
  // A killed keepalived leaves its pid files, and its PIDs can linger as zombies (PID 1 reaps lazily here): the
  // next keepalived would see "daemon is already running" and exit.
  for (const f of [p.pid, p.vrrpPid]) rmSync(f, { force: true });
}

/** Nodes whose eth0 holds the VIP (keepalived's MASTERs, or a killed one's leftover). */
export async function vipHolders(k: KeepalivedLab): Promise<LabNode[]> {
  const out: LabNode[] = [];
  for (const n of k.nodes) {
    const r = await run('ip', ['-n', n.netns, '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    if (r.stdout.includes(` ${k.vip}/32 `)) out.push(n);
  }
  return out;
}

/**
 * Settled: keepalived runs on every node (parent and VRRP child), exactly one node holds the VIP and the client
 * reaches it; then 0.5 s more so every BACKUP has heard the MASTER's adverts. Returns the MASTER.
 */
export async function waitKeepalivedSettled(k: KeepalivedLab, timeoutMs: number): Promise<LabNode> {
  let owner: LabNode | undefined;
  let last = '';
  try {
    await waitFor('keepalived: one MASTER holding the VIP and the client reaching it', timeoutMs, async () => {
      const running = k.nodes.map((n) => keepalivedPids(k, n).length);
      const holders = await vipHolders(k);
      last = `processes per node ${running.join(',')}, VIP on ${holders.map((h) => h.name).join(',') || '-'}`;
      if (running.some((c) => c < 2) || holders.length !== 1) return false;
      owner = holders[0];
      const answeredBy = await curlOnce(k.client, k.vip, 80, 1);
      last += `, client answered by ${answeredBy ?? '-'}`;
      return answeredBy === owner?.name;
    }, 250);
  } catch (err) {
    throw new Error(`${(err as Error).message} (last: ${last})`);
  }
  await new Promise((r) => setTimeout(r, 500));
  return owner!;
}

/**
 * Settled, spread: keepalived runs on every node (parent and VRRP child) and node i's eth0 holds `spread[i]` and
 * no other of the VIPs nor the single instance's `vip` (each node MASTER of its own instance, all MASTERs distinct,
 * no single-instance MASTER left); then 0.5 s more. Returns, per node, the VIPs its eth0 holds.
 */
export async function waitKeepalivedSpreadSettled(k: KeepalivedLab, timeoutMs: number): Promise<Map<string, string[]>> {
  const vips = k.spread;
  if (!vips) throw new Error('waitKeepalivedSpreadSettled needs a spread KeepalivedLab');
  const held = new Map<string, string[]>();
  let last = '';
  try {
    await waitFor('keepalived spread: every node MASTER of its own instance', timeoutMs, async () => {
      const running = k.nodes.map((n) => keepalivedPids(k, n).length);
      for (const n of k.nodes) {
        const r = await run('ip', ['-n', n.netns, '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
        held.set(n.name, [...vips, k.vip].filter((v) => r.stdout.includes(` ${v}/32 `)));
      }
      last = `processes per node ${running.join(',')}, VIPs ${k.nodes.map((n) => `${n.name}: ${held.get(n.name)!.join(' ') || '-'}`).join(', ')}`;
      return running.every((c) => c >= 2) && k.nodes.every((n, i) => held.get(n.name)!.join() === vips[i]);
    }, 250);
  } catch (err) {
    throw new Error(`${(err as Error).message} (last: ${last})`);
  }
  await new Promise((r) => setTimeout(r, 500));
  return held;
}

/** VRRP (IP protocol 112) dropped both ways: the keepalived equivalent of the 7946 partition. */
const VRRP_PARTITION = ['*filter', '-A INPUT -p vrrp -j DROP', '-A OUTPUT -p vrrp -j DROP', 'COMMIT', ''].join('\n');

/** Injects `fault` on keepalived's MASTER `node`; the caller stamps the time before. */
export async function applyKeepalivedFault(k: KeepalivedLab, fault: Fault, node: LabNode): Promise<void> {
  const [parent, ...children] = keepalivedPids(k, node);
  if (parent === undefined) throw new Error(`keepalived is not running on ${node.name}`);
  switch (fault) {
    case 'sigkill': for (const pid of [...children, parent]) process.kill(pid, 'SIGKILL'); return;
    case 'sigstop': for (const pid of [...children, parent]) process.kill(pid, 'SIGSTOP'); return;
    case 'sigterm': process.kill(parent, 'SIGTERM'); return;
    case 'link-down': await runOk('ip', ['-n', node.netns, 'link', 'set', 'eth0', 'down']); return;
    case 'partition': await runOk('ip', ['netns', 'exec', node.netns, 'iptables-restore', '--noflush'], { input: VRRP_PARTITION }); return;
    default: throw new Error(`keepalived has no ${fault}`);
  }
}

/** Undoes `fault` on `node`: processes restarted or resumed, link up, chains flushed. */
export async function undoKeepalivedFault(k: KeepalivedLab, fault: Fault, node: LabNode): Promise<void> {
  switch (fault) {
    case 'sigstop': for (const pid of keepalivedPids(k, node)) process.kill(pid, 'SIGCONT'); return;
    case 'link-down': await linkUp(node); return;
    case 'partition':
      await runOk('ip', ['netns', 'exec', node.netns, 'iptables', '-F', 'INPUT']);
      await runOk('ip', ['netns', 'exec', node.netns, 'iptables', '-F', 'OUTPUT']);
      return;
    default:
      await stopKeepalived(k, node);
      startKeepalived(k, node);
  }
}
