/**
 * Reads what the environment checks (src/core/speaker/env-checks.ts) need from the current network namespace:
 * interface names (/sys/class/net), which interfaces answer ARP or NDP (src/adapters/layer2/interfaces.ts, spec
 * §5.2) and the IPv4 ARP sysctls /proc/sys/net/ipv4/conf/{all,<if>}/{arp_ignore,arp_announce} (integers; both are
 * per network namespace). Never throws: an unreadable value is undefined, an unreadable directory an empty list.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ArpSysctls, StrictArpInput } from '../../core/speaker/env-checks.js';
import { scanInterfaces, type InterfaceScan } from '../layer2/interfaces.js';

const SYS_NET = '/sys/class/net';
const CONF = '/proc/sys/net/ipv4/conf';

function readInt(path: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** arp_ignore and arp_announce of conf/<name> (`all`, `default` or an interface). */
export function readArpSysctls(name: string): ArpSysctls {
  return { arpIgnore: readInt(`${CONF}/${name}/arp_ignore`), arpAnnounce: readInt(`${CONF}/${name}/arp_announce`) };
}

/** Every interface name of this network namespace, sorted. */
export function interfaceNames(): string[] {
  try { return readdirSync(SYS_NET).sort(); } catch { return []; }
}

/** What the strict-ARP check needs, read now; `scan` is the layer-2 interface scan (read once per round). */
export function readStrictArpInput(scan: InterfaceScan = scanInterfaces()): StrictArpInput {
  return {
    interfaces: interfaceNames(),
    arpInterfaces: scan.interfaces.filter((i) => i.arp).map((i) => ({ name: i.name, ...readArpSysctls(i.name) })),
    all: readArpSysctls('all'),
  };
}
