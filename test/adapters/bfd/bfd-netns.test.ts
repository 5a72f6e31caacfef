/**
 * Real BFD (the speaker's SpeakerBfd, its koffi-attached kernel TTL filter and MetalLB's metrics, in a child process)
 * against BIRD 2 in a namespace pair (documentation range 192.0.2.0/24, namespaces `bfd-<pid>-a|b`):
 * the session comes Up, a TTL-254 packet that would take it Down is dropped by the kernel filter while the same
 * packet at TTL 255 does take it Down, and SIGKILLing BIRD takes our side Down (diag 1, detection time expired);
 * the metallb_bfd_* series follow. Multihop (RFC 5883, port 4784, minimum-ttl 64) against BIRD: Up, TTL 63
 * dropped, TTL 64 accepted.
 * Then the same against FRR 8.4's bfdd (with zebra, as the `frr` user): Up, our AdminDown on close seen by FRR,
 * and SIGKILLing bfdd takes our side Down.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { requirePrerequisite } from '../../../src/testing/cluster/test-cluster.js';
import { encodeControlPacket } from '../../../src/core/bfd/index.js';
import { repoRoot } from '../../conformance/vectors.js';

// Per-run names: other worktrees run this same file concurrently on this machine.
const A = `bfd-${process.pid}-a`;
const B = `bfd-${process.pid}-b`;
const VA = `bfd${process.pid}a`;
const VB = `bfd${process.pid}b`;
const sh = (args: string[]) => spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
const must = (args: string[]) => {
  const r = sh(args);
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const have = (cmd: string) => sh(['sh', '-c', `command -v ${cmd}`]).status === 0;

interface Line { event?: string; peer?: string; from?: string; to?: string; diag?: number; ready?: boolean; stats?: Record<string, { state: string; discriminator: number; packetsIn: number }>; metrics?: string }

/** One sample of a Prometheus text exposition (`name{peer="…"} value`). */
function sample(metrics: string, name: string, peer: string): number | undefined {
  const m = new RegExp(`^${name}\\{peer="${peer.replace(/\./g, '\\.')}"\\} (\\S+)$`, 'm').exec(metrics);
  return m ? Number(m[1]) : undefined;
}

function watch(child: ChildProcess) {
  const lines: Line[] = [];
  const waiters: { pred: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (raw) => {
    let l: Line;
    try { l = JSON.parse(raw) as Line; } catch { return; }
    lines.push(l);
    for (const w of [...waiters]) if (w.pred(l)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(l); }
  });
  const next = (pred: (l: Line) => boolean, timeoutMs: number, what: string) => new Promise<Line>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; saw ${JSON.stringify(lines)}`)), timeoutMs);
    waiters.push({ pred, resolve: (l) => { clearTimeout(timer); resolve(l); } });
  });
  return { lines, next };
}

function cleanup(dir: string, procs: ChildProcess[], namespaces = [A, B]) {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  for (const daemon of ['bird', 'bfdd', 'zebra']) {
    try {
      const pid = Number(readFileSync(join(dir, `${daemon}.pid`), 'utf8'));
      if (pid > 0) process.kill(pid, 'SIGKILL');
    } catch { /* not running */ }
  }
  for (const ns of namespaces) sh(['ip', 'netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
}

/** Two namespaces joined by a veth pair: `a` 192.0.2.1/24, `b` 192.0.2.2/24. */
function namespacePair(a: string, b: string, va: string, vb: string) {
  for (const ns of [a, b]) { sh(['ip', 'netns', 'del', ns]); must(['ip', 'netns', 'add', ns]); must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']); }
  must(['ip', 'link', 'add', va, 'netns', a, 'type', 'veth', 'peer', 'name', vb, 'netns', b]);
  must(['ip', '-n', a, 'addr', 'add', '192.0.2.1/24', 'dev', va]);
  must(['ip', '-n', b, 'addr', 'add', '192.0.2.2/24', 'dev', vb]);
  must(['ip', '-n', a, 'link', 'set', va, 'up']);
  must(['ip', '-n', b, 'link', 'set', vb, 'up']);
}

function startChild(ns: string, extra: Record<string, string> = {}) {
  return spawn('ip', ['netns', 'exec', ns, process.execPath, join(repoRoot, 'dist/src/testing/bfd-child.js')], {
    env: { ...process.env, BFD_PEERS: '192.0.2.2', BFD_TX_MS: '100', BFD_RX_MS: '100', BFD_MULT: '3', ...extra },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

test('BFD with BIRD 2: Up, a TTL-254 packet dropped by the kernel, BIRD killed → Down by detection time', { timeout: 120_000 }, async (t: TestContext) => {
  const missing = ['ip', 'bird', 'birdc'].filter((c) => !have(c));
  const root = process.getuid?.() === 0;
  if (!requirePrerequisite(t, missing.length === 0 && root, `needs root and ${missing.join(', ') || 'nothing else'} for the BFD namespace test`)) return;
  const dir = mkdtempSync(join(tmpdir(), 'bfd-'));
  const procs: ChildProcess[] = [];
  try {
    namespacePair(A, B, VA, VB);
    writeFileSync(join(dir, 'bird.conf'), [
      'router id 192.0.2.2;',
      'protocol device {}',
      'protocol bfd {',
      `  interface "${VB}" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };`,
      `  neighbor 192.0.2.1 dev "${VB}";`,
      '}',
    ].join('\n'));
    must(['ip', 'netns', 'exec', B, 'bird', '-c', join(dir, 'bird.conf'), '-s', join(dir, 'bird.ctl'), '-P', join(dir, 'bird.pid')]);

    const child = startChild(A);
    procs.push(child);
    const w = watch(child);
    await w.next((l) => l.ready === true, 15_000, 'the child to be ready');
    await w.next((l) => l.event === 'state' && l.to === 'Up', 20_000, 'our session Up');
    const birdSays = () => sh(['birdc', '-s', join(dir, 'bird.ctl'), 'show', 'bfd', 'sessions']).stdout;
    for (let i = 0; i < 50 && !/192\.0\.2\.1\s+\S+\s+Up/.test(birdSays()); i++) await new Promise((r) => setTimeout(r, 200));
    assert.match(birdSays(), /192\.0\.2\.1\s+\S+\s+Up/, 'BIRD sees the session Up');

    const scrape = async () => {
      child.stdin!.write('{"op":"stats"}\n');
      return w.next((l) => l.stats !== undefined, 5_000, 'stats');
    };
    const stats = async () => (await scrape()).stats!['192.0.2.2']!;
    const ours = await stats();
    const m0 = (await scrape()).metrics!;
    assert.equal(sample(m0, 'metallb_bfd_session_up', '192.0.2.2'), 1, m0);
    assert.ok(sample(m0, 'metallb_bfd_control_packet_input', '192.0.2.2')! > 0, m0);
    assert.ok(sample(m0, 'metallb_bfd_control_packet_output', '192.0.2.2')! > 0, m0);
    assert.equal(sample(m0, 'metallb_bfd_session_up_events', '192.0.2.2'), 1, m0);
    assert.equal(sample(m0, 'metallb_bfd_session_down_events', '192.0.2.2'), 0, m0);
    assert.equal(sample(m0, 'metallb_bfd_echo_packet_input', '192.0.2.2'), 0, m0);
    assert.equal(sample(m0, 'metallb_bfd_echo_packet_output', '192.0.2.2'), 0, m0);
    // An AdminDown packet naming our session, from BIRD's address: accepted, it takes us Down (diag 3).
    const adminDown = encodeControlPacket({
      diag: 7, state: 'AdminDown', poll: false, final: false, controlPlaneIndependent: false, demand: false, detectMult: 3,
      myDiscriminator: 0x0bad0bad, yourDiscriminator: ours.discriminator, desiredMinTxIntervalUs: 1_000_000, requiredMinRxIntervalUs: 1_000_000, requiredMinEchoRxIntervalUs: 0,
    }).toString('hex');
    const inject = (ttl: number) => must(['ip', 'netns', 'exec', B, process.execPath, '-e', `
      const s = require('node:dgram').createSocket('udp4');
      s.bind(50000 + ${ttl}, '192.0.2.2', () => { s.setTTL(${ttl}); s.send(Buffer.from('${adminDown}', 'hex'), 3784, '192.0.2.1', () => s.close()); });`]);
    const before = w.lines.filter((l) => l.event === 'state').length;
    for (let i = 0; i < 3; i++) inject(254);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(w.lines.filter((l) => l.event === 'state').length, before, `a TTL-254 packet changed our state: ${JSON.stringify(w.lines.slice(before))}`);
    assert.equal((await stats()).state, 'Up');
    // Control: the very same packet at TTL 255 is accepted and takes the session Down with diag 3.
    inject(255);
    const down = await w.next((l) => l.event === 'state' && l.from === 'Up', 5_000, 'the TTL-255 AdminDown to take us Down');
    assert.deepEqual([down.to, down.diag], ['Down', 3]);
    await w.next((l) => l.event === 'state' && l.to === 'Up', 20_000, 'the session Up again with BIRD');
    const m1 = (await scrape()).metrics!;
    assert.equal(sample(m1, 'metallb_bfd_session_down_events', '192.0.2.2'), 1, m1);
    assert.equal(sample(m1, 'metallb_bfd_session_up_events', '192.0.2.2'), 2, m1);

    // Kill BIRD: no more packets, so our detection time (3 × 100 ms) expires.
    const birdPid = Number(readFileSync(join(dir, 'bird.pid'), 'utf8'));
    const killedAt = Date.now();
    process.kill(birdPid, 'SIGKILL');
    const expired = await w.next((l) => l.event === 'state' && l.from === 'Up', 10_000, 'our session Down after BIRD died');
    t.diagnostic(`BIRD SIGKILL → our session Down in ${Date.now() - killedAt} ms (detection time 300 ms)`);
    assert.deepEqual([expired.to, expired.diag], ['Down', 1]);
    child.stdin!.write('{"op":"close"}\n');
    await w.next((l) => (l as { closed?: boolean }).closed === true, 5_000, 'the child to close');
  } finally {
    cleanup(dir, procs);
  }
});

test('multihop BFD with BIRD 2 (RFC 5883, port 4784): Up; minimum-ttl 64 drops TTL 63 and accepts TTL 64', { timeout: 120_000 }, async (t: TestContext) => {
  const missing = ['ip', 'bird', 'birdc'].filter((c) => !have(c));
  if (!requirePrerequisite(t, missing.length === 0 && process.getuid?.() === 0, `needs root and ${missing.join(', ') || 'nothing else'} for the BFD namespace test`)) return;
  const [MA, MB, MVA, MVB] = [`bfd-${process.pid}-ma`, `bfd-${process.pid}-mb`, `bfd${process.pid}ma`, `bfd${process.pid}mb`];
  const dir = mkdtempSync(join(tmpdir(), 'bfd-mh-'));
  const procs: ChildProcess[] = [];
  try {
    namespacePair(MA, MB, MVA, MVB);
    writeFileSync(join(dir, 'bird.conf'), [
      'router id 192.0.2.2;', 'protocol device {}', 'protocol bfd {',
      '  multihop { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };',
      '  neighbor 192.0.2.1 local 192.0.2.2 multihop;', '}',
    ].join('\n'));
    must(['ip', 'netns', 'exec', MB, 'bird', '-c', join(dir, 'bird.conf'), '-s', join(dir, 'bird.ctl'), '-P', join(dir, 'bird.pid')]);
    // BIRD sends multihop packets with the system's default TTL (64), not 255: MetalLB's default minimum-ttl
    // (254) would drop them all, so this profile says 64 (docs/design/bfd.md).
    const child = startChild(MA, { BFD_MULTIHOP: '1', BFD_MIN_TTL: '64' });
    procs.push(child);
    const w = watch(child);
    await w.next((l) => l.ready === true, 15_000, 'the child to be ready');
    await w.next((l) => l.event === 'state' && l.to === 'Up', 20_000, 'our multihop session Up');
    child.stdin!.write('{"op":"stats"}\n');
    const ours = (await w.next((l) => l.stats !== undefined, 5_000, 'stats')).stats!['192.0.2.2']!;
    const adminDown = encodeControlPacket({
      diag: 7, state: 'AdminDown', poll: false, final: false, controlPlaneIndependent: false, demand: false, detectMult: 3,
      myDiscriminator: 0x0bad0bad, yourDiscriminator: ours.discriminator, desiredMinTxIntervalUs: 1_000_000, requiredMinRxIntervalUs: 1_000_000, requiredMinEchoRxIntervalUs: 0,
    }).toString('hex');
    const inject = (ttl: number) => must(['ip', 'netns', 'exec', MB, process.execPath, '-e', `
      const s = require('node:dgram').createSocket('udp4');
      s.bind(50000 + ${ttl}, '192.0.2.2', () => { s.setTTL(${ttl}); s.send(Buffer.from('${adminDown}', 'hex'), 4784, '192.0.2.1', () => s.close()); });`]);
    const before = w.lines.filter((l) => l.event === 'state').length;
    for (let i = 0; i < 3; i++) inject(63);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(w.lines.filter((l) => l.event === 'state').length, before, `a TTL-63 packet changed our state: ${JSON.stringify(w.lines.slice(before))}`);
    inject(64);
    const down = await w.next((l) => l.event === 'state' && l.from === 'Up', 5_000, 'the TTL-64 AdminDown to take us Down');
    assert.deepEqual([down.to, down.diag], ['Down', 3]);
    await w.next((l) => l.event === 'state' && l.to === 'Up', 20_000, 'the multihop session Up again with BIRD');
  } finally {
    cleanup(dir, procs, [MA, MB]);
  }
});

test('BFD with FRR bfdd: Up, our AdminDown on close reaches FRR, bfdd killed → Down by detection time', { timeout: 120_000 }, async (t: TestContext) => {
  const missing = ['ip', 'vtysh'].filter((c) => !have(c));
  const frr = '/usr/lib/frr';
  const root = process.getuid?.() === 0;
  const ok = missing.length === 0 && root && sh(['test', '-x', `${frr}/bfdd`]).status === 0 && sh(['id', 'frr']).status === 0;
  if (!requirePrerequisite(t, ok, `needs root, FRR's bfdd and zebra, the frr user, and ${missing.join(', ') || 'nothing else'}`)) return;
  const [FA, FB, FVA, FVB] = [`bfd-${process.pid}-fa`, `bfd-${process.pid}-fb`, `bfd${process.pid}fa`, `bfd${process.pid}fb`];
  const dir = mkdtempSync(join(tmpdir(), 'bfd-frr-'));
  const procs: ChildProcess[] = [];
  try {
    namespacePair(FA, FB, FVA, FVB);
    writeFileSync(join(dir, 'zebra.conf'), 'hostname z\n');
    writeFileSync(join(dir, 'bfdd.conf'), [
      'hostname b', 'bfd', ` peer 192.0.2.1 interface ${FVB}`, '  receive-interval 100', '  transmit-interval 100',
      '  detect-multiplier 3', ' !', '!', '',
    ].join('\n'));
    // FRR drops to the frr user (it refuses root without the vty group): it must own its state directory.
    must(['chown', '-R', 'frr:frr', dir]);
    const daemon = (name: string) => must(['ip', 'netns', 'exec', FB, `${frr}/${name}`, '-d', '-u', 'frr', '-g', 'frr',
      '-f', join(dir, `${name}.conf`), '-i', join(dir, `${name}.pid`), '-z', join(dir, 'zserv.api'), '--vty_socket', dir, '-P', '0']);
    daemon('zebra');
    daemon('bfdd');
    const peers = () => sh(['ip', 'netns', 'exec', FB, 'vtysh', '--vty_socket', dir, '-c', 'show bfd peers']).stdout;

    const child = startChild(FA);
    procs.push(child);
    const w = watch(child);
    await w.next((l) => l.ready === true, 15_000, 'the child to be ready');
    await w.next((l) => l.event === 'state' && l.to === 'Up', 30_000, 'our session Up with FRR');
    for (let i = 0; i < 50 && !/Status: up/.test(peers()); i++) await new Promise((r) => setTimeout(r, 200));
    assert.match(peers(), /Status: up/, `FRR sees the session up: ${peers()}`);
    assert.match(peers(), /Echo receive interval: disabled/, 'we advertise no Echo (Required Min Echo RX 0)');

    // Kill bfdd: our side goes Down by its detection time.
    const killedAt = Date.now();
    process.kill(Number(readFileSync(join(dir, 'bfdd.pid'), 'utf8')), 'SIGKILL');
    const expired = await w.next((l) => l.event === 'state' && l.from === 'Up', 10_000, 'our session Down after bfdd died');
    t.diagnostic(`bfdd SIGKILL → our session Down in ${Date.now() - killedAt} ms (detection time 300 ms)`);
    assert.deepEqual([expired.to, expired.diag], ['Down', 1]);

    // bfdd back: Up again; then closing our side sends AdminDown, which FRR reports as the remote diagnostic.
    daemon('bfdd');
    await w.next((l) => l.event === 'state' && l.to === 'Up', 30_000, 'our session Up again after bfdd restarted');
    child.stdin!.write('{"op":"close"}\n');
    await w.next((l) => (l as { closed?: boolean }).closed === true, 5_000, 'the child to close');
    for (let i = 0; i < 50 && !/Remote diagnostics: administratively down/.test(peers()); i++) await new Promise((r) => setTimeout(r, 200));
    assert.match(peers(), /Status: down[\s\S]*Remote diagnostics: administratively down/, `FRR after our close: ${peers()}`);
  } finally {
    cleanup(dir, procs, [FA, FB]);
  }
});
