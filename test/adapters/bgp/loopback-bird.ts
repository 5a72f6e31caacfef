/**
 * A BIRD 2 on loopback for the BGP adapter tests (session-bird, session-md5-bird): one passive `protocol bgp mts`
 * (AS 64513) listening on `listen` at a free port for our session from `source` (AS 64512), with the families,
 * password and graceful-restart setting a test asks for. Traffic stays on loopback.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const haveBird = spawnSync('bird', ['--version']).status === 0;

export interface LoopbackBirdOptions {
  readonly listen: string;
  readonly source: string;
  readonly families: readonly (4 | 6)[];
  readonly password?: string | undefined;
  readonly gracefulRestart?: boolean | undefined;
  /** Keep BIRD's log in its dir (bird.log). */
  readonly log?: boolean | undefined;
}

export interface LoopbackBird {
  readonly port: number;
  birdc(...args: string[]): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls probe every 100 ms until it gives a value other than undefined (30 s by default). */
export async function eventually<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts BIRD in the foreground (a child of the test) and waits for its control socket. */
export async function startLoopbackBird(o: LoopbackBirdOptions): Promise<LoopbackBird> {
  const dir = mkdtempSync(join(tmpdir(), 'bgpt-'));
  const ctl = join(dir, 'bird.ctl');
  const port = await freePort();
  writeFileSync(join(dir, 'bird.conf'), [
    'router id 192.0.2.254;',
    ...(o.log ? [`log "${join(dir, 'bird.log')}" all;`] : []),
    'protocol device { }',
    'protocol bgp mts {',
    `  local ${o.listen} port ${port} as 64513;`,
    `  neighbor ${o.source} as 64512;`,
    '  passive on;', '  multihop;', '  hold time 9;',
    ...(o.gracefulRestart ? ['  graceful restart on;'] : []),
    ...(o.password !== undefined ? [`  password "${o.password}";`] : []),
    ...o.families.map((f) => `  ipv${f} { import all; export none; };`),
    '}', '',
  ].join('\n'));
  const bird: ChildProcess = spawn('bird', ['-f', '-c', join(dir, 'bird.conf'), '-s', ctl, '-P', join(dir, 'bird.pid')], { stdio: 'ignore' });
  const exited = new Promise((r) => bird.once('exit', r));
  const stop = async () => {
    bird.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually('BIRD control socket', () => (existsSync(ctl) ? true : undefined));
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, birdc: (...args) => spawnSync('birdc', ['-s', ctl, ...args], { encoding: 'utf8' }).stdout, stop };
}
