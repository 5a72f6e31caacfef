/**
 * The issue-11 faults, on a running lab (src/lab: `lab up` with its own METALLB_TS_LAB_DIR and prefix), for the
 * failover e2e test and the failover bench: what each fault does to the owner node, how it is undone, and how to
 * wait until the lab is settled again (one owner per IP, every speaker sees every member alive by gossip, the
 * client reaches the owner).
 *
 * - `sigkill`: SIGKILL of the owner's speaker; undone by `lab restart-speaker` (a fresh speaker, as a DaemonSet
 *   would restart it).
 * - `link-down`: the owner node's eth0 down (cable cut); undone by setting it up again.
 * - `sigstop`: the owner's speaker frozen; undone by SIGCONT.
 * - `sigterm`: a graceful stop (make-before-break: it leaves the gossip first, answers for its IPs during the
 *   handoff grace); undone by `lab restart-speaker`.
 * - `partition`: port 7946 (UDP and TCP) dropped by iptables (the nf_tables backend) in the owner's namespace,
 *   both ways, while the client still reaches every node; undone by flushing the chains.
 * - `out-of-service`: the administrator's taint `node.kubernetes.io/out-of-service` on the owner's Node (effect
 *   NoSchedule here: the lab has no kubelet to re-create Pods that NoExecute would evict); the node itself stays up.
 *   Undone by removing the taint.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../cluster/binaries.js';
import { run, runOk, waitFor } from '../cluster/processes.js';
import { announcements, curlOnce, ownersOf } from '../../lab/observe.js';
import { speakerMetrics } from '../../lab/speakers.js';
import { ROUTER_IPV4, ROUTER_IPV6, type LabNode } from '../../lab/topology.js';

export type Fault = 'sigkill' | 'link-down' | 'sigstop' | 'sigterm' | 'partition' | 'out-of-service';
export const FAULTS: readonly Fault[] = ['sigkill', 'link-down', 'sigstop', 'sigterm', 'partition', 'out-of-service'];

const OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';

/** Runs the lab's kubectl with its admin kubeconfig; resolves with stdout, rejects on a non-zero exit. */
export function labKubectl(lab: Lab, args: string[], input?: string): Promise<string> {
  return runOk(join(lab.dir, 'bin', 'kubectl'), ['--kubeconfig', join(lab.dir, 'kubeconfig'), ...args], input === undefined ? {} : { input });
}

export interface Lab {
  readonly dir: string;
  readonly prefix: string;
}

/**
 * Runs `lab <args>` (dist/src/lab/main.js) for this lab; resolves with its exit code and output. `env` is added to
 * ours (the speakers the command starts inherit it, e.g. METALLB_EXCLUDE_LB on `restart-speaker`).
 */
export function labCli(lab: Lab, args: string[], env: Readonly<Record<string, string>> = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot(), 'dist', 'src', 'lab', 'main.js'), ...args], {
      env: { ...process.env, ...env, METALLB_TS_LAB_DIR: lab.dir, METALLB_TS_LAB_PREFIX: lab.prefix }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => { output += String(d); });
    child.stderr.on('data', (d) => { output += String(d); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** The speaker's PID on `node`, as the lab recorded it. */
export function speakerPid(lab: Lab, node: LabNode): number {
  const state = JSON.parse(readFileSync(join(lab.dir, 'state.json'), 'utf8')) as { pids: Record<string, number> };
  const pid = state.pids[`speaker-${node.name}`];
  if (pid === undefined) throw new Error(`no speaker recorded for ${node.name}`);
  return pid;
}

/**
 * Injects `fault` on `node`. Synchronous signals and one `ip`/`nft` call: the caller stamps the time before.
 * `taint`, when given, sets the out-of-service taint instead of `kubectl taint` (the bench passes an API client's
 * PATCH so that its figure does not include starting kubectl).
 */
export async function applyFault(lab: Lab, fault: Fault, node: LabNode, taint?: (node: string) => Promise<void>): Promise<void> {
  switch (fault) {
    case 'sigkill': process.kill(speakerPid(lab, node), 'SIGKILL'); return;
    case 'sigstop': process.kill(speakerPid(lab, node), 'SIGSTOP'); return;
    case 'sigterm': process.kill(speakerPid(lab, node), 'SIGTERM'); return;
    case 'link-down': await runOk('ip', ['-n', node.netns, 'link', 'set', 'eth0', 'down']); return;
    case 'out-of-service':
      if (taint) await taint(node.name);
      else await labKubectl(lab, ['taint', 'node', node.name, `${OUT_OF_SERVICE}=nodeshutdown:NoSchedule`]);
      return;
    case 'partition':
      // iptables-restore: all rules in one call, so the partition starts at one instant.
      await runOk('ip', ['netns', 'exec', node.netns, 'iptables-restore', '--noflush'], { input: PARTITION_RULES });
      return;
  }
}

/** Drop gossip (7946, UDP and TCP, both directions) in the node's namespace; everything else passes. */
const PARTITION_RULES = ['*filter',
  ...['INPUT', 'OUTPUT'].flatMap((chain) => ['udp', 'tcp'].flatMap((proto) => ['--dport', '--sport'].map((dir) => `-A ${chain} -p ${proto} ${dir} 7946 -j DROP`))),
  'COMMIT', ''].join('\n');

/** The out-of-service taint as `applyFault` sets it (for a JSON merge patch of the Node's spec.taints). */
export const OUT_OF_SERVICE_TAINTS = [{ key: OUT_OF_SERVICE, value: 'nodeshutdown', effect: 'NoSchedule' }];

/** Undoes `fault` on `node`. */
export async function undoFault(lab: Lab, fault: Fault, node: LabNode): Promise<void> {
  switch (fault) {
    case 'sigkill':
    case 'sigterm': {
      const r = await labCli(lab, ['restart-speaker', node.name]);
      if (r.code !== 0) throw new Error(`lab restart-speaker ${node.name} failed: ${r.output}`);
      return;
    }
    case 'sigstop': process.kill(speakerPid(lab, node), 'SIGCONT'); return;
    case 'link-down': await linkUp(node); return;
    case 'out-of-service': await labKubectl(lab, ['taint', 'node', node.name, `${OUT_OF_SERVICE}-`]); return;
    case 'partition':
      await runOk('ip', ['netns', 'exec', node.netns, 'iptables', '-F', 'INPUT']);
      await runOk('ip', ['netns', 'exec', node.netns, 'iptables', '-F', 'OUTPUT']);
      return;
  }
}

/**
 * Sets the node's eth0 up again and puts back what `link down` took with it: Linux drops the interface's IPv6
 * addresses (keep_addr_on_down is 0) and every route through it, so without this the node would be left without
 * its IPv6 address and its default routes (an IPv6 VIP it owns would then be unreachable).
 */
export async function linkUp(node: LabNode): Promise<void> {
  await runOk('ip', ['-n', node.netns, 'link', 'set', 'eth0', 'up']);
  await runOk('ip', ['-n', node.netns, '-6', 'addr', 'replace', `${node.ipv6}/64`, 'dev', 'eth0', 'nodad']);
  await runOk('ip', ['-n', node.netns, 'route', 'replace', 'default', 'via', ROUTER_IPV4]);
  await runOk('ip', ['-n', node.netns, '-6', 'route', 'replace', 'default', 'via', ROUTER_IPV6]);
}

/**
 * The MACs that answer the client for `ip` now (lowercase, distinct): two ARP requests (arping) for IPv4, two Neighbor
 * Solicitations collecting every advertisement (ndisc6 -m) for IPv6. Empty when nobody answered.
 */
export async function answeringMacs(clientNetns: string, ip: string): Promise<string[]> {
  const v6 = ip.includes(':');
  const r = v6 ? await run('ip', ['netns', 'exec', clientNetns, 'ndisc6', '-m', '-n', '-r', '2', '-w', '1500', ip, 'eth0'])
    : await run('ip', ['netns', 'exec', clientNetns, 'arping', '-c', '2', '-w', '3', '-i', 'eth0', ip]);
  const re = v6 ? /Target link-layer address: ([0-9a-f:]{17})/gi : /bytes from ([0-9a-f:]{17}) \(/gi;
  return [...new Set([...r.stdout.matchAll(re)].map((m) => m[1]!.toLowerCase()))].sort();
}

/** Members alive according to one speaker's metallb_speaker_memberlist_members gauge (-1: no answer). */
export function aliveMembers(metrics: string): number {
  const m = /^metallb_speaker_memberlist_members\{status="alive"\}\s+(\S+)/m.exec(metrics);
  return m ? Number(m[1]) : -1;
}

/** Lifeguard local health according to one speaker's metallb_speaker_memberlist_local_health gauge (-1: no answer). */
export function localHealth(metrics: string): number {
  const m = /^metallb_speaker_memberlist_local_health\s+(\S+)/m.exec(metrics);
  return m ? Number(m[1]) : -1;
}

/**
 * Waits up to `withinMs` until every speaker's Lifeguard local health is back to 0 (after a fault the survivors'
 * probes run slower, by 1 + health, until their probes succeed again); returns the last values, node order.
 * Never throws for health: on a starved machine it may not get there.
 */
export async function waitHealthy(nodes: readonly LabNode[], withinMs: number): Promise<number[]> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const health = (await Promise.all(nodes.map((n) => speakerMetrics(n)))).map(localHealth);
    if (health.every((h) => h === 0) || Date.now() >= deadline) return health;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Waits until the lab is settled: exactly one speaker announces `ip`, every speaker has all nodes alive in its
 * gossip, and the client's curl is answered by that owner. Returns the owner.
 */
export async function waitSettled(nodes: readonly LabNode[], clientNetns: string, ip: string, timeoutMs: number): Promise<LabNode> {
  let owner: LabNode | undefined;
  let last = '';
  try {
    await waitFor(`one owner of ${ip}, full gossip and the client reaching the owner`, timeoutMs, async () => {
      const metrics = await Promise.all(nodes.map((n) => speakerMetrics(n)));
      const alive = metrics.map(aliveMembers);
      const owners = ownersOf(await announcements(nodes), ip);
      last = `owners ${owners.join(',') || '-'}, alive members per speaker ${alive.join(',')}`;
      if (owners.length !== 1 || alive.some((n) => n !== nodes.length)) return false;
      owner = nodes.find((n) => n.name === owners[0]);
      const answeredBy = await curlOnce(clientNetns, ip, 80, 1);
      last += `, client answered by ${answeredBy ?? '-'}`;
      return answeredBy === owner?.name;
    }, 250);
  } catch (err) {
    throw new Error(`${(err as Error).message} (last: ${last})`);
  }
  return owner!;
}
