/**
 * Layer-2 answers on the wire, in network namespaces (the lab topology under the prefix `l2b-`, or METALLB_TS_LAB_PREFIX), measured with
 * tcpdump timestamps in the client namespace. Three responders answer in the same run: our announcer (node2,
 * 192.0.2.100, responder host process), the bare `cap` responder of FINDINGS §3 (node3, 192.0.2.101,
 * layer2-bare-responder-helper.ts), the kernel answering for its own address (node1, 192.0.2.11), and a second
 * bare responder (node1, 192.0.2.102) as an A/A control of the noise between two equal responders.
 * - Latency (request sent → reply received) p50/p99 at 10 ms and 1 s request intervals, targets interleaved.
 * - Replies/requests at 1k, 5k and 10k requests/s and in bursts of 256, for the announcer and the bare responder,
 *   sent by a cap-based sender (layer2-sender-helper.ts) that numbers each request in its sender MAC.
 * Needs root, tcpdump and cap.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchResult } from './types.js';
import { buildTopology, deleteNetns, netnsPids, topologyNames } from '../src/lab/topology.js';
import { run as runCommand, runOk } from '../src/testing/cluster/processes.js';
import { AnnouncerProcess } from '../src/testing/layer2-netns.js';

const here = dirname(fileURLToPath(import.meta.url));
// METALLB_TS_LAB_PREFIX lets concurrent runs use their own namespaces.
const PREFIX = process.env['METALLB_TS_LAB_PREFIX'] ?? 'l2b-';
const names = topologyNames(PREFIX);
const OURS = '192.0.2.100';
const BARE = '192.0.2.101';
const KERNEL = '192.0.2.11';
/** A second bare responder (node1, beside the kernel): an A/A control that shows the noise between two equal responders. */
const BARE2 = '192.0.2.102';

async function capture(dir: string, label: string, body: () => Promise<void>): Promise<{ lines: string[]; dropped: number }> {
  const file = join(dir, `${label.replace(/[^A-Za-z0-9.-]+/g, "_")}.pcap`);
  const dump = spawn('ip', ['netns', 'exec', names.client, 'tcpdump', '-i', 'eth0', '-n', '-B', '65536', '--immediate-mode', '-w', file, 'arp'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tcpdump: ${err}`)), 20_000);
    dump.stderr.on('data', (d) => { err += String(d); if (err.includes('listening on')) { clearTimeout(t); resolve(); } });
  });
  await body();
  await sleep(300);
  const closed = new Promise((r) => dump.once('close', r));
  dump.kill('SIGINT');
  await closed;
  const dropped = Number(/(\d+) packets dropped by kernel/.exec(err)?.[1] ?? 0);
  const text = await runOk('tcpdump', ['-r', file, '-tt', '-n', '-e']);
  return { lines: text.split('\n'), dropped };
}

interface Exchange { target: string; sentAt?: number; repliedAt?: number }

/** Pairs requests and replies by the sequence number in the requester MAC (02:bb:ss:ss:ss:ss). */
function pair(lines: string[]): Map<string, Exchange> {
  const bySeq = new Map<string, Exchange>();
  for (const l of lines) {
    const req = /^(\d+\.\d+) 02:bb:(\S+) > ff:ff:ff:ff:ff:ff.*Request who-has (\S+) tell/.exec(l);
    if (req) { bySeq.set(req[2]!, { ...(bySeq.get(req[2]!) ?? {}), target: req[3]!, sentAt: Number(req[1]) }); continue; }
    const rep = /^(\d+\.\d+) \S+ > 02:bb:(\S+),.*Reply (\S+) is-at/.exec(l);
    if (rep) {
      const e = bySeq.get(rep[2]!) ?? { target: rep[3]! };
      if (e.repliedAt === undefined) e.repliedAt = Number(rep[1]);
      bySeq.set(rep[2]!, e);
    }
  }
  return bySeq;
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN; };
const us = (x: number) => Math.round(x * 10) / 10;

async function sender(args: string[], seq: number): Promise<number> {
  const out = await runOk('ip', ['netns', 'exec', names.client, process.execPath, join(here, 'layer2-sender-helper.js'), 'eth0', ...args], { env: { ...process.env, SEQ: String(seq) }, timeoutMs: 300_000 });
  return Number(out.trim());
}

async function cleanup(): Promise<void> {
  for (const ns of [...names.all].reverse()) {
    for (const pid of await netnsPids(ns)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    await deleteNetns(ns);
  }
}

export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces)');
  if ((await runCommand('tcpdump', ['--version'])).code !== 0) throw new Error('needs tcpdump');
  const dir = mkdtempSync(join(tmpdir(), 'l2bench-'));
  const results: BenchResult[] = [];
  await cleanup();
  let announcer: AnnouncerProcess | undefined;
  try {
    await buildTopology(PREFIX, () => {});
    const [node1, node2, node3] = names.nodes as [typeof names.nodes[0], typeof names.nodes[0], typeof names.nodes[0]];
    announcer = await AnnouncerProcess.start(node2.netns, ['eth0'], 'info');
    await announcer.setBalancer('bench', [OURS]);
    const bareOn = (node: typeof node1, ip: string) => spawn('ip', ['netns', 'exec', node.netns, process.execPath, join(here, 'layer2-bare-responder-helper.js'), 'eth0', node.mac, ip], { stdio: ['ignore', 'pipe', 'inherit'] });
    const bare = bareOn(node3, BARE);
    const bare2 = bareOn(node1, BARE2);
    await Promise.all([bare, bare2].map((p) => new Promise<void>((resolve) => p.stdout.once('data', () => resolve()))));
    await sleep(6000); // let the gratuitous bursts end
    let seq = 0;

    for (const [intervalMs, rounds] of [[10, 1000], [1000, 40]] as const) {
      const { lines, dropped } = await capture(dir, `latency-${intervalMs}`, async () => { seq += await sender(['latency', String(intervalMs), String(rounds), OURS, BARE, KERNEL, BARE2], seq); });
      const ex = [...pair(lines).values()];
      const lat = (t: string) => ex.filter((e) => e.target === t && e.sentAt !== undefined && e.repliedAt !== undefined).map((e) => (e.repliedAt! - e.sentAt!) * 1e6);
      const [o, b, k, b2] = [lat(OURS), lat(BARE), lat(KERNEL), lat(BARE2)];
      const note = `n=${o.length}/${b.length}/${k.length}/${b2.length} of ${rounds} (ours/bare/kernel/bare2); kernel p50 ${us(pct(k, 50))} µs, p99 ${us(pct(k, 99))} µs; `
        + `A/A control, second bare responder p50 ${us(pct(b2, 50))} µs, p99 ${us(pct(b2, 99))} µs; tcpdump drops ${dropped}`;
      results.push({ name: `ARP reply latency p50, ${intervalMs} ms interval (announcer)`, value: us(pct(o, 50)), unit: 'µs', reference: { name: 'bare cap responder p50', value: us(pct(b, 50)) }, note });
      results.push({ name: `ARP reply latency p99, ${intervalMs} ms interval (announcer)`, value: us(pct(o, 99)), unit: 'µs', reference: { name: 'bare cap responder p99', value: us(pct(b, 99)) }, note });
      results.push({ name: `ARP reply latency p50, ${intervalMs} ms interval (announcer vs kernel)`, value: us(pct(o, 50)), unit: 'µs', reference: { name: 'kernel, own address, p50', value: us(pct(k, 50)) } });
      results.push({ name: `ARP reply latency p50, ${intervalMs} ms interval (A/A: second bare responder)`, value: us(pct(b2, 50)), unit: 'µs', reference: { name: 'bare cap responder p50', value: us(pct(b, 50)) }, note: 'the noise between two equal responders' });
    }

    const ratio = async (label: string, args: (target: string) => string[]) => {
      const out: Record<string, { sent: number; replied: number; dropped: number }> = {};
      for (const target of [OURS, BARE]) {
        let sent = 0;
        const { lines, dropped } = await capture(dir, `${label}-${target}`, async () => { sent = await sender(args(target), seq); seq += sent; });
        const replied = [...pair(lines).values()].filter((e) => e.target === target && e.repliedAt !== undefined).length;
        out[target] = { sent, replied, dropped };
      }
      const o = out[OURS]!; const b = out[BARE]!;
      results.push({
        name: `replies/requests, ${label} (announcer)`, value: Math.round((o.replied / o.sent) * 10000) / 100, unit: '%',
        reference: { name: 'bare cap responder', value: Math.round((b.replied / b.sent) * 10000) / 100 },
        note: `announcer ${o.replied}/${o.sent}, bare ${b.replied}/${b.sent}; tcpdump drops ${o.dropped}/${b.dropped}`,
      });
    };
    for (const rate of [1000, 5000, 10000]) await ratio(`${rate}/s for 3 s`, (t) => ['rate', String(rate), '3', t]);
    await ratio('bursts of 256 (20 bursts, 100 ms apart)', (t) => ['burst', '256', '20', '100', t]);

    const s = await announcer.stats();
    results.push({ name: 'announcer capture ring (1 interface)', value: s.ringBytes, unit: 'bytes', note: `responder host starts ${s.hostStarts}; drops ${JSON.stringify(s.drops)}` });
    bare.kill('SIGKILL');
    bare2.kill('SIGKILL');
  } finally {
    await announcer?.stop().catch(() => {});
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}


