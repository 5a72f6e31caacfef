/**
 * The responder host: a child process that owns every `cap` capture of the announcer and answers ARP/NDP
 * itself (so answers never wait on IPC). It exists because `cap` aborts the whole process (a C assert in its
 * poll callback) when a captured interface goes down or is deleted — which happens every time a Pod's veth
 * goes away. Isolated here, such an abort only costs a restart of this process (announcer.ts respawns it and
 * replays its state); the speaker keeps running.
 *
 * IPC (JSON over the fork channel). In: {t:'sync',specs} {t:'owned',ips} (the whole set, on a (re)start and after a
 * mute) {t:'own',add,remove} (a change) {t:'burst',ip} {t:'probe',ips} {t:'alive'} (the speaker's heartbeat) {t:'close'}.
 * Out: {t:'ready'} {t:'log',level,fields} {t:'report',answered,unanswered,gratuitous,probes,claims,stats} (coalesced,
 * at most every 50 ms; claims: the distinct (ip, mac, interface) seen since the last report) {t:'muted',silentMs}.
 *
 * Watchdog (issue 11, src/core/layer2/responder-watchdog.ts): argv[2] is the mute threshold in ms. When the speaker
 * has sent nothing for that long (its main loop frozen: gossip has declared the node dead and a successor answers for
 * its IPs) this host stops answering — owned set emptied, no bursts, probes or claims, captures kept open — logs
 * `responderMuted` itself (the speaker, frozen, cannot relay it) and tells the speaker `muted`; it answers again on
 * the next full owned-set sync, which the speaker sends (with a burst per owned IP) once it reads that.
 */
import { createJsonLogger } from '../log/json-logger.js';
import { openCapture } from './pcap.js';
import { ResponderSet } from './responder-set.js';
import type { ResponderSpec } from './responder-set.js';
import { check, heard, startWatchdog, RESPONDER_HEARTBEAT_MS, RESPONDER_MUTE_AFTER_MS } from '../../core/layer2/responder-watchdog.js';

type In = { t: 'sync'; specs: ResponderSpec[] } | { t: 'owned'; ips: string[] } | { t: 'own'; add: string[]; remove: string[] }
  | { t: 'burst'; ip: string } | { t: 'probe'; ips: string[] } | { t: 'alive' } | { t: 'close' };

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

const muteAfterMs = Number(process.argv[2]) > 0 ? Number(process.argv[2]) : RESPONDER_MUTE_AFTER_MS;
let watchdog = startWatchdog(performance.now());
const log = createJsonLogger({ level: 'info', bindings: { component: 'layer2' } });

// Checked after the poll phase (setImmediate): heartbeats that reached the pipe while this host was stalled itself
// are read before the verdict.
const watch = setInterval(() => setImmediate(() => {
  const r = check(watchdog, performance.now(), muteAfterMs);
  watchdog = r.watchdog;
  if (!r.mute) return;
  const owned = set.ownedCount();
  set.setOwned([]);
  log.warn({ op: 'layer2', event: 'responderMuted', silentMs: Math.round(r.silentMs), muteAfterMs, owned,
    msg: 'speaker main loop silent (frozen or stalled; gossip has declared this node dead): stopped answering ARP/NDP until it resyncs' });
  send({ t: 'muted', silentMs: Math.round(r.silentMs) });
}), RESPONDER_HEARTBEAT_MS);
watch.unref();

process.on('message', (m: In) => {
  const h = heard(watchdog, performance.now(), m.t === 'alive' || m.t === 'owned' ? m.t : 'other');
  watchdog = h.watchdog;
  if (h.unmute) send({ t: 'log', level: 'info', fields: { op: 'layer2', event: 'responderUnmuted', owned: m.t === 'owned' ? m.ips.length : 0, msg: 'speaker main loop back: answering ARP/NDP again for what it owns now' } });
  const muted = watchdog.muted;
  switch (m.t) {
    case 'alive': break;
    case 'sync': set.sync(m.specs); report(); break;
    case 'owned': set.setOwned(m.ips); break;
    // Muted, the owned set stays empty: the full sync that unmutes carries every change made meanwhile.
    case 'own': if (!muted) set.updateOwned(m.add, m.remove); break;
    case 'burst': { if (muted) break; const n = set.burst(m.ip); if (n > 0) bump(gratuitous, m.ip, n); report(); break; }
    case 'probe': if (!muted) { probes += set.probe(m.ips); report(); } break;
    case 'close':
      clearInterval(watch);
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
