/**
 * Attaches a classic BPF program to a socket with `setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &sock_fprog)`
 * through koffi, the FFI library the BGP speaker already uses for TCP-MD5 (src/adapters/bgp/md5-dialer.ts;
 * docs/design/bgp-sockets.md). This is the received-TTL check of RFC 5881 §5 / RFC 5883 §2: Linux enforces
 * IP_MINTTL for TCP only, so a socket filter drops a BFD packet whose TTL / hop limit is below the minimum in the
 * kernel (docs/design/bfd.md). Attaching again replaces the previous program. Linux only.
 */
import koffi from 'koffi';
import { SOL_SOCKET, SO_ATTACH_FILTER } from '../../core/bfd/index.js';
import type { AttachTtlFilter } from './sessions.js';

interface Libc { setsockopt(fd: number, level: number, name: number, value: { len: number; filter: Buffer }, len: number): number }

let libc: { fn: Libc; size: number } | undefined;
function load(): { fn: Libc; size: number } {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; } (linux/filter.h), 16 bytes on 64-bit.
  const fprog = koffi.struct('metallb_sock_fprog', { len: 'uint16_t', filter: 'void *' });
  const setsockopt = lib.func('int setsockopt(int, int, int, _In_ metallb_sock_fprog *, uint32_t)');
  libc = { fn: { setsockopt } as unknown as Libc, size: koffi.sizeof(fprog) };
  return libc;
}

/**
 * `program`: `struct sock_filter[]` bytes (8 per instruction, see core/bfd/ttl-filter.ts). Rejects with the errno
 * when the kernel refuses (EINVAL for a bad program, EBADF for a closed fd) or libc cannot be loaded.
 */
export const attachSocketFilter: AttachTtlFilter = async (fd, program) => {
  const { fn, size } = load();
  if (program.length === 0 || program.length % 8 !== 0) throw new Error(`a socket filter is whole 8-byte instructions, got ${program.length} bytes`);
  if (fn.setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, { len: program.length / 8, filter: program }, size) !== 0) {
    throw new Error(`setsockopt(SO_ATTACH_FILTER): errno ${koffi.errno()}`);
  }
};
