/**
 * Per-node packet and byte counters of the failure-detection traffic in the lab, with nftables (its own table
 * `inet mlts_count`, so the faults' `iptables -F` never resets it): gossip (UDP and TCP port 7946, ours and
 * MetalLB v0.11's) and VRRP (IP protocol 112, keepalived). Bytes are IP packet lengths (IP header included).
 */
import { runOk } from '../cluster/processes.js';
import type { LabNode } from '../../lab/topology.js';

const TABLE = 'mlts_count';
const RULES = ['udp-in', 'udp-out', 'tcp-in', 'tcp-out', 'vrrp-in', 'vrrp-out'] as const;
export type CounterName = typeof RULES[number];
export type Counters = Record<CounterName, { packets: number; bytes: number }>;

const SCRIPT = `table inet ${TABLE} {
  chain in { type filter hook input priority -400; policy accept;
    udp dport 7946 counter comment "udp-in"
    tcp dport 7946 counter comment "tcp-in"
    tcp sport 7946 counter comment "tcp-in"
    ip protocol vrrp counter comment "vrrp-in"
  }
  chain out { type filter hook output priority -400; policy accept;
    udp sport 7946 counter comment "udp-out"
    tcp dport 7946 counter comment "tcp-out"
    tcp sport 7946 counter comment "tcp-out"
    ip protocol vrrp counter comment "vrrp-out"
  }
}
`;

/** Installs (or resets) the counters in `node`'s namespace. */
export async function installCounters(node: LabNode): Promise<void> {
  await runOk('ip', ['netns', 'exec', node.netns, 'nft', '-f', '-'], { input: `table inet ${TABLE}\ndelete table inet ${TABLE}\n${SCRIPT}` });
}

export async function removeCounters(node: LabNode): Promise<void> {
  await runOk('ip', ['netns', 'exec', node.netns, 'nft', '-f', '-'], { input: `table inet ${TABLE}\ndelete table inet ${TABLE}\n` });
}

/** The counters' current values in `node`'s namespace (summed per name). */
export async function readCounters(node: LabNode): Promise<Counters> {
  const json = JSON.parse(await runOk('ip', ['netns', 'exec', node.netns, 'nft', '-j', 'list', 'table', 'inet', TABLE])) as
    { nftables: Array<{ rule?: { comment?: string; expr?: Array<{ counter?: { packets: number; bytes: number } }> } }> };
  const out = Object.fromEntries(RULES.map((r) => [r, { packets: 0, bytes: 0 }])) as Counters;
  for (const item of json.nftables) {
    const name = item.rule?.comment as CounterName | undefined;
    const counter = item.rule?.expr?.find((e) => e.counter)?.counter;
    if (name && counter && out[name]) { out[name].packets += counter.packets; out[name].bytes += counter.bytes; }
  }
  return out;
}

export interface TrafficRate { node: string; txPps: number; rxPps: number; txBps: number; rxBps: number; tcpBps: number }

/** Packets and bytes per second per node over `windowMs` for `proto` (gossip: UDP 7946; TCP 7946 apart; or VRRP). */
export async function measureTraffic(nodes: readonly LabNode[], proto: 'gossip' | 'vrrp', windowMs: number): Promise<TrafficRate[]> {
  const before = await Promise.all(nodes.map(readCounters));
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const after = await Promise.all(nodes.map(readCounters));
  const s = (Date.now() - t0) / 1000;
  const [inName, outName]: [CounterName, CounterName] = proto === 'gossip' ? ['udp-in', 'udp-out'] : ['vrrp-in', 'vrrp-out'];
  return nodes.map((n, i) => {
    const d = (k: CounterName, f: 'packets' | 'bytes') => after[i]![k][f] - before[i]![k][f];
    return {
      node: n.name, txPps: d(outName, 'packets') / s, rxPps: d(inName, 'packets') / s, txBps: d(outName, 'bytes') / s, rxBps: d(inName, 'bytes') / s,
      tcpBps: proto === 'gossip' ? (d('tcp-in', 'bytes') + d('tcp-out', 'bytes')) / s : 0,
    };
  });
}

/** One line: per node tx/rx packets per second and bytes per second. */
export function trafficText(rates: readonly TrafficRate[]): string {
  const r = (x: number) => Math.round(x * 10) / 10;
  return rates.map((t) => `${t.node} tx ${r(t.txPps)} pkt/s ${Math.round(t.txBps)} B/s, rx ${r(t.rxPps)} pkt/s ${Math.round(t.rxBps)} B/s${t.tcpBps ? `, TCP sync ${Math.round(t.tcpBps)} B/s` : ''}`).join('; ');
}
