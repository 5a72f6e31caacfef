/**
 * Passive mode (`--bgp-listen`) against a real BIRD 2 on loopback: the announcer never dials; BIRD (127.0.0.3)
 * dials our listener (127.0.0.1, a free port), the session establishes and BIRD gets the Service's prefix. A
 * connection from an address that is no configured peer (127.0.0.4) is closed at once with a log line, and so
 * is a second connection from the peer while its session has one. Traffic stays on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realClock } from '../../../src/adapters/clock.js';
import { BgpAnnouncer } from '../../../src/adapters/bgp/announcer.js';
import { startBgpListener } from '../../../src/adapters/bgp/listener.js';
import { NOOP_BGP_METRICS } from '../../../src/adapters/bgp/metrics.js';
import { parseConfig } from '../../../src/core/config/parse.js';
import type { LogFields, Logger } from '../../../src/core/ports.js';
import { requirePrerequisite } from '../../../src/testing/cluster/test-cluster.js';
import { freePort, waitFor } from '../../../src/testing/cluster/processes.js';

const haveBird = spawnSync('bird', ['--version']).status === 0;

/** A logger that keeps every line (with its level). */
function recordingLogger(lines: Array<LogFields & { level: string }>): Logger {
  const at = (level: string, bound: LogFields): Logger => ({
    debug: (f) => lines.push({ ...bound, ...f, level: 'debug' }), info: (f) => lines.push({ ...bound, ...f, level: 'info' }),
    warn: (f) => lines.push({ ...bound, ...f, level: 'warn' }), error: (f) => lines.push({ ...bound, ...f, level: 'error' }),
    child: (b) => at(level, { ...bound, ...b }),
  });
  return at('info', {});
}

/** Connects from `localAddress`; resolves with the bytes received before the speaker closed the connection. */
function connectUntilClosed(port: number, localAddress: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: '127.0.0.1', port, localAddress });
    s.on('data', (d) => chunks.push(d));
    s.on('error', () => { /* a reset is a close too */ });
    s.on('close', () => resolve(Buffer.concat(chunks)));
    setTimeout(() => { s.destroy(); reject(new Error(`the connection from ${localAddress} was not closed within 20 s`)); }, 20_000).unref();
  });
}

test('passive mode: BIRD dials the listener and gets the prefix; unknown sources and a second connection are closed', async (t) => {
  if (!requirePrerequisite(t, haveBird && process.getuid?.() === 0, 'needs bird (BIRD 2) and root')) return;
  const dir = mkdtempSync(join(tmpdir(), 'bgpp-'));
  const ctl = join(dir, 'bird.ctl');
  const [port, birdPort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'bird.conf'), `
router id 192.0.2.254;
protocol device { }
protocol bgp dialer {
  local 127.0.0.3 port ${birdPort} as 64512;
  neighbor 127.0.0.1 port ${port} as 64513;
  multihop;
  hold time 9;
  connect delay time 1; connect retry time 1; error wait time 1, 2;
  ipv4 { import all; export none; };
}
`);
  const lines: Array<LogFields & { level: string }> = [];
  const logger = recordingLogger(lines);
  const parsed = parseConfig([
    'peers:', '- peer-address: 127.0.0.3', '  peer-asn: 64512', '  my-asn: 64513', '  hold-time: 9s',
    'address-pools:', '- name: lab', '  protocol: bgp', '  addresses:', '  - 198.51.100.0/24',
  ].join('\n'));
  assert.ok(parsed.ok);
  const announcer = new BgpAnnouncer({ nodeName: 'node1', logger, metrics: NOOP_BGP_METRICS, clock: realClock, gracefulRestartSeconds: 0, passive: true });
  const listener = await startBgpListener({ host: '127.0.0.1', port, logger, onConnection: (s) => announcer.acceptConnection(s) });
  announcer.setConfig(parsed.config);
  announcer.setBalancer('default/demo', { protocol: 'bgp', ips: ['198.51.100.7'], pool: 'lab' });
  announcer.synced();
  const bird: ChildProcess = spawn('bird', ['-f', '-c', join(dir, 'bird.conf'), '-s', ctl, '-P', join(dir, 'bird.pid')], { stdio: 'ignore' });
  const birdc = (...args: string[]) => spawnSync('birdc', ['-s', ctl, ...args], { encoding: 'utf8' }).stdout;
  try {
    // An address that is no configured peer: closed before a byte is sent, with a warning.
    assert.equal((await connectUntilClosed(port, '127.0.0.4')).length, 0, 'no OPEN for an unknown source');
    assert.ok(lines.some((l) => l.level === 'warn' && l['op'] === 'accept' && l['peer'] === '127.0.0.4'), JSON.stringify(lines));

    await waitFor('BIRD control socket', 10_000, () => existsSync(ctl), 100);
    await waitFor('BIRD to dial in and reach Established', 60_000, () => /dialer\s+BGP\s+\S+\s+up\s+\S+\s+Established/.test(birdc('show', 'protocols')), 200);
    await waitFor('the prefix at BIRD', 30_000, () => birdc('show', 'route', 'protocol', 'dialer').includes('198.51.100.7/32'), 200);
    const route = birdc('show', 'route', 'all', '198.51.100.7/32');
    assert.match(route, /BGP\.as_path: 64513/);
    assert.match(route, /BGP\.next_hop: 127\.0\.0\.1/);
    // The session runs over BIRD's connection to our listening port (we never dialled: passive).
    const ss = spawnSync('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' }).stdout;
    assert.match(ss, new RegExp(`127\\.0\\.0\\.1:${port}\\s+127\\.0\\.0\\.3:\\d+`), ss);

    // A second connection from the peer's own address while its session has one: closed, the session kept.
    const since = /dialer\s+BGP\s+\S+\s+up\s+(\S+)/.exec(birdc('show', 'protocols'))?.[1];
    assert.equal((await connectUntilClosed(port, '127.0.0.3')).length, 0);
    assert.ok(lines.some((l) => l['op'] === 'accept' && /second BGP connection/.test(String(l['msg']))), JSON.stringify(lines));
    assert.equal(/dialer\s+BGP\s+\S+\s+up\s+(\S+)/.exec(birdc('show', 'protocols'))?.[1], since, 'no session reset');
  } finally {
    announcer.close(false);
    await listener.close();
    if (bird.exitCode === null && bird.signalCode === null) {
      bird.kill('SIGTERM');
      await new Promise((r) => bird.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
