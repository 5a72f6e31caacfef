// Shared by the lab e2e suites (one lab per file): brings a lab up through the real `lab` CLI with the file's own
// namespace prefix and state dir, and looks at it the way an operator would — kubectl, the speakers' metrics,
// and real frames from the client namespace (arping, ip -6 neigh, tcpdump, curl). No timing assertions: every
// wait is generous and only bounds how long a broken lab takes to fail.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { requirePrerequisite } from '../../src/testing/cluster/test-cluster.js';
import { TestCluster } from '../../src/testing/cluster/cluster.js';
import { repoRoot } from '../../src/testing/cluster/binaries.js';
import { run, waitFor } from '../../src/testing/cluster/processes.js';
import { topologyNames, type LabNode } from '../../src/lab/topology.js';
import { announcements, curlOnce, ownersOf } from '../../src/lab/observe.js';

const labMain = join(repoRoot(), 'dist', 'src', 'lab', 'main.js');

export interface Lab {
  prefix: string;
  dir: string;
  cluster: TestCluster;
  nodes: LabNode[];
  client: string;
  upOutput: string;
  upSeconds: number;
  /** `lab <command> [args]` with this lab's prefix and dir. */
  cli(command: string, ...args: string[]): Promise<{ code: number; output: string }>;
  down(): Promise<void>;
}

/**
 * The netns prefix of one suite: `METALLB_TS_LAB_TEST_PREFIX` (default `ml`) + the suite's suffix, so two runs
 * of the suites on one machine (two checkouts, two developers) can use disjoint namespaces and state dirs.
 */
export function labTestPrefix(suffix: string): string {
  return `${process.env['METALLB_TS_LAB_TEST_PREFIX'] ?? 'ml'}${suffix}`;
}

export function runLab(prefix: string, dir: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [labMain, ...args], {
      env: { ...process.env, METALLB_TS_LAB_DIR: dir, METALLB_TS_LAB_PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => { output += String(d); });
    child.stderr.on('data', (d) => { output += String(d); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** True when every command is on PATH. */
function have(...commands: string[]): boolean {
  return commands.every((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
}

/**
 * One lab per test file, started by whichever test asks first: `const lab = await theLab(t)` in every test
 * (each one checks the prerequisites itself, so none is skipped silently). Call its down() from `after`.
 */
export function labPerFile(prefix: string): { get(t: TestContext): Promise<Lab | undefined>; down(): Promise<void>; started(): Lab | undefined } {
  let pending: Promise<Lab | undefined> | undefined;
  let lab: Lab | undefined;
  return {
    async get(t) {
      if (!prerequisitesMet(t)) return undefined;
      pending ??= startLab(t, prefix).then((l) => (lab = l));
      return pending;
    },
    async down() {
      if (lab) await lab.down();
    },
    started: () => lab,
  };
}

function prerequisitesMet(t: TestContext): boolean {
  return requirePrerequisite(t, process.getuid?.() === 0, 'the lab needs root (ip netns)')
    && requirePrerequisite(t, have('bird', 'birdc'), 'the lab needs BIRD 2 (apt-get install bird2)')
    && requirePrerequisite(t, have('arping', 'tcpdump', 'curl', 'ndisc6'), 'the lab tests need arping, tcpdump, curl and ndisc6 (apt-get install arping tcpdump curl ndisc6)');
}

/**
 * A fresh lab for one test file, or undefined when a prerequisite is missing outside CI (in CI that fails the
 * test with the reason; nothing is skipped silently). The lab must come up with three running speakers.
 */
export async function startLab(t: TestContext, prefix: string): Promise<Lab | undefined> {
  if (!prerequisitesMet(t)) return undefined;
  // A fixed dir, taken down first: a run killed half-way (where no finally runs) is undone by the next one.
  const dir = join(tmpdir(), `metallb-ts-${prefix}lab`);
  const cleanup = await runLab(prefix, dir, ['down']);
  assert.equal(cleanup.code, 0, cleanup.output);
  const t0 = Date.now();
  const up = await runLab(prefix, dir, ['up']);
  const upSeconds = (Date.now() - t0) / 1000;
  if (up.code !== 0) {
    await runLab(prefix, dir, ['down']);
    assert.fail(`lab up failed:\n${up.output}`);
  }
  assert.equal(up.output.match(/^speaker: running in /gm)?.length, 3, `three speakers must run:\n${up.output}`);
  const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { clusterInfo: string };
  const topo = topologyNames(prefix);
  return {
    prefix, dir, cluster: TestCluster.attach(state.clusterInfo), nodes: topo.nodes, client: topo.client,
    upOutput: up.output, upSeconds,
    cli: (command, ...args) => runLab(prefix, dir, [command, ...args]),
    async down() {
      const result = await runLab(prefix, dir, ['down']);
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      assert.equal(result.code, 0, result.output);
    },
  };
}

export const macOf = (lab: Lab, node: string): string => lab.nodes.find((n) => n.name === node)!.mac;
export const nodeByMac = (lab: Lab, mac: string): string | undefined => lab.nodes.find((n) => n.mac === mac.toLowerCase())?.name;

export interface ServiceOptions {
  namespace?: string;
  port?: number;
  selector?: Record<string, string>;
  annotations?: Record<string, string>;
  loadBalancerIP?: string;
  externalTrafficPolicy?: 'Local' | 'Cluster';
  ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack';
}

function serviceManifest(name: string, o: ServiceOptions): Record<string, unknown> {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: o.namespace ?? 'default', annotations: o.annotations ?? {} },
    spec: {
      type: 'LoadBalancer', selector: o.selector ?? { app: 'demo' },
      ports: [{ name: 'http', port: o.port ?? 80, targetPort: 8080, protocol: 'TCP' }],
      ...(o.loadBalancerIP ? { loadBalancerIP: o.loadBalancerIP } : {}),
      ...(o.externalTrafficPolicy ? { externalTrafficPolicy: o.externalTrafficPolicy } : {}),
      ...(o.ipFamilyPolicy ? { ipFamilyPolicy: o.ipFamilyPolicy } : {}),
    },
  };
}

export async function applyService(lab: Lab, name: string, o: ServiceOptions = {}): Promise<void> {
  await lab.cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(serviceManifest(name, o)) });
}

/** Several Services in one `kubectl apply` (a List). */
export async function applyServices(lab: Lab, names: readonly string[], o: ServiceOptions = {}): Promise<void> {
  const list = { apiVersion: 'v1', kind: 'List', items: names.map((name) => serviceManifest(name, o)) };
  await lab.cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(list) });
}

/** Waits until every named Service in `namespace` has an ingress IP; their first IPs, by name. */
export async function firstIps(lab: Lab, names: readonly string[], namespace = 'default'): Promise<Map<string, string>> {
  const ips = new Map<string, string>();
  await waitFor(`an ingress IP on each of ${names.length} Services`, 60_000, async () => {
    const list = JSON.parse(await lab.cluster.kubectl(['get', 'services', '-n', namespace, '-o', 'json'])) as {
      items: Array<{ metadata: { name: string }; status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } }>;
    };
    for (const svc of list.items) {
      const ip = svc.status?.loadBalancer?.ingress?.[0]?.ip;
      if (ip && names.includes(svc.metadata.name)) ips.set(svc.metadata.name, ip);
    }
    return ips.size === names.length;
  }, 250).catch((err: Error) => { throw new Error(`${err.message}; with an IP: ${ips.size}`); });
  return ips;
}

/** Waits until each of ips is announced in layer 2 by exactly one speaker; the owner of each. */
export async function waitOwners(lab: Lab, ips: readonly string[]): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  let pending: string[] = [...ips];
  await waitFor(`one owner for each of ${ips.length} IPs`, 60_000, async () => {
    const all = await announcements(lab.nodes);
    owners.clear();
    for (const ip of ips) {
      const nodes = ownersOf(all, ip, 'layer2');
      if (nodes.length === 1) owners.set(ip, nodes[0]!);
    }
    pending = ips.filter((ip) => !owners.has(ip));
    return pending.length === 0;
  }, 250).catch((err: Error) => { throw new Error(`${err.message}; without exactly one owner: ${pending.join(', ')}`); });
  return owners;
}

/** Waits for the Service's ingress IPs (at least `count`). */
export async function serviceIps(lab: Lab, name: string, count = 1, namespace = 'default'): Promise<string[]> {
  let ips: string[] = [];
  await waitFor(`${count} ingress IP(s) on ${namespace}/${name}`, 60_000, async () => {
    const out = await lab.cluster.kubectl(['get', 'service', name, '-n', namespace, '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}']);
    ips = out.trim().split(/\s+/).filter(Boolean);
    return ips.length >= count;
  }, 250);
  return ips;
}

/** Waits until exactly one speaker announces ip in layer 2 (and, if given, that it is `expected`); returns that node. */
export async function waitOwner(lab: Lab, ip: string, expected?: string): Promise<string> {
  let owners: string[] = [];
  await waitFor(`one owner${expected ? ` (${expected})` : ''} for ${ip}`, 60_000, async () => {
    owners = ownersOf(await announcements(lab.nodes), ip, 'layer2');
    return owners.length === 1 && (expected === undefined || owners[0] === expected);
  }, 250).catch((err: Error) => { throw new Error(`${err.message}; announced by: ${owners.join(', ') || 'nobody'}`); });
  return owners[0]!;
}

/** Waits until no speaker announces ip in layer 2. */
export async function waitNoOwner(lab: Lab, ip: string): Promise<void> {
  await waitFor(`no speaker to announce ${ip} in layer 2`, 60_000, async () => ownersOf(await announcements(lab.nodes), ip, 'layer2').length === 0, 250);
}

/**
 * One `arping -c1` from the client; the MAC that answered, or undefined when none did within `waitSeconds`
 * (generous by default: with both cores busy a reply can take well over a second; arping exits at the first).
 */
export async function arpingOnce(lab: Lab, ip: string, waitSeconds = 3): Promise<string | undefined> {
  const r = await run('ip', ['netns', 'exec', lab.client, 'arping', '-c', '1', '-w', String(waitSeconds), '-i', 'eth0', ip]);
  return /bytes from ([0-9a-f:]{17}) /i.exec(r.stdout)?.[1]?.toLowerCase();
}

/** Waits until arping from the client gets an answer from `mac` (or any, when undefined); returns it. */
export async function waitArping(lab: Lab, ip: string, mac?: string): Promise<string> {
  let got: string | undefined;
  await waitFor(`an ARP reply for ${ip}${mac ? ` from ${mac}` : ''}`, 60_000, async () => {
    got = await arpingOnce(lab, ip);
    return got !== undefined && (mac === undefined || got === mac);
  }, 100).catch((err: Error) => { throw new Error(`${err.message}; last answer: ${got ?? 'none'}`); });
  return got!;
}

/** Waits until ARP requests for ip go unanswered, three in a row (2 s each). */
export async function waitArpSilent(lab: Lab, ip: string): Promise<void> {
  let silent = 0;
  await waitFor(`ARP requests for ${ip} to go unanswered`, 60_000, async () => {
    silent = (await arpingOnce(lab, ip, 2)) === undefined ? silent + 1 : 0;
    return silent >= 3;
  }, 100);
}

/**
 * The client's neighbour entry for an IPv6 address after a fresh resolution (curl triggers the NS); its MAC, or
 * undefined when the kernel resolved nothing (it sends 3 solicitations, 1 s apart; curl may give up before).
 */
export async function ipv6NeighborMac(lab: Lab, ip: string): Promise<string | undefined> {
  await run('ip', ['-n', lab.client, '-6', 'neigh', 'del', ip, 'dev', 'eth0']);
  await curlOnce(lab.client, ip, 80, 4);
  const out = (await run('ip', ['-n', lab.client, '-6', 'neigh', 'show', ip, 'dev', 'eth0'])).stdout;
  return /lladdr ([0-9a-f:]{17})/i.exec(out)?.[1]?.toLowerCase();
}

/** Waits until a fresh resolution from the client puts `mac` into its IPv6 neighbour entry for ip. */
export async function waitIpv6Neighbor(lab: Lab, ip: string, mac: string): Promise<string> {
  let got: string | undefined;
  await waitFor(`the client's neighbour entry for ${ip} to hold ${mac}`, 60_000, async () => (got = await ipv6NeighborMac(lab, ip)) === mac, 200)
    .catch((err: Error) => { throw new Error(`${err.message}; last entry: ${got ?? 'none'}`); });
  return got!;
}

/** Waits until curl from the client to ip:port answers; returns the answering node's name. */
export async function waitCurl(lab: Lab, ip: string, port = 80, expected?: string): Promise<string> {
  let answer: string | undefined;
  await waitFor(`curl ${ip}:${port} to answer${expected ? ` from ${expected}` : ''}`, 60_000, async () => {
    answer = await curlOnce(lab.client, ip, port);
    return answer !== undefined && (expected === undefined || answer === expected);
  }, 200).catch((err: Error) => { throw new Error(`${err.message}; last answer: ${answer ?? 'none'}`); });
  return answer!;
}

/** A tcpdump of ARP and ICMPv6 in the client namespace; stop() returns the lines it printed. */
export async function captureAtClient(lab: Lab): Promise<{ stop(): Promise<string[]> }> {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', lab.client, 'tcpdump', '-i', 'eth0', '-n', '-e', '-l', '-U', 'arp or icmp6'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => { out += String(d); });
  child.stderr!.on('data', (d) => { err += String(d); });
  await waitFor('tcpdump to listen in the client namespace', 15_000, () => /listening on/.test(err), 50);
  return {
    async stop() {
      await sleep(300); // let the last frames through the pipe
      const closed = new Promise((resolve) => child.on('close', resolve));
      child.kill('SIGTERM');
      await closed;
      return out.split('\n').filter(Boolean);
    },
  };
}

/** Source MACs of the ARP replies (`Reply <ip> is-at`) and Neighbor Advertisements (`tgt is <ip>`) for ip. */
export function answerersIn(lines: readonly string[], ip: string): Set<string> {
  const esc = ip.replace(/[.]/g, '\\.');
  const re = new RegExp(`(Reply ${esc} is-at|neighbor advertisement, tgt is ${esc}[,\\s])`);
  return new Set(lines.filter((l) => re.test(l)).map((l) => l.split(/\s+/)[1]!.toLowerCase()));
}

/** JSON log lines of one node's speaker. */
export function speakerLog(lab: Lab, node: string): Array<Record<string, unknown>> {
  const file = join(lab.dir, 'logs', `speaker-${node}.log`);
  return readFileSync(file, 'utf8').split('\n').flatMap((l) => {
    try { return [JSON.parse(l) as Record<string, unknown>]; } catch { return []; }
  });
}
