/**
 * Issue 11: false failovers under CPU starvation. The real lab (three speakers gossiping on 7946 with the DaemonSet's
 * env, the controller, the demo Service) runs for SOAK_MS (default 10 minutes) while a load generator keeps both
 * cores busy (one busy-looping process per core, on top of whatever else the machine runs). Nothing fails, so
 * every change is false:
 * - false failovers: samples (every 250 ms) where the VIP's owner set is not the owner found at the start;
 *   counted as episodes (a run of bad samples is one);
 * - false deaths: `memberFailed` lines in the speakers' logs (a live node declared dead);
 * - false suspicions that reached their target: `refuted` lines (a speaker refuted a suspicion of itself);
 * - the largest Lifeguard local health seen (metallb_speaker_memberlist_local_health: probes slowed by 1 + it).
 * Env: SOAK_MS, SOAK_LOAD_PROCS (default: one per core), METALLB_TS_SOAK_BENCH_PREFIX (netns prefix, `mlsk-`).
 * Needs root. `npm run bench -- soak`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { topologyNames } from '../src/lab/topology.js';
import { announcements, ownersOf } from '../src/lab/observe.js';
import { speakerMetrics } from '../src/lab/speakers.js';
import { labCli, waitSettled, type Lab } from '../src/testing/failover/lab-faults.js';
import type { BenchResult } from './types.js';

const PREFIX = process.env['METALLB_TS_SOAK_BENCH_PREFIX'] ?? 'mlsk-';
const SOAK_MS = Number(process.env['SOAK_MS'] ?? 600_000);
const LOAD_PROCS = Number(process.env['SOAK_LOAD_PROCS'] ?? os.cpus().length);
const VIP = '192.0.2.100';

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

function countLines(file: string, event: string): number {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.includes(`"event":"${event}"`)).length;
  } catch { return 0; }
}

export async function run(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) throw new Error('the soak bench needs root (ip netns)');
  const lab: Lab = { dir: join(os.tmpdir(), `metallb-ts-${PREFIX}bench`), prefix: PREFIX };
  await labCli(lab, ['down']);
  const up = await labCli(lab, ['up']);
  const load: ChildProcess[] = [];
  try {
    if (up.code !== 0) throw new Error(`lab up failed: ${up.output.slice(-500)}`);
    const { nodes, client } = topologyNames(PREFIX);
    const owner = await waitSettled(nodes, client, VIP, 120_000);
    const logs = nodes.map((n) => join(lab.dir, 'logs', `speaker-${n.name}.log`));
    const before = { failed: logs.reduce((s, f) => s + countLines(f, 'memberFailed'), 0), refuted: logs.reduce((s, f) => s + countLines(f, 'refuted'), 0) };
    const loadStart = loadavg();
    for (let i = 0; i < LOAD_PROCS; i++) load.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
    let samples = 0;
    let bad = 0;
    let episodes = 0;
    let inEpisode = false;
    let maxHealth = 0;
    const end = Date.now() + SOAK_MS;
    while (Date.now() < end) {
      const owners = ownersOf(await announcements(nodes), VIP);
      samples++;
      const ok = owners.length === 1 && owners[0] === owner.name;
      if (!ok) { bad++; if (!inEpisode) episodes++; }
      inEpisode = !ok;
      if (samples % 8 === 0) {
        for (const m of await Promise.all(nodes.map((n) => speakerMetrics(n)))) {
          const h = /^metallb_speaker_memberlist_local_health\s+(\S+)/m.exec(m);
          if (h) maxHealth = Math.max(maxHealth, Number(h[1]));
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const loadEnd = loadavg();
    for (const p of load) p.kill('SIGKILL');
    load.length = 0;
    const failed = logs.reduce((s, f) => s + countLines(f, 'memberFailed'), 0) - before.failed;
    const refuted = logs.reduce((s, f) => s + countLines(f, 'refuted'), 0) - before.refuted;
    const note = `${(SOAK_MS / 60_000).toFixed(1)} min, ${LOAD_PROCS} busy-loop processes on ${os.cpus().length} cores; load average ${loadStart} → ${loadEnd}`;
    return [
      { name: 'false failovers (episodes where the VIP owner set changed)', value: episodes, unit: 'count', note: `${bad} of ${samples} samples (every 250 ms) not the one owner; ${note}` },
      { name: 'false deaths declared (memberFailed, all speakers)', value: failed, unit: 'count', note },
      { name: 'false suspicions refuted (refuted, all speakers)', value: refuted, unit: 'count', note: 'each is a live speaker suspected by a peer and clearing itself' },
      { name: 'largest Lifeguard local health seen', value: maxHealth, unit: '', note: 'probe interval and timeout are multiplied by 1 + this' },
    ];
  } finally {
    for (const p of load) p.kill('SIGKILL');
    await labCli(lab, ['down']);
    rmSync(lab.dir, { recursive: true, force: true });
  }
}
