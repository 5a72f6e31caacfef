/**
 * A TCP dialer that can set socket options before the SYN: TCP-MD5 (RFC 2385, MetalLB's `password`, spec §6.2)
 * and a bound `source-address`. Node's net.connect creates and connects the socket in one libuv call, so an
 * option that must be on the SYN cannot be set; this file calls libc through koffi (prebuilt FFI binaries
 * shipped in its npm packages; why in docs/design/bgp-sockets.md), then hands the connected fd to
 * `new net.Socket({ fd })`. Linux only (struct tcp_md5sig from linux/tcp.h).
 */
import net from 'node:net';
import koffi from 'koffi';
import { parseIp } from '../../core/ip/index.js';

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_TCP = 6;
const TCP_MD5SIG = 14;
const SOL_SOCKET = 1;
const SO_ERROR = 4;
const EINPROGRESS = 115;
const POLLOUT = 4;
/** linux/tcp.h TCP_MD5SIG_MAXKEYLEN. */
export const TCP_MD5SIG_MAXKEYLEN = 80;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: Buffer, len: Buffer): number;
  bind(fd: number, addr: Buffer, len: number): number;
  connect(fd: number, addr: Buffer, len: number): number;
  close(fd: number): number;
  poll: { async(fds: Buffer, n: number, timeoutMs: number, cb: (err: unknown, r: number) => void): void };
}

let libc: Libc | undefined;
function load(): Libc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  libc = {
    socket: lib.func('int socket(int, int, int)'),
    setsockopt: lib.func('int setsockopt(int, int, int, void *, uint32_t)'),
    getsockopt: lib.func('int getsockopt(int, int, int, void *, void *)'),
    bind: lib.func('int bind(int, void *, uint32_t)'),
    connect: lib.func('int connect(int, void *, uint32_t)'),
    close: lib.func('int close(int)'),
    poll: lib.func('int poll(void *, unsigned long, int)'),
  } as unknown as Libc;
  return libc;
}

/** struct sockaddr_in / sockaddr_in6 for an address literal; undefined if it is not one. */
export function sockaddr(address: string, port: number): Buffer | undefined {
  const ip = parseIp(address);
  if (ip === undefined) return undefined;
  if (ip.family === 4) {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(AF_INET, 0);
    b.writeUInt16BE(port, 2);
    b.writeUInt32BE(Number(ip.value), 4);
    return b;
  }
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  for (let i = 0; i < 16; i++) b[8 + i] = Number((ip.value >> BigInt(8 * (15 - i))) & 0xffn);
  return b;
}

/**
 * struct tcp_md5sig (linux/tcp.h): sockaddr_storage tcpm_addr (128 bytes), u8 flags, u8 prefixlen,
 * u16 keylen, u32 ifindex, u8 key[80]; 216 bytes. The peer's address only (no prefix flag).
 */
export function tcpMd5sig(peer: Buffer, key: Buffer): Buffer {
  const b = Buffer.alloc(216);
  peer.copy(b, 0);
  b.writeUInt16LE(key.length, 130);
  key.copy(b, 136);
  return b;
}

export interface DialOptions {
  readonly peerAddress: string;
  readonly peerPort: number;
  readonly sourceAddress?: string | undefined;
  /** RFC 2385 key; at most 80 bytes (UTF-8). */
  readonly password?: string | undefined;
  /** How long to wait for the handshake, ms. */
  readonly timeoutMs: number;
}

/** Outcome of a dial; `timedOut` means no answer at all (what a TCP-MD5 key mismatch looks like). */
export type DialResult =
  | { readonly ok: true; readonly socket: net.Socket }
  | { readonly ok: false; readonly error: string; readonly timedOut: boolean };

/**
 * Dials with the options set before the SYN; calls `done` exactly once unless cancelled. Returns a cancel
 * function (the fd is closed once the pending wait returns). Errors are values; it never throws.
 */
export function dial(opts: DialOptions, done: (r: DialResult) => void): () => void {
  let cancelled = false;
  const fail = (error: string, timedOut = false) => queueMicrotask(() => { if (!cancelled) done({ ok: false, error, timedOut }); });
  let c: Libc;
  try {
    c = load();
  } catch (err) {
    fail(`cannot load libc through koffi: ${(err as Error).message}`);
    return () => { cancelled = true; };
  }
  const peer = sockaddr(opts.peerAddress, opts.peerPort);
  if (peer === undefined) { fail(`not an IP address: ${opts.peerAddress}`); return () => { cancelled = true; }; }
  const src = opts.sourceAddress === undefined ? undefined : sockaddr(opts.sourceAddress, 0);
  if (opts.sourceAddress !== undefined && (src === undefined || src.length !== peer.length)) {
    fail(`source-address ${opts.sourceAddress} is not an address of the peer's family`);
    return () => { cancelled = true; };
  }
  const key = opts.password === undefined ? undefined : Buffer.from(opts.password, 'utf8');
  if (key !== undefined && key.length > TCP_MD5SIG_MAXKEYLEN) { fail('password longer than 80 bytes'); return () => { cancelled = true; }; }
  const fd = c.socket(peer.length === 16 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) { fail(`socket: errno ${koffi.errno()}`); return () => { cancelled = true; }; }
  const bail = (what: string) => { const e = koffi.errno(); c.close(fd); fail(`${what}: errno ${e}`); return () => { cancelled = true; }; };
  if (key !== undefined && key.length > 0) {
    const sig = tcpMd5sig(peer, key);
    if (c.setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, sig, sig.length) !== 0) return bail('setsockopt TCP_MD5SIG');
  }
  if (src !== undefined && c.bind(fd, src, src.length) !== 0) return bail(`bind ${opts.sourceAddress}`);
  if (c.connect(fd, peer, peer.length) !== 0 && koffi.errno() !== EINPROGRESS) return bail('connect');
  // Wait for writability off the event loop (koffi runs async calls on its worker threads); the timeout
  // bounds the wait so a cancelled dial's fd is always closed.
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(POLLOUT, 4);
  c.poll.async(pfd, 1, opts.timeoutMs, (err, n) => {
    // koffi's worker thread writes revents into pfd while poll runs: the callback holds pfd so the garbage
    // collector cannot free it before then (an unreferenced Buffer there is a use-after-free).
    if (pfd.length !== 8) return;
    if (cancelled) { c.close(fd); return; }
    if (err || n < 0) { c.close(fd); return done({ ok: false, error: `poll: ${String(err ?? koffi.errno())}`, timedOut: false }); }
    if (n === 0) { c.close(fd); return done({ ok: false, error: 'connect timed out (no answer)', timedOut: true }); }
    const soErr = Buffer.alloc(4);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(4, 0);
    c.getsockopt(fd, SOL_SOCKET, SO_ERROR, soErr, len);
    const e = soErr.readInt32LE(0);
    if (e !== 0) { c.close(fd); return done({ ok: false, error: `connect: errno ${e}`, timedOut: e === 110 }); }
    try {
      done({ ok: true, socket: new net.Socket({ fd, readable: true, writable: true }) });
    } catch (ex) {
      c.close(fd);
      done({ ok: false, error: `net.Socket: ${(ex as Error).message}`, timedOut: false });
    }
  });
  return () => { cancelled = true; };
}
