// Shared by the BGP lab suites (bgp-bird, bgp-frr, bgp-gobgp): one lab per file, brought up through the real
// `lab` CLI with the BGP example and a router of the file's choice, and the operator's views of it (kubectl, the
// router namespace's kernel routes, curl from the external host, a client connecting every 20 ms, the speakers'
// metrics, the Events in the apiserver). The lab's speakers advertise the suites' short graceful-restart Restart
// Time (15 s); the lab's sessions use hold time 9 s. No timing assertions: every wait is generous and only bounds
// how long a broken lab takes to fail.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePrerequisite } from '../../src/testing/cluster/test-cluster.js';
import { repoRoot } from '../../src/testing/cluster/binaries.js';
import { waitFor } from '../../src/testing/cluster/processes.js';
import { topologyNames } from '../../src/lab/topology.js';
import { runLab } from './lab-harness.js';

export type LabRouter = 'bird' | 'frr' | 'gobgp';

/** The lab's three nodes (names and addresses do not depend on the prefix). */
export const BGP_NODES = topologyNames('').nodes.map(({ name, ipv4, ipv6 }) => ({ name, ipv4, ipv6 }));
/** The BGP example every BGP suite starts from. */
export const LAB_BGP_CONFIG = join(repoRoot(), 'examples', 'lab-bgp.yaml');
/** Generous: a loaded 2-core machine runs several helpers' suites at once. */
export const WAIT_MS = 90_000;
/** The speakers' graceful-restart Restart Time in these suites, seconds (the issue's short timer). */
export const RESTART_SECONDS = 15;
/** examples/<name>. */
export const example = (name: string): string => join(repoRoot(), 'examples', name);

export const sh = (cmd: string, args: string[], input?: string) => spawnSync(cmd, args, { encoding: 'utf8', input });
const has = (command: string) => sh('sh', ['-c', `command -v ${command}`]).status === 0;

/** Waits (WAIT_MS at most) until `probe` gives a value other than undefined; returns it. */
export function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  let value: T | undefined;
  return waitFor(what, WAIT_MS, async () => (value = await probe()) !== undefined, 250).then(() => value as T);
}

export const hostPrefix = (ip: string): string => (ip.includes(':') ? `${ip}/128` : `${ip}/32`);

/**
 * Root, the lab's own commands (BIRD is its prerequisite whatever the router) and the router's; a missing one
 * skips with the reason outside CI and fails in CI (requirePrerequisite), never silently.
 */
export function bgpLabPrerequisites(t: TestContext, router: LabRouter): boolean {
  if (!requirePrerequisite(t, process.getuid?.() === 0, 'the lab needs root (ip netns)')) return false;
  if (!requirePrerequisite(t, has('bird') && has('birdc'), 'the lab needs BIRD 2 (apt-get install bird2)')) return false;
  if (router === 'frr') {
    return requirePrerequisite(t, existsSync('/usr/lib/frr/bgpd') && existsSync('/usr/lib/frr/zebra') && has('vtysh'), 'needs FRR (apt-get install frr)');
  }
  if (router === 'gobgp') return requirePrerequisite(t, has('gobgpd') && has('gobgp'), 'needs GoBGP (apt-get install gobgpd)');
  return true;
}

export interface BgpLab {
  readonly prefix: string;
  readonly dir: string;
  /** `lab <command> [args]` with this lab's prefix and dir. */
  lab(command: string, ...args: string[]): Promise<{ code: number; output: string }>;
  /** kubectl with the lab's admin kubeconfig; asserts success. */
  kubectl(args: string[], input?: string): string;
  /** Takes an old lab of this prefix down, brings it up with `config` and `router`, returns `lab up`'s output. */
  up(router: LabRouter, config?: string): Promise<string>;
  /** The demo Service's IPv4 and IPv6 addresses. */
  demoIps(): { v4: string; v6: string };
  /** Next hops of the router's kernel route for `ip` (ECMP: one per `nexthop via` line), sorted. */
  kernelNextHops(ip: string): string[];
  /** The demo's answer to an HTTP GET from the external host behind the router, or undefined. */
  curlFromExt(ip: string): string | undefined;
  /** The pid of a node's speaker (from the lab's state). */
  speakerPid(node: string): number;
  /** The speaker's /metrics text, scraped inside its node namespace. */
  metrics(node: { name: string; ipv4: string }): string;
  /** Events of `reason` in the apiserver: "<kind>/<name> <type> <message>" lines, sorted. */
  events(reason: string): string[];
  /** A client connecting to http://ip/ every 20 ms from the external host. */
  clientLoop(ip: string): ClientLoop;
  /** `lab down` if a lab is up, and the dir removed. */
  down(): Promise<void>;
}

export interface ClientLoop { readonly ok: () => number; readonly failed: () => number; stop(): void }

/**
 * Ends a graceful-restart check: waits for 10 more answers through the router after the restarted speaker is back,
 * stops the client loop and asserts that not one connect failed across the restart.
 */
export async function assertNoFailedConnects(t: TestContext, loop: ClientLoop): Promise<void> {
  const seenOk = loop.ok();
  await eventually('a few more answers after the restart', () => (loop.ok() > seenOk + 10 ? true : undefined));
  loop.stop();
  t.diagnostic(`graceful restart: ${loop.ok()} connects, ${loop.failed()} failures`);
  assert.equal(loop.failed(), 0, `${loop.failed()} of ${loop.ok() + loop.failed()} connects failed across the speaker restart`);
}

/** A BGP lab with namespaces `<prefix>*` and its state in $TMPDIR/metallb-ts-lab-<prefix>e2e. */
export function bgpLab(prefix: string): BgpLab {
  const dir = join(tmpdir(), `metallb-ts-lab-${prefix}e2e`);
  const lab = (command: string, ...args: string[]) => {
    // The speakers the lab starts inherit the environment: the suites' short Restart Time, and --exclude-lb (no
    // Node has the exclude-from-external-load-balancers label unless a suite puts it on one).
    const env = { METALLB_BGP_GRACEFUL_RESTART_TIME: String(RESTART_SECONDS), METALLB_EXCLUDE_LB: 'true' };
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      return runLab(prefix, dir, [command, ...args]);
    } finally {
      for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
    }
  };
  const kubectl = (args: string[], input?: string) => {
    const r = sh(join(dir, 'bin', 'kubectl'), ['--kubeconfig', join(dir, 'kubeconfig'), ...args], input);
    assert.equal(r.status, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  return {
    prefix, dir, lab, kubectl,
    async up(router, config = LAB_BGP_CONFIG) {
      const cleanup = await lab('down');
      assert.equal(cleanup.code, 0, cleanup.output);
      const up = await lab('up', '--config', config, '--router', router);
      assert.equal(up.code, 0, up.output);
      assert.equal(up.output.match(/speaker: running in \S+node\d as system:serviceaccount:metallb-system:speaker/g)?.length, 3, up.output);
      return up.output;
    },
    demoIps() {
      const ips = kubectl(['get', 'service', 'demo', '-n', 'default', '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}']).trim().split(/\s+/);
      const v4 = ips.find((ip) => !ip.includes(':'));
      const v6 = ips.find((ip) => ip.includes(':'));
      assert.ok(v4 && v6, `a dual-stack demo: ${ips.join(' ')}`);
      return { v4, v6 };
    },
    kernelNextHops(ip) {
      const out = sh('ip', ['-n', `${prefix}router`, ...(ip.includes(':') ? ['-6'] : []), 'route', 'show', ip]).stdout;
      return [...out.matchAll(/nexthop via (\S+)/g)].map((m) => m[1]!).sort();
    },
    curlFromExt(ip) {
      const host = ip.includes(':') ? `[${ip}]` : ip;
      const r = sh('ip', ['netns', 'exec', `${prefix}ext`, 'curl', '-gs', '--max-time', '2', `http://${host}/`]);
      return r.status === 0 ? r.stdout.trim() : undefined;
    },
    speakerPid(node) {
      const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { pids: Record<string, number> };
      return state.pids[`speaker-${node}`]!;
    },
    metrics(node) {
      return sh('ip', ['netns', 'exec', `${prefix}${node.name}`, 'curl', '-s', '--max-time', '3', `http://${node.ipv4}:7472/metrics`]).stdout;
    },
    events(reason) {
      const list = JSON.parse(kubectl(['get', 'events', '-A', '--field-selector', `reason=${reason}`, '-o', 'json'])) as {
        items: Array<{ type: string; message: string; involvedObject: { kind: string; name: string } }>;
      };
      return list.items.map((e) => `${e.involvedObject.kind}/${e.involvedObject.name} ${e.type} ${e.message}`).sort();
    },
    clientLoop(ip) {
      const host = ip.includes(':') ? `[${ip}]` : ip;
      const child: ChildProcess = spawn('ip', ['netns', 'exec', `${prefix}ext`, 'sh', '-c',
        `while :; do if curl -gs --max-time 2 -o /dev/null http://${host}/; then echo ok; else echo FAIL; fi; sleep 0.02; done`], { stdio: ['ignore', 'pipe', 'ignore'] });
      let ok = 0;
      let failed = 0;
      child.stdout!.on('data', (d: Buffer) => {
        for (const w of String(d).split('\n')) { if (w === 'ok') ok++; else if (w === 'FAIL') failed++; }
      });
      return { ok: () => ok, failed: () => failed, stop: () => { child.kill('SIGKILL'); } };
    },
    async down() {
      if (existsSync(join(dir, 'state.json'))) await lab('down');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One sample of a metric with exactly these labels from Prometheus text; undefined when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',');
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (m[2]!.split(',').sort().join(',') === want) return Number(m[3]);
  }
  return undefined;
}

/** Label sets of every sample of `name` (each "k=v,k=v", sorted). */
export function metricLabelSets(text: string, name: string): string[] {
  return text.split('\n').flatMap((line) => {
    const m = /^(\w+)\{([^}]*)\} \S+$/.exec(line);
    return m && m[1] === name ? [m[2]!.split(',').sort().join(',').replace(/"/g, '')] : [];
  }).sort();
}

/** t.diagnostic lines with the seconds since the call: the suites' step times, for the wall-time note. */
export function stepClock(t: TestContext): (what: string) => void {
  const t0 = Date.now();
  return (what) => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
}

/** How many established BGP connections in the router namespace the kernel signs with TCP-MD5 (`ss` says `md5`). */
export function signedBgpConnections(lab: BgpLab): { count: number; ss: string } {
  const ss = sh('ip', ['netns', 'exec', `${lab.prefix}router`, 'ss', '-tnie', 'state', 'established', '( sport = :179 or dport = :179 )']).stdout;
  return { count: ss.match(/\bmd5\b/g)?.length ?? 0, ss };
}

/**
 * Applies lab-bgp.yaml with a wrong password for the IPv6 peer and waits until every node has recorded a Warning
 * Event `bgpPasswordMismatch` naming that peer on its Node (the kernel drops the segments silently, so the speaker
 * infers the mismatch from unanswered connects). Returns the Events.
 */
export async function wrongIpv6Password(lab: BgpLab): Promise<string[]> {
  const peer = '[2001:db8::1]:179';
  lab.kubectl(['apply', '-f', '-'], readFileSync(LAB_BGP_CONFIG, 'utf8').replace('password: lab-md5-v6', 'password: not-the-routers'));
  return eventually('a bgpPasswordMismatch Event from each node', () => {
    const events = lab.events('bgpPasswordMismatch');
    return BGP_NODES.every((n) => events.some((e) => e.startsWith(`Node/${n.name} Warning `) && e.includes(peer))) ? events : undefined;
  });
}
