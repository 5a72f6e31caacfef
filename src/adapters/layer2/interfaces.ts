/**
 * Interface discovery by MetalLB v0.11's rules (spec §5.2), read from /sys/class/net and /proc/net/if_inet6
 * of the current network namespace. One unreadable interface is reported and skipped; it never aborts the
 * scan (v0.11's does abort: spec §12 #13).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { qualifyInterface, type InterfaceScan, type Layer2Interface } from '../../core/layer2/interfaces.js';

export type { InterfaceScan, Layer2Interface };


const SYS = '/sys/class/net';

/** Interface names with an IPv6 link-local address (scope 0x20 in /proc/net/if_inet6). */
function linkLocalInterfaces(): Set<string> {
  const out = new Set<string>();
  let text = '';
  try { text = readFileSync('/proc/net/if_inet6', 'utf8'); } catch { return out; } // IPv6 disabled
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 6 && f[0]!.startsWith('fe80') && f[3] === '20') out.add(f[5]!);
  }
  return out;
}

/** Scans the interfaces of this network namespace. */
export function scanInterfaces(): InterfaceScan {
  const interfaces: Layer2Interface[] = [];
  const errors: Array<{ name: string; error: string }> = [];
  let names: string[];
  try { names = readdirSync(SYS).sort(); } catch (err) { return { interfaces, errors: [{ name: SYS, error: (err as Error).message }] }; }
  const linkLocal = linkLocalInterfaces();
  for (const name of names) {
    try {
      const flags = parseInt(readFileSync(`${SYS}/${name}/flags`, 'utf8').trim(), 16);
      const mac = readFileSync(`${SYS}/${name}/address`, 'utf8').trim();
      const q = qualifyInterface({ flags, enslaved: existsSync(`${SYS}/${name}/master`), hasLinkLocal: linkLocal.has(name), mac });
      if (q.arp || q.ndp) interfaces.push({ name, mac, ...q });
    } catch (err) {
      errors.push({ name, error: (err as Error).message });
    }
  }
  return { interfaces, errors };
}
