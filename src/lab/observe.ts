// Looking at the lab from outside: who announces what (the speakers' metallb_speaker_announced gauges) and what a
// client on the L2 segment gets when it curls a LoadBalancer IP (the kube-proxy stand-in answers with its node).
import { run } from '../testing/cluster/processes.js';
import type { LabNode } from './topology.js';
import { speakerMetrics } from './speakers.js';

/** One `metallb_speaker_announced{service,protocol,node,ip} 1` series. */
export interface Announced { service: string; protocol: string; node: string; ip: string }

/** The announced series with value 1 in a Prometheus text exposition; other lines are ignored. */
export function parseAnnounced(metrics: string): Announced[] {
  const out: Announced[] = [];
  for (const line of metrics.split('\n')) {
    const m = /^metallb_speaker_announced\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!m || Number(m[2]) !== 1) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of m[1]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!.replace(/\\(.)/g, '$1');
    out.push({ service: labels.service ?? '', protocol: labels.protocol ?? '', node: labels.node ?? '', ip: labels.ip ?? '' });
  }
  return out;
}

/** Every announcement of every speaker in the lab (a speaker that does not answer contributes nothing). */
export async function announcements(nodes: readonly LabNode[]): Promise<Announced[]> {
  const all = await Promise.all(nodes.map(async (n) => parseAnnounced(await speakerMetrics(n))));
  return all.flat();
}

/**
 * Nodes announcing `ip`, sorted; only over `protocol` when given (layer 2: exactly one when all is well; bgp: every
 * node with an endpoint).
 */
export function ownersOf(all: readonly Announced[], ip: string, protocol?: string): string[] {
  return [...new Set(all.filter((a) => a.ip === ip && (protocol === undefined || a.protocol === protocol)).map((a) => a.node))].sort();
}

/**
 * One curl from the client namespace to http://ip:port/ (IPv6 bracketed); the body trimmed (the answering
 * node's name), or undefined when it fails.
 */
export async function curlOnce(clientNetns: string, ip: string, port = 80, timeoutSeconds = 2): Promise<string | undefined> {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const result = await run('ip', ['netns', 'exec', clientNetns, 'curl', '-gs', '--max-time', String(timeoutSeconds), `http://${host}:${port}/`]);
  return result.code === 0 ? result.stdout.trim() : undefined;
}
