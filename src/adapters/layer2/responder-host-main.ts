/**
 * The responder host: a child process that owns every `cap` capture of the announcer and answers ARP/NDP
 * itself (so answers never wait on IPC). It exists because `cap` aborts the whole process (a C assert in its
 * poll callback) when a captured interface goes down or is deleted — which happens every time a Pod's veth
 * goes away. Isolated here, such an abort only costs a restart of this process (announcer.ts respawns it and
 * replays its state); the speaker keeps running.
 *
 * IPC (JSON over the fork channel). In: {t:'sync',specs} {t:'owned',ips} (the whole set, on a (re)start)
 * {t:'own',add,remove} (a change) {t:'burst',ip} {t:'probe',ips} {t:'close'}.
 * Out: {t:'ready'} {t:'log',level,fields} {t:'report',answered,unanswered,gratuitous,probes,claims,stats} (coalesced,
 * at most every 50 ms; claims: the distinct (ip, mac, interface) seen since the last report).
 */
import { openCapture } from './pcap.js';
import { ResponderSet } from './responder-set.js';
import type { ResponderSpec } from './responder-set.js';

type In = { t: 'sync'; specs: ResponderSpec[] } | { t: 'owned'; ips: string[] } | { t: 'own'; add: string[]; remove: string[] }
  | { t: 'burst'; ip: string } | { t: 'probe'; ips: string[] } | { t: 'close' };

const DEBUG = process.env['METALLB_TS_LAYER2_DEBUG'] === '1';
const send = (m: unknown) => { if (process.connected) process.send!(m); };
let answered: Record<string, number> = {};
let unanswered: Record<string, number> = {};
let gratuitous: Record<string, number> = {};
let probes = 0;
let claims = new Map<string, { ip: string; mac: string; interface: string }>();
let reportTimer: NodeJS.Timeout | undefined;
const bump = (m: Record<string, number>, ip: string, n = 1) => { m[ip] = (m[ip] ?? 0) + n; };

function report(): void {
  reportTimer ??= setTimeout(() => {
    reportTimer = undefined;
    send({ t: 'report', answered, unanswered, gratuitous, probes, claims: [...claims.values()], stats: set.stats() });
    answered = {}; unanswered = {}; gratuitous = {}; probes = 0; claims = new Map();
  }, 50);
}

const set = new ResponderSet(openCapture, {
  // Per-request debug lines would cost an IPC message per answer; they cross only when asked for.
  log: (level, fields) => { if (level !== 'debug' || DEBUG) send({ t: 'log', level, fields }); },
  answered: (ip) => { bump(answered, ip); report(); },
  unanswered: (ip) => { bump(unanswered, ip); report(); },
  dropped: () => report(),
  claimed: (c) => { claims.set(`${c.ip} ${c.mac} ${c.interface}`, c); report(); },
});

process.on('message', (m: In) => {
  switch (m.t) {
    case 'sync': set.sync(m.specs); report(); break;
    case 'owned': set.setOwned(m.ips); break;
    case 'own': set.updateOwned(m.add, m.remove); break;
    case 'burst': { const n = set.burst(m.ip); if (n > 0) bump(gratuitous, m.ip, n); report(); break; }
    case 'probe': probes += set.probe(m.ips); report(); break;
    case 'close':
      set.close();
      if (reportTimer) { clearTimeout(reportTimer); reportTimer = undefined; }
      send({ t: 'report', answered, unanswered, gratuitous, probes, claims: [...claims.values()], stats: set.stats() });
      process.disconnect();
      break;
  }
});
// The parent went away without saying so: stop answering at once.
process.on('disconnect', () => { set.close(); process.exit(0); });
send({ t: 'ready' });
