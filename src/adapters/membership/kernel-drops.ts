/**
 * Datagrams the kernel dropped before the gossip socket could read them: the `drops` column of the socket's row in
 * /proc/self/net/udp (udp6 for an IPv6 bind address), counted when the socket's receive buffer is full. A busy
 * event loop or a flood shows up here and nowhere else: our own drop reasons only see frames we read. The row is
 * found by the bind address and port, which only the gossip socket holds in the speaker's network namespace.
 */
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { parseIp } from '../../core/ip/index.js';

/**
 * The `drops` of the row bound to `addr`:`port` in the text of /proc/net/udp or /proc/net/udp6
 * (proc(5): `sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer
 * drops`; addresses as 32-bit words in host byte order, hex). `addr` is an IP address as the socket reports it: an
 * address with a `:` is a udp6 row (`::ffff:192.0.2.1` included, an IPv4-mapped bind of an IPv6 socket), a zone
 * (`fe80::1%eth0`) is not part of the row. Undefined when no row matches or `addr` is no IP address.
 */
export function socketDropsIn(text: string, addr: string, port: number, littleEndian = endianness() === 'LE'): number | undefined {
  const local = procAddress(addr, littleEndian);
  if (local === undefined) return undefined;
  const want = `${local}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] !== want) continue;
    const drops = Number(fields[12]);
    return Number.isFinite(drops) ? drops : undefined;
  }
  return undefined;
}

/**
 * The kernel's drops for this process's UDP socket on `addr`:`port` now (pass the socket's own `address()`, not a
 * host name); undefined without /proc or the row.
 */
export function socketDrops(addr: string, port: number): number | undefined {
  try {
    return socketDropsIn(readFileSync(addr.includes(':') ? '/proc/self/net/udp6' : '/proc/self/net/udp', 'utf8'), addr, port);
  } catch {
    return undefined;
  }
}

/**
 * `addr` as /proc/net/udp{,6} prints it: each 4-byte word of the address in host order, upper-case hex; 16 bytes
 * when `addr` has a `:` (an IPv4-mapped address is ::ffff:a.b.c.d there). Undefined for anything but an IP address.
 */
function procAddress(addr: string, littleEndian: boolean): string | undefined {
  const v6 = addr.includes(':');
  const ip = parseIp(v6 ? addr.replace(/%.*$/, '') : addr);
  if (ip === undefined) return undefined;
  const value = v6 && ip.family === 4 ? (0xffffn << 32n) | ip.value : ip.value;
  const bytes: number[] = [];
  for (let shift = BigInt((v6 ? 16 : 4) * 8 - 8); shift >= 0n; shift -= 8n) bytes.push(Number((value >> shift) & 0xffn));
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    const word = bytes.slice(i, i + 4);
    if (littleEndian) word.reverse();
    out += word.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');
  }
  return out;
}
