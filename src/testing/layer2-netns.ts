/**
 * Helpers for layer-2 tests and benches in network namespaces: a layer-2 announcer in a child process inside a
 * namespace (src/testing/layer2-announcer-child.ts), and tcpdump running in a namespace until stopped.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const childMain = join(dirname(fileURLToPath(import.meta.url)), 'layer2-announcer-child.js');

export interface AnnouncerStats {
  interfaces: Array<{ name: string; arp: boolean; ndp: boolean; bufferBytes: number }>;
  ringBytes: number;
  owned: string[];
  drops: Record<string, number>;
  replies: number;
  hostStarts: number;
}

/** A layer-2 announcer running in `netns`, restricted to `interfaces`. */
export class AnnouncerProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, (r: { ok: boolean; result?: unknown; error?: string }) => void>();
  private nextId = 1;
  private readyResolve!: () => void;
  private readonly ready = new Promise<void>((r) => { this.readyResolve = r; });
  /** Everything the child logged (JSON lines). */
  stderr = '';
  exited = false;

  readonly netns: string;

  private constructor(netns: string, interfaces: readonly string[], logLevel: string) {
    this.netns = netns;
    this.child = spawn('ip', ['netns', 'exec', netns, process.execPath, childMain], {
      env: { ...process.env, L2_INTERFACES: interfaces.join(','), L2_LOG_LEVEL: logLevel }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr.on('data', (d) => { this.stderr += String(d); });
    this.child.on('exit', () => {
      this.exited = true;
      for (const resolve of this.pending.values()) resolve({ ok: false, error: `announcer in ${netns} exited: ${this.stderr.slice(-2000)}` });
      this.pending.clear();
      this.readyResolve();
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as { ready?: boolean; id?: number; ok: boolean; result?: unknown; error?: string; level?: string };
      if (msg.ready) { this.readyResolve(); return; }
      // The responder host writes the lines its parent cannot relay (responderMuted) to its inherited stdout.
      if (msg.id === undefined && msg.level !== undefined) { this.stderr += `${line}\n`; return; }
      const resolve = msg.id === undefined ? undefined : this.pending.get(msg.id);
      if (resolve) { this.pending.delete(msg.id!); resolve(msg); }
    });
  }

  /** Starts it and waits until its responders are open. */
  static async start(netns: string, interfaces: readonly string[] = ['eth0'], logLevel = 'info'): Promise<AnnouncerProcess> {
    const p = new AnnouncerProcess(netns, interfaces, logLevel);
    await p.ready;
    if (p.exited) throw new Error(`announcer in ${netns} did not start: ${p.stderr.slice(-2000)}`);
    return p;
  }

  private call(op: string, extra: Record<string, unknown> = {}): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error(`announcer in ${this.netns} has exited: ${this.stderr.slice(-2000)}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (r) => (r.ok ? resolve(r.result) : reject(new Error(r.error))));
      this.child.stdin.write(`${JSON.stringify({ id, op, ...extra })}\n`);
    });
  }

  setBalancer(name: string, ips: readonly string[]): Promise<unknown> { return this.call('set', { name, ips }); }
  deleteBalancer(name: string): Promise<unknown> { return this.call('delete', { name }); }
  stats(): Promise<AnnouncerStats> { return this.call('stats') as Promise<AnnouncerStats>; }
  metrics(): Promise<string> { return this.call('metrics') as Promise<string>; }

  /** Sends the announcer process a signal (SIGSTOP / SIGCONT: a frozen speaker, issue 11). */
  signal(sig: NodeJS.Signals): void { this.child.kill(sig); }

  /** Closes the announcer and waits for the process to end (SIGKILL after 5 s). */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => { if (this.exited) r(); else this.child.once('exit', () => r()); });
    this.call('close').catch(() => {});
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}

/** tcpdump in a namespace, printing one line per packet (`-l`), until stop(). */
export class Tcpdump {
  private readonly child: ChildProcessWithoutNullStreams;
  output = '';
  private readonly closed: Promise<void>;
  private constructor(netns: string, args: readonly string[]) {
    this.child = spawn('ip', ['netns', 'exec', netns, 'tcpdump', '-l', '-n', '--immediate-mode', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d) => { this.output += String(d); });
    this.closed = new Promise<void>((r) => this.child.once('close', () => r()));
  }

  /** Starts tcpdump and waits for "listening on" (so no packet sent afterwards is missed). */
  static async start(netns: string, args: readonly string[]): Promise<Tcpdump> {
    const t = new Tcpdump(netns, args);
    await new Promise<void>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 20_000);
      t.child.stderr.on('data', (d) => { err += String(d); if (err.includes('listening on')) { clearTimeout(timer); resolve(); } });
      t.child.once('exit', () => { clearTimeout(timer); reject(new Error(`tcpdump exited: ${err}`)); });
    });
    return t;
  }

  /** Stops it (SIGINT flushes) and returns everything it printed. */
  async stop(): Promise<string> {
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.closed;
    clearTimeout(timer);
    return this.output;
  }
}
