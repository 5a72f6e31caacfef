/**
 * Datagrams the kernel dropped before the gossip socket could read them: the `drops` column of the socket's row in
 * /proc/self/net/udp (udp6 for an IPv6 bind address), counted when the socket's receive buffer is full. A busy
 * event loop or a flood shows up here and nowhere else: our own drop reasons only see frames we read. The row is
 * found by the bind address and port, which only the gossip socket holds in the speaker's network namespace.
 */
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { endianness } from 'node:os';

/**
 * The `drops` of the row bound to `addr`:`port` in the text of /proc/net/udp or /proc/net/udp6
 * (proc(5): `sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer
 * drops`; addresses as 32-bit words in host byte order, hex). Undefined when no row matches.
 */
export function socketDropsIn(text: string, addr: string, port: number, littleEndian = endianness() === 'LE'): number | undefined {
  const want = `${procAddress(addr, littleEndian)}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] !== want) continue;
    const drops = Number(fields[12]);
    return Number.isFinite(drops) ? drops : undefined;
  }
  return undefined;
}

/** The kernel's drops for this process's UDP socket on `addr`:`port` now; undefined without /proc or the row. */
export function socketDrops(addr: string, port: number): number | undefined {
  try {
    return socketDropsIn(readFileSync(isIPv4(addr) ? '/proc/self/net/udp' : '/proc/self/net/udp6', 'utf8'), addr, port);
  } catch {
    return undefined;
  }
}

/** `addr` as /proc/net/udp{,6} prints it: each 4-byte word of the address in host order, upper-case hex. */
function procAddress(addr: string, littleEndian: boolean): string {
  const bytes = isIPv4(addr) ? addr.split('.').map(Number) : ipv6Bytes(addr);
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    const word = bytes.slice(i, i + 4);
    if (littleEndian) word.reverse();
    out += word.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');
  }
  return out;
}

function ipv6Bytes(addr: string): number[] {
  const [head = '', tail] = addr.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return all.flatMap((g) => { const v = parseInt(g, 16); return [v >> 8, v & 0xff]; });
}
