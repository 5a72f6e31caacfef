/**
 * BGP bench (issue 10): 10,000 prefixes announced to BIRD 2 by our speaker and by GoBGP 3, in the same run, to
 * the same BIRD, over IPv6 sessions (10,000 host routes fit only in the IPv6 documentation range).
 *
 * Two namespaces on one veth pair: `<p>bgr` runs BIRD (2001:db8::1 ports 179, 1791, 1792; AS 64512; imports into
 * its table, nothing into the kernel), `<p>bgs` runs our speaker side as a child process (bgp-speaker-helper.ts:
 * the product's BgpAnnouncer with its sessions and sockets, fed setConfig/setBalancer/synced like the speaker;
 * only the Kubernetes watches are left out) from 2001:db8::11 (::12, ::13 for the 2nd and 3rd session), and
 * gobgpd from 2001:db8::21 (AS 64513 both).
 *
 * Figures, all observed at BIRD:
 * - full table: both sides hold the 10,000 routes before the session comes up; the time from BIRD's Established
 *   to the last of the 10,000 imported, both read from BIRD's own timestamps (`show protocols`, `show route`).
 *   GoBGP's routes are injected beforehand from an MRT file (`gobgp mrt inject global`), its neighbour admin-down.
 * - live add (ours): 10,000 Services added on an established session, until BIRD holds all (polled).
 * - withdrawal of the 10,000 (both), until BIRD holds none (polled; GoBGP's includes the `gobgp` CLI start).
 * - UPDATE messages per prefix, counted by each sender (ours: metallb_bgp_updates_total's hook; GoBGP: its
 *   neighbour's message statistics, less its End-of-RIB).
 * - session establishment: from the start command to BIRD's Established (wall clock both).
 * - the helper's RSS with 10,000 prefixes on three sessions (BIRD's three protocols).
 * Needs root, BIRD and GoBGP. METALLB_TS_LAB_PREFIX (default `bb-`) and METALLB_TS_LAB_DIR keep it apart.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run as exec, runOk, stopPid, waitFor } from '../src/testing/cluster/processes.js';
import { startBirdWith } from '../src/lab/router.js';
import { gobgp, startGobgpWith } from '../src/lab/gobgp.js';
import { deleteNetns, netnsExists } from '../src/lab/topology.js';
import type { BenchResult } from './types.js';

const COUNT = 10_000;
const PREFIX = process.env['METALLB_TS_LAB_PREFIX'] ?? 'bb-';
const DIR = join(process.env['METALLB_TS_LAB_DIR'] ?? join(tmpdir(), `metallb-ts-${PREFIX}bench`), 'bgp-bench');
const ROUTER = `${PREFIX}bgr`;
const SPEAKER = `${PREFIX}bgs`;
const ROUTER6 = '2001:db8::1';
const GOBGP = '2001:db8::21';
/** Our three sessions: BIRD's protocol spkN listens on ROUTER6 port `port` for the speaker from `source`. */
const OUR_PEERS = [
  { address: ROUTER6, port: 179, source: '2001:db8::11' },
  { address: ROUTER6, port: 1791, source: '2001:db8::12' },
  { address: ROUTER6, port: 1792, source: '2001:db8::13' },
];
const WAIT_MS = 120_000;

const birdConf = () => [
  `log "${join(DIR, 'bird.log')}" { warning, error };`,
  'router id 192.0.2.1;',
  'protocol device {}',
  'template bgp peers { hold time 90; connect delay time 1; connect retry time 1; error wait time 1, 5; ipv6 { import all; export none; }; }',
  // One local address and a port each: BIRD 2.0.12 leaves a protocol with a second local address Idle.
  ...OUR_PEERS.map((p, i) => `protocol bgp spk${i + 1} from peers { local ${ROUTER6} port ${p.port} as 64512; neighbor ${p.source} as 64513; }`),
  `protocol bgp gobgp from peers { local ${ROUTER6} as 64512; neighbor ${GOBGP} as 64513; }`,
].join('\n') + '\n';

const gobgpConf = () => [
  '[global.config]', '  as = 64513', '  router-id = "192.0.2.21"', '  port = 179', `  local-address-list = ["${GOBGP}"]`,
  '[[neighbors]]', '  [neighbors.config]', `    neighbor-address = "${ROUTER6}"`, '    peer-as = 64512', '    admin-down = true',
  '  [neighbors.transport.config]', `    local-address = "${GOBGP}"`,
  '  [neighbors.timers.config]', '    connect-retry = 1', '    hold-time = 90', '    idle-hold-time-after-reset = 1',
  '  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', '      afi-safi-name = "ipv6-unicast"',
].join('\n') + '\n';

/** The i-th address of 2001:db8:ffff::/112 as 16 bytes (the helper announces the same set). */
function prefixBytes(i: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(0x20010db8, 0);
  b.writeUInt16BE(0xffff, 4);
  b.writeUInt16BE(i, 14);
  return b;
}

/**
 * An MRT TABLE_DUMP_V2 file (RFC 6396 §4.3) with `count` /128 routes from one peer: ORIGIN incomplete (as our
 * speaker sends), an empty AS_PATH (GoBGP prepends its AS), MP_REACH_NLRI with next hop `nextHop` and no NLRI.
 */
export function mrtDump(count: number, nextHop: Buffer): Buffer {
  const record = (subtype: number, body: Buffer) => {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(13, 4); // TABLE_DUMP_V2
    h.writeUInt16BE(subtype, 6);
    h.writeUInt32BE(body.length, 8);
    return Buffer.concat([h, body]);
  };
  // PEER_INDEX_TABLE: collector id, empty view name, one peer (IPv6 address, 4-octet AS).
  const peers = Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 0x03, 0, 0, 0, 1]), nextHop, Buffer.from([0, 0, 0xfc, 0x01])]);
  const out = [record(1, peers)];
  // GoBGP reads MP_REACH_NLRI here in its full form (AFI, SAFI, next hop, reserved; no NLRI), not RFC 6396's short one.
  const attrs = Buffer.concat([Buffer.from([0x40, 1, 1, 2, 0x40, 2, 0, 0x80, 14, 21, 0, 2, 1, 16]), nextHop, Buffer.from([0])]);
  for (let i = 0; i < count; i++) {
    const entry = Buffer.alloc(4 + 1 + 16 + 2 + 8);
    entry.writeUInt32BE(i, 0);
    entry[4] = 128;
    prefixBytes(i).copy(entry, 5);
    entry.writeUInt16BE(1, 21);
    entry.writeUInt16BE(0, 23); // peer index
    entry.writeUInt16BE(attrs.length, 29);
    out.push(record(4, Buffer.concat([entry, attrs])));
  }
  return Buffer.concat(out);
}

const birdc = async (...args: string[]) => (await exec('birdc', ['-s', join(DIR, 'bird.ctl'), ...args])).stdout;

/** BIRD's routes from `protocol`, counted. */
async function routeCount(protocol: string): Promise<number> {
  return Number(/(\d+) of \d+ routes/.exec(await birdc('show', 'route', 'protocol', protocol, 'count'))?.[1] ?? -1);
}

/** hh:mm:ss.fff (BIRD's local time) → ms since local midnight. */
const msOfDay = (t: string) => { const [h, m, s] = t.split(':'); return (Number(h) * 3600 + Number(m) * 60 + Number(s)) * 1000; };
const nowMsOfDay = () => { const d = new Date(); return ((d.getHours() * 60 + d.getMinutes()) * 60 + d.getSeconds()) * 1000 + d.getMilliseconds(); };

/** When BIRD's `protocol` entered Established, ms of day; undefined until it is. */
async function establishedAt(protocol: string): Promise<number | undefined> {
  const m = new RegExp(`^${protocol}\\s+BGP\\s+\\S+\\s+up\\s+(\\d\\d:\\d\\d:\\d\\d\\.\\d+)\\s+Established`, 'm').exec(await birdc('show', 'protocols', protocol));
  return m ? msOfDay(m[1]!) : undefined;
}

/** The latest import time among `protocol`'s routes, ms of day. */
async function lastImport(protocol: string): Promise<number> {
  let last = 0;
  for (const m of (await birdc('show', 'route', 'protocol', protocol)).matchAll(/\[\S+ (\d\d:\d\d:\d\d\.\d+)\]/g)) last = Math.max(last, msOfDay(m[1]!));
  return last;
}

async function waitCount(protocol: string, want: number, what: string): Promise<void> {
  await waitFor(what, WAIT_MS, async () => (await routeCount(protocol)) === want, 10);
}

class Helper {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: Array<(o: Record<string, unknown>) => boolean> = [];
  readonly ups = new Map<string, number>();
  constructor() {
    const script = fileURLToPath(new URL('./bgp-speaker-helper.js', import.meta.url));
    this.child = spawn('ip', ['netns', 'exec', SPEAKER, process.execPath, script], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d) => process.stderr.write(`  helper: ${String(d)}`));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const o = JSON.parse(line) as Record<string, unknown>;
      if (o['event'] === 'up') this.ups.set(String(o['peer']), Number(o['at']));
      const i = this.waiting.findIndex((w) => w(o));
      if (i >= 0) this.waiting.splice(i, 1);
    });
  }
  /** Sends a command; resolves with its answer (stats) or its `done`. */
  send(o: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      let answer: Record<string, unknown> = {};
      this.waiting.push((m) => { if (m['done'] === o['cmd']) { resolve(answer); return true; } if (!('event' in m)) answer = m; return false; });
      this.child.stdin.write(`${JSON.stringify(o)}\n`);
    });
  }
  stop(): Promise<void> {
    this.child.stdin.end();
    return stopPid(this.child.pid!, 3000);
  }
}

async function setUp(): Promise<void> {
  for (const ns of [ROUTER, SPEAKER]) if (netnsExists(ns)) await deleteNetns(ns);
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(join(DIR, 'logs'), { recursive: true });
  for (const ns of [ROUTER, SPEAKER]) {
    await runOk('ip', ['netns', 'add', ns]);
    await runOk('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    await runOk('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  await runOk('ip', ['-n', ROUTER, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', SPEAKER]);
  for (const [ns, addrs] of [[ROUTER, ['192.0.2.1/24', `${ROUTER6}/64`]], [SPEAKER, ['192.0.2.11/24', ...OUR_PEERS.map((p) => `${p.source}/64`), `${GOBGP}/64`]]] as const) {
    for (const a of addrs) await runOk('ip', ['-n', ns, 'addr', 'add', a, 'dev', 'eth0', ...(a.includes(':') ? ['nodad'] : [])]);
    await runOk('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  }
}

export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error('the BGP bench needs root (network namespaces)');
  for (const c of ['bird', 'birdc', 'gobgpd', 'gobgp']) {
    if ((await exec('sh', ['-c', `command -v ${c}`])).code !== 0) throw new Error(`the BGP bench needs ${c} (apt-get install bird2 gobgpd)`);
  }
  const load0 = (await import('node:os')).loadavg();
  let birdPid: number | undefined;
  let gobgpdPid: number | undefined;
  let helper: Helper | undefined;
  try {
    await setUp();
    birdPid = (await startBirdWith(ROUTER, DIR, birdConf())).pid;
    const gobgpd = await startGobgpWith(SPEAKER, DIR, gobgpConf());
    gobgpdPid = gobgpd.pid;
    const nh = Buffer.alloc(16);
    nh.writeUInt32BE(0x20010db8, 0);
    nh.writeUInt16BE(0x21, 14);
    // `gobgp mrt inject` exits before gobgpd has taken the last few hundred paths of its stream (3.10 loses a
    // varying tail), so the file holds the set twice and the injection is repeated until all 10,000 are there.
    const dump = mrtDump(COUNT, nh);
    writeFileSync(join(DIR, 'routes.mrt'), Buffer.concat([dump, dump.subarray(dump.indexOf(Buffer.from([0, 13, 0, 4])) - 4)]));
    await waitFor('GoBGP to hold the 10,000 routes', WAIT_MS, async () => {
      const injected = await gobgp(gobgpd.socket, 'mrt', 'inject', 'global', join(DIR, 'routes.mrt'));
      if (injected.code !== 0) throw new Error(`gobgp mrt inject: ${injected.stderr}`);
      return /Destination: 10000\b/.test((await gobgp(gobgpd.socket, 'global', 'rib', '-a', 'ipv6', 'summary')).stdout);
    }, 1000);

    // 1. Ours: the routes before the session, then the session (the start-up path of the speaker).
    helper = new Helper();
    await helper.send({ cmd: 'config', peers: OUR_PEERS.slice(0, 1) });
    await helper.send({ cmd: 'announce', count: COUNT });
    const oursStart = nowMsOfDay();
    await helper.send({ cmd: 'start' });
    await waitCount('spk1', COUNT, 'BIRD to hold our 10,000 routes');
    const oursEst = (await establishedAt('spk1'))!;
    const oursFull = (await lastImport('spk1')) - oursEst;
    const oursStats = await helper.send({ cmd: 'stats' });
    const oursUpdates = Object.values(oursStats['updates'] as Record<string, number>).reduce((a, b) => a + b, 0);

    // 2. GoBGP: the same set, preloaded; its neighbour enabled.
    const gobgpStart = nowMsOfDay();
    await gobgp(gobgpd.socket, 'neighbor', ROUTER6, 'enable');
    await waitCount('gobgp', COUNT, 'BIRD to hold GoBGP\'s 10,000 routes');
    const gobgpEst = (await establishedAt('gobgp'))!;
    const gobgpFull = (await lastImport('gobgp')) - gobgpEst;
    const neighbour = JSON.parse((await gobgp(gobgpd.socket, 'neighbor', ROUTER6, '-j')).stdout) as { state?: { messages?: { sent?: { update?: number } } } };
    const gobgpUpdates = (neighbour.state?.messages?.sent?.update ?? 0) - 1; // less its End-of-RIB

    // 3. Withdrawal of the 10,000, both; then ours again on the live session.
    let t = Date.now();
    await helper.send({ cmd: 'withdraw' });
    await waitCount('spk1', 0, 'BIRD to drop our 10,000 routes');
    const oursWithdraw = Date.now() - t;
    t = Date.now();
    await gobgp(gobgpd.socket, 'global', 'rib', '-a', 'ipv6', 'del', 'all');
    await waitCount('gobgp', 0, 'BIRD to drop GoBGP\'s 10,000 routes');
    const gobgpWithdraw = Date.now() - t;
    t = Date.now();
    await helper.send({ cmd: 'announce', count: COUNT });
    await waitCount('spk1', COUNT, 'BIRD to hold our 10,000 routes again');
    const oursLive = Date.now() - t;

    // 4. Three sessions with the 10,000 each: the speaker side's RSS.
    await helper.send({ cmd: 'config', peers: OUR_PEERS });
    for (const p of ['spk2', 'spk3']) await waitCount(p, COUNT, `BIRD's ${p} to hold the 10,000 routes`);
    const three = await helper.send({ cmd: 'stats' });
    const load1 = (await import('node:os')).loadavg();
    const note = `load ${load0.map((x) => x.toFixed(1)).join(' ')} → ${load1.map((x) => x.toFixed(1)).join(' ')}`;
    const ms = (x: number) => Math.round(x);
    return [
      { name: `10,000 IPv6 prefixes to BIRD at session start: Established → last imported (BIRD's clock)`, value: ms(oursFull), unit: 'ms', reference: { name: 'GoBGP 3.10, same set, same BIRD', value: ms(gobgpFull) }, note },
      { name: 'UPDATE messages per prefix (10,000 announced)', value: Number((oursUpdates / COUNT).toFixed(4)), unit: 'msgs', reference: { name: 'GoBGP', value: Number((gobgpUpdates / COUNT).toFixed(4)) }, note: `ours ${oursUpdates} UPDATEs, GoBGP ${gobgpUpdates} (+ End-of-RIB each)` },
      { name: 'withdrawal of 10,000 until BIRD holds none (polled every 10 ms)', value: ms(oursWithdraw), unit: 'ms', reference: { name: 'GoBGP `global rib del all` (CLI start included)', value: ms(gobgpWithdraw) } },
      { name: '10,000 Services added on a live session until BIRD holds all (polled)', value: ms(oursLive), unit: 'ms' },
      { name: 'session establishment: start → BIRD Established', value: ms(oursEst - oursStart), unit: 'ms', reference: { name: 'GoBGP: `neighbor enable` → Established', value: ms(gobgpEst - gobgpStart) }, note: 'ours dials at once; GoBGP is dialled by BIRD or dials after its connect-retry' },
      { name: 'speaker-side RSS, 10,000 prefixes on 3 sessions', value: Number(((three['rss'] as number) / 2 ** 20).toFixed(1)), unit: 'MiB', note: `heap ${((three['heap'] as number) / 2 ** 20).toFixed(1)} MiB; one session: RSS ${((oursStats['rss'] as number) / 2 ** 20).toFixed(1)} MiB` },
    ];
  } finally {
    await helper?.stop();
    for (const pid of [gobgpdPid, birdPid]) if (pid !== undefined) await stopPid(pid, 3000);
    for (const ns of [SPEAKER, ROUTER]) if (netnsExists(ns)) await deleteNetns(ns);
  }
}
