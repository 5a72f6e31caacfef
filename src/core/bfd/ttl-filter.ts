/**
 * Received-TTL enforcement as a classic BPF socket filter (`SO_ATTACH_FILTER`), built here as bytes.
 *
 * Why a socket filter (docs/design/bfd.md): Linux enforces `IP_MINTTL` / `IPV6_MINHOPCOUNT` for TCP only (a
 * UDP socket with IP_MINTTL 255 still receives TTL-254 datagrams, measured on kernel 6.18), and Node's
 * `dgram` reports no TTL. A socket filter runs in the kernel on every datagram queued to that socket, so a
 * TTL-254 BFD packet never reaches the process. From a UDP socket the filter's offset 0 is the UDP header;
 * `SKF_NET_OFF` (-0x100000) reaches the IP header: TTL at +8 (IPv4), Hop Limit at +7 (IPv6).
 * Bind IPv4 and IPv6 apart (`ipv6Only`), since an IPv4-mapped datagram on a v6 socket has an IPv4 header.
 *
 * Program (4 instructions): `ldb [net+off]; jge #minimum, accept, drop; accept: ret #-1; drop: ret #0`.
 */

/** Linux `SKF_NET_OFF` (linux/filter.h). */
export const SKF_NET_OFF = -0x100000;
/** setsockopt level and option for attaching it (asm-generic/socket.h). */
export const SOL_SOCKET = 1;
export const SO_ATTACH_FILTER = 26;

const BPF_LD_B_ABS = 0x30; // BPF_LD | BPF_B | BPF_ABS
const BPF_JMP_JGE_K = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const BPF_RET_K = 0x06; // BPF_RET | BPF_K

/**
 * The `struct sock_filter[]` array (8 bytes per instruction: u16 code, u8 jt, u8 jf, u32 k) in the host's
 * byte order (`os.endianness()` from the adapter), accepting datagrams whose TTL / hop limit is ≥ `minimum`
 * (1–255; 255 for single hop, RFC 5881 §5). The caller wraps it in a `struct sock_fprog { u16 len; ptr }`.
 */
export function ttlFilterProgram(family: 4 | 6, minimum: number, endianness: 'LE' | 'BE'): Buffer {
  const offset = (SKF_NET_OFF + (family === 4 ? 8 : 7)) >>> 0;
  const instructions: [number, number, number, number][] = [
    [BPF_LD_B_ABS, 0, 0, offset],
    [BPF_JMP_JGE_K, 0, 1, Math.min(Math.max(Math.trunc(minimum), 1), 255)],
    [BPF_RET_K, 0, 0, 0xffffffff],
    [BPF_RET_K, 0, 0, 0],
  ];
  const buf = Buffer.alloc(instructions.length * 8);
  instructions.forEach(([code, jt, jf, k], i) => {
    if (endianness === 'LE') buf.writeUInt16LE(code, i * 8); else buf.writeUInt16BE(code, i * 8);
    buf[i * 8 + 2] = jt;
    buf[i * 8 + 3] = jf;
    if (endianness === 'LE') buf.writeUInt32LE(k, i * 8 + 4); else buf.writeUInt32BE(k, i * 8 + 4);
  });
  return buf;
}
