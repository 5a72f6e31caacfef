/**
 * Issue 12: BFD for the native BGP speaker in the real lab — time from a fault (the node's link cut at the fabric
 * bridge) to the router's kernel dropping that node's path, with the lab's BIRD router and profiles 100 ms × 3 and
 * 300 ms × 3 (`lab up --config` / `lab config` with examples/lab-bgp-bfd.yaml's intervals rewritten).
 *
 * Same run, the reference: BIRD↔FRR BFD with the same profile — FRR 8.4 (zebra, bgpd, bfdd) in an extra namespace
 * on the same bridge (192.0.2.20, AS 64513) announcing 198.51.100.250/32 to the same BIRD, its link cut the same
 * way. Both are measured by polling `ip route show` in the router's namespace, so the ratio compares like with like.
 *
 * Then the false-down soak: BFD_SOAK_SECONDS (600) at 100 ms × 3 with two busy loops keeping both cores busy; the
 * figure is the increase of metallb_bfd_session_down_events over the three speakers (goal 0).
 *
 * Env: BFD_TRIALS (20), BFD_SOAK_SECONDS (600; 0 skips), METALLB_TS_BFD_BENCH_PREFIX (netns prefix, `bfb-`). Needs root,
 * BIRD and FRR. `npm run bench -- bfd`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchResult } from './types.js';

const PREFIX = process.env['METALLB_TS_BFD_BENCH_PREFIX'] ?? 'bfb-';
const TRIALS = Number(process.env['BFD_TRIALS'] ?? 20);
const SOAK_SECONDS = Number(process.env['BFD_SOAK_SECONDS'] ?? 600);
const DIR = join(tmpdir(), `metallb-ts-lab-${PREFIX}bench`);
const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const LAB = join(ROOT, 'dist', 'src', 'lab', 'main.js');
const REF_IP = '192.0.2.20';
const REF_PREFIX = '198.51.100.250';
const ROUTER = `${PREFIX}router`;
const FABRIC = `${PREFIX}fabric`;
const REF_NS = `${PREFIX}ref`;
const FRR_DIR = join(DIR, 'ref-frr');

const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' });
const must = (cmd: string, args: string[]) => {
  const r = sh(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
function lab(...args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LAB, ...args], { env: { ...process.env, METALLB_TS_LAB_DIR: DIR, METALLB_TS_LAB_PREFIX: PREFIX }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += String(d); });
    child.stderr.on('data', (d) => { output += String(d); });
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** The lab config with the profile's intervals (ms) and multiplier. */
function configFor(intervalMs: number, multiplier: number): string {
  const text = readFileSync(join(ROOT, 'examples', 'lab-bgp-bfd.yaml'), 'utf8')
    .replace(/receive-interval: \d+/, `receive-interval: ${intervalMs}`).replace(/transmit-interval: \d+/, `transmit-interval: ${intervalMs}`)
    .replace(/detect-multiplier: \d+/, `detect-multiplier: ${multiplier}`);
  const file = join(DIR, `bfd-${intervalMs}x${multiplier}.yaml`);
  writeFileSync(file, text);
  return file;
}

const nextHops = (ip: string) => [...sh('ip', ['-n', ROUTER, 'route', 'show', ip]).stdout.matchAll(/(?:nexthop )?via (\S+)/g)].map((m) => m[1]!).sort();

async function until(what: string, timeoutMs: number, probe: () => boolean): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Cuts `port` at the fabric and returns ms until `gone()` holds (polled as fast as `ip` runs); restores the link. */
async function trial(port: string, gone: () => boolean, back: () => boolean): Promise<number> {
  const t0 = performance.now();
  must('ip', ['-n', FABRIC, 'link', 'set', port, 'down']);
  while (!gone()) {
    if (performance.now() - t0 > 30_000) throw new Error(`${port}: the router kept the path for 30 s`);
  }
  const ms = performance.now() - t0;
  must('ip', ['-n', FABRIC, 'link', 'set', port, 'up']);
  await until(`${port} back in the router's route`, 60_000, back);
  await sleep(1000);
  return ms;
}

/** FRR in its own namespace on the fabric, peering with BIRD with BFD at the profile's timers. */
function startReference(intervalMs: number, multiplier: number): void {
  mkdirSync(FRR_DIR, { recursive: true });
  if (!existsSync(`/run/netns/${REF_NS}`)) {
    must('ip', ['netns', 'add', REF_NS]);
    must('ip', ['-n', REF_NS, 'link', 'set', 'lo', 'up']);
    must('ip', ['-n', FABRIC, 'link', 'add', 'p-ref', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', REF_NS]);
    must('ip', ['-n', FABRIC, 'link', 'set', 'p-ref', 'master', 'br0', 'up']);
    must('ip', ['-n', REF_NS, 'addr', 'add', `${REF_IP}/24`, 'dev', 'eth0']);
    must('ip', ['-n', REF_NS, 'link', 'set', 'eth0', 'up']);
  }
  stopReference();
  writeFileSync(join(FRR_DIR, 'zebra.conf'), 'hostname ref\n');
  writeFileSync(join(FRR_DIR, 'bfdd.conf'), ['hostname ref', 'bfd', ' profile ref', `  receive-interval ${intervalMs}`, `  transmit-interval ${intervalMs}`, `  detect-multiplier ${multiplier}`, ' !', '!', ''].join('\n'));
  writeFileSync(join(FRR_DIR, 'bgpd.conf'), ['hostname ref', 'router bgp 64513', ` bgp router-id ${REF_IP}`, ' no bgp ebgp-requires-policy', ' no bgp network import-check',
    ' neighbor 192.0.2.1 remote-as 64512', ' neighbor 192.0.2.1 timers 3 9', ' neighbor 192.0.2.1 timers connect 1', ' neighbor 192.0.2.1 bfd profile ref',
    ' address-family ipv4 unicast', `  network ${REF_PREFIX}/32`, ' exit-address-family', '!', ''].join('\n'));
  chmodSync(DIR, 0o755);
  must('chown', ['-R', 'frr:frr', FRR_DIR]);
  for (const d of ['zebra', 'bfdd', 'bgpd']) {
    must('ip', ['netns', 'exec', REF_NS, `/usr/lib/frr/${d}`, '-d', '-f', join(FRR_DIR, `${d}.conf`), '-i', join(FRR_DIR, `${d}.pid`),
      '--vty_socket', FRR_DIR, '-P', '0', '-z', join(FRR_DIR, 'zserv.api'), '-u', 'frr', '-g', 'frr']);
  }
  // BIRD's side: one more BGP protocol with BFD at the same timers (bird.conf is the lab's; appended, reloaded).
  const conf = join(DIR, 'bird.conf');
  writeFileSync(conf, readFileSync(conf, 'utf8').replace(/\nprotocol bgp ref .*\n/, '\n') + `protocol bgp ref from speakers { neighbor ${REF_IP} as 64513; local as 64512; hold time 9; keepalive time 3; bfd on; bfd { min rx interval ${intervalMs} ms; min tx interval ${intervalMs} ms; multiplier ${multiplier}; }; ipv4 { import all; export none; }; }\n`);
  must('birdc', ['-s', join(DIR, 'bird.ctl'), 'configure']);
}

function stopReference(): void {
  for (const d of ['bgpd', 'bfdd', 'zebra']) {
    try {
      const pid = Number(readFileSync(join(FRR_DIR, `${d}.pid`), 'utf8'));
      if (pid > 0) process.kill(pid, 'SIGKILL');
    } catch { /* not running */ }
    rmSync(join(FRR_DIR, `${d}.pid`), { force: true });
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
const p95 = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(0.95 * xs.length) - 1]!;

function downEvents(): number {
  let total = 0;
  for (const n of [1, 2, 3]) {
    const text = sh('ip', ['netns', 'exec', `${PREFIX}node${n}`, 'curl', '-s', '--max-time', '5', `http://192.0.2.1${n}:7472/metrics`]).stdout;
    for (const m of text.matchAll(/^metallb_bfd_session_down_events\{[^}]*\} (\S+)$/gm)) total += Number(m[1]);
  }
  return total;
}

export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) return [{ name: 'bfd', value: 0, unit: 'skipped', note: 'needs root (ip netns)' }];
  const load = () => sh('cat', ['/proc/loadavg']).stdout.split(' ').slice(0, 3).join(' ');
  const loadStart = load();
  const results: BenchResult[] = [];
  await lab('down');
  mkdirSync(DIR, { recursive: true });
  const up = await lab('up', '--config', configFor(100, 3));
  if (up.code !== 0) throw new Error(`lab up: ${up.output}`);
  const demo = /EXTERNAL-IP[\s\S]*?(198\.51\.100\.\d+)/.exec(up.output)?.[1] ?? '198.51.100.1';
  const busy: ChildProcess[] = [];
  try {
    for (const [interval, mult] of [[100, 3], [300, 3]] as const) {
      if (interval !== 100) {
        const switched = await lab('config', configFor(interval, mult));
        if (switched.code !== 0) throw new Error(`lab config: ${switched.output}`);
      }
      startReference(interval, mult);
      await until('3-way route to the demo', 120_000, () => nextHops(demo).length === 3);
      await until('the reference prefix at BIRD', 120_000, () => nextHops(REF_PREFIX).join() === REF_IP);
      await sleep(2000);
      const ours: number[] = [];
      const ref: number[] = [];
      for (let i = 0; i < TRIALS; i++) {
        ours.push(await trial('p-node1', () => !nextHops(demo).includes('192.0.2.11'), () => nextHops(demo).length === 3));
        ref.push(await trial('p-ref', () => nextHops(REF_PREFIX).length === 0, () => nextHops(REF_PREFIX).join() === REF_IP));
      }
      const profile = `${interval} ms × ${mult}`;
      const note = `median of ${TRIALS} link cuts; p95 ours ${p95(ours).toFixed(0)} ms, BIRD↔FRR ${p95(ref).toFixed(0)} ms; max ours ${Math.max(...ours).toFixed(0)} ms`;
      results.push({ name: `link cut → router kernel drops the path, ${profile}`, value: Math.round(median(ours)), unit: 'ms',
        reference: { name: 'BIRD↔FRR BFD', value: Math.round(median(ref)) }, note });
      stopReference();
    }
    if (SOAK_SECONDS > 0) {
      const switched = await lab('config', configFor(100, 3));
      if (switched.code !== 0) throw new Error(`lab config: ${switched.output}`);
      await until('3-way route to the demo', 120_000, () => nextHops(demo).length === 3);
      await sleep(5000);
      const before = downEvents();
      for (let i = 0; i < 2; i++) busy.push(spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
      await sleep(SOAK_SECONDS * 1000);
      for (const b of busy) b.kill('SIGKILL');
      const after = downEvents();
      results.push({ name: `false BFD downs in ${SOAK_SECONDS} s at 100 ms × 3, both cores busy`, value: after - before, unit: 'downs',
        note: `three speakers × two sessions; load ${loadStart} at start, ${load()} at end` });
    }
  } finally {
    for (const b of busy) b.kill('SIGKILL');
    stopReference();
    sh('ip', ['netns', 'del', REF_NS]);
    await lab('down');
    rmSync(DIR, { recursive: true, force: true });
  }
  results[0] = { ...results[0]!, note: `${results[0]!.note}; load ${loadStart} at start, ${load()} at end` };
  return results;
}
