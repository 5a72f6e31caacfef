/**
 * Real BFD against BIRD 2 in a namespace pair (documentation range 192.0.2.0/24, namespaces `bfd-<pid>-a|b`):
 * the session comes Up, a TTL-254 packet that would take it Down is dropped by the kernel filter while the same
 * packet at TTL 255 does take it Down, and SIGKILLing BIRD takes our side Down (diag 1, detection time expired).
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

interface Line { event?: string; peer?: string; from?: string; to?: string; diag?: number; ready?: boolean; stats?: Record<string, { state: string; discriminator: number; packetsIn: number }> }

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

function cleanup(dir: string, procs: ChildProcess[]) {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  try {
    const pid = Number(readFileSync(join(dir, 'bird.pid'), 'utf8'));
    if (pid > 0) process.kill(pid, 'SIGKILL');
  } catch { /* not running */ }
  for (const ns of [A, B]) sh(['ip', 'netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
}

test('BFD with BIRD 2: Up, a TTL-254 packet dropped by the kernel, BIRD killed → Down by detection time', { timeout: 120_000 }, async (t: TestContext) => {
  const missing = ['ip', 'bird', 'birdc', 'python3'].filter((c) => !have(c));
  const root = process.getuid?.() === 0;
  if (!requirePrerequisite(t, missing.length === 0 && root, `needs root and ${missing.join(', ') || 'nothing else'} for the BFD namespace test`)) return;
  const dir = mkdtempSync(join(tmpdir(), 'bfd-'));
  const procs: ChildProcess[] = [];
  try {
    for (const ns of [A, B]) { sh(['ip', 'netns', 'del', ns]); must(['ip', 'netns', 'add', ns]); must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']); }
    must(['ip', 'link', 'add', VA, 'netns', A, 'type', 'veth', 'peer', 'name', VB, 'netns', B]);
    must(['ip', '-n', A, 'addr', 'add', '192.0.2.1/24', 'dev', VA]);
    must(['ip', '-n', B, 'addr', 'add', '192.0.2.2/24', 'dev', VB]);
    must(['ip', '-n', A, 'link', 'set', VA, 'up']);
    must(['ip', '-n', B, 'link', 'set', VB, 'up']);
    writeFileSync(join(dir, 'bird.conf'), [
      'router id 192.0.2.2;',
      'protocol device {}',
      'protocol bfd {',
      `  interface "${VB}" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };`,
      `  neighbor 192.0.2.1 dev "${VB}";`,
      '}',
    ].join('\n'));
    must(['ip', 'netns', 'exec', B, 'bird', '-c', join(dir, 'bird.conf'), '-s', join(dir, 'bird.ctl'), '-P', join(dir, 'bird.pid')]);

    const child = spawn('ip', ['netns', 'exec', A, process.execPath, join(repoRoot, 'dist/src/testing/bfd-child.js')], {
      env: { ...process.env, BFD_LOCAL: '192.0.2.1', BFD_PEERS: '192.0.2.2', BFD_TX_MS: '100', BFD_RX_MS: '100', BFD_MULT: '3' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    procs.push(child);
    const w = watch(child);
    await w.next((l) => l.ready === true, 15_000, 'the child to be ready');
    await w.next((l) => l.event === 'state' && l.to === 'Up', 20_000, 'our session Up');
    const birdSays = () => sh(['birdc', '-s', join(dir, 'bird.ctl'), 'show', 'bfd', 'sessions']).stdout;
    for (let i = 0; i < 50 && !/192\.0\.2\.1\s+\S+\s+Up/.test(birdSays()); i++) await new Promise((r) => setTimeout(r, 200));
    assert.match(birdSays(), /192\.0\.2\.1\s+\S+\s+Up/, 'BIRD sees the session Up');

    const stats = async () => {
      child.stdin!.write('{"op":"stats"}\n');
      return (await w.next((l) => l.stats !== undefined, 5_000, 'stats')).stats!['192.0.2.2']!;
    };
    const ours = await stats();
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
