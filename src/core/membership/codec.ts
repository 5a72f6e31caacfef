/**
 * Body codec of the membership protocol, frame v2: messages to bytes and back. Pure; the frame around it
 * (magic, version, sender id, sealing, replay) is in frame.ts. All integers are big-endian. Layout:
 *
 *   body    = message{1..MAX_MESSAGES}        back to back, no count: the body ends where the datagram (UDP) or
 *                                             the header's length (TCP) says; each message's length follows from
 *                                             its type and fields
 *   str8    = len:u8 utf8{len}                (node names are DNS subdomains, ≤ 253 bytes)
 *   bytes16 = len:u16 octets{len}             (member metadata, ≤ MAX_META_BYTES)
 *   message = type:u8 fields
 *     1 ping      seq:u32 target:u32          (target = member id of the member meant to answer, member-id.ts)
 *     2 ping-req  seq:u32 target:str8 targetAddr:str8
 *     3 ack       seq:u32
 *     4 nack      seq:u32
 *     5 alive     name:str8 incarnation:u32 addr:str8 meta:bytes16
 *     6 suspect   name:str8 incarnation:u32 from:str8
 *     7 dead      name:str8 incarnation:u32 from:str8
 *     8 push-pull flags:u8 (1 = join, 2 = reply) count:u32 state{count}
 *       state = name:str8 addr:str8 incarnation:u32 status:u8 (0 alive, 1 suspect, 2 dead, 3 left) meta:bytes16
 *
 * The sender is not in the body: the frame header carries its member id. A steady-state ping is 9 bytes, an
 * ack 5. Decoding never throws: short input is `truncated`, anything else unexpected (an empty body included)
 * is `malformed`.
 */
import type { MemberState, MemberStatus, Message } from './types.js';

/** Largest metadata a member may carry (memberlist's MetaMaxSize is 512 too). */
export const MAX_META_BYTES = 512;
/** Largest number of messages in one body (a bound on the work one frame can cause; the encoder's packets stay far below). */
export const MAX_MESSAGES = 255;

const TYPE = { ping: 1, 'ping-req': 2, ack: 3, nack: 4, alive: 5, suspect: 6, dead: 7, 'push-pull': 8 } as const;
const STATUS: readonly MemberStatus[] = ['alive', 'suspect', 'dead', 'left'];

export type BodyDecodeResult =
  | { readonly ok: true; readonly messages: Message[] }
  | { readonly ok: false; readonly reason: 'truncated' | 'malformed'; readonly detail: string };

const str8Size = (s: string): number => 1 + Buffer.byteLength(s, 'utf8');

/** Encoded size in bytes of one message (used to fill packets up to a byte budget without encoding). */
export function messageSize(m: Message): number {
  switch (m.type) {
    case 'ping': return 1 + 4 + 4;
    case 'ping-req': return 1 + 4 + str8Size(m.target) + str8Size(m.targetAddr);
    case 'ack': case 'nack': return 5;
    case 'alive': return 1 + str8Size(m.name) + 4 + str8Size(m.addr) + 2 + m.meta.length;
    case 'suspect': case 'dead': return 1 + str8Size(m.name) + 4 + str8Size(m.from);
    case 'push-pull': return 1 + 1 + 4 + m.members.reduce((n, s) => n + str8Size(s.name) + str8Size(s.addr) + 4 + 1 + 2 + s.meta.length, 0);
  }
}

/** Encoded size of a body carrying `messages`. */
export function bodySize(messages: readonly Message[]): number {
  return messages.reduce((n, m) => n + messageSize(m), 0);
}

class Writer {
  readonly buf: Buffer;
  off = 0;
  constructor(size: number) { this.buf = Buffer.alloc(size); }
  u8(v: number): void { this.buf.writeUInt8(v, this.off); this.off += 1; }
  u16(v: number): void { this.buf.writeUInt16BE(v, this.off); this.off += 2; }
  u32(v: number): void { this.buf.writeUInt32BE(v >>> 0, this.off); this.off += 4; }
  str8(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    if (n > 255) throw new RangeError(`string of ${n} bytes does not fit a str8: ${s.slice(0, 40)}…`);
    this.u8(n); this.off += this.buf.write(s, this.off, 'utf8');
  }
  bytes16(b: Uint8Array): void {
    if (b.length > MAX_META_BYTES) throw new RangeError(`metadata of ${b.length} bytes exceeds ${MAX_META_BYTES}`);
    this.u16(b.length); this.buf.set(b, this.off); this.off += b.length;
  }
}

/**
 * Encodes a body. Throws RangeError only on a programming error on OUR side (no message or more than
 * MAX_MESSAGES, a name over 255 bytes, metadata over MAX_META_BYTES); input from the wire never reaches
 * this function.
 */
export function encodeBody(messages: readonly Message[]): Buffer {
  if (messages.length === 0 || messages.length > MAX_MESSAGES) throw new RangeError(`${messages.length} messages: a body carries 1 to ${MAX_MESSAGES}`);
  const w = new Writer(bodySize(messages));
  for (const m of messages) {
    w.u8(TYPE[m.type]);
    switch (m.type) {
      case 'ping': w.u32(m.seq); w.u32(m.target); break;
      case 'ping-req': w.u32(m.seq); w.str8(m.target); w.str8(m.targetAddr); break;
      case 'ack': case 'nack': w.u32(m.seq); break;
      case 'alive': w.str8(m.name); w.u32(m.incarnation); w.str8(m.addr); w.bytes16(m.meta); break;
      case 'suspect': case 'dead': w.str8(m.name); w.u32(m.incarnation); w.str8(m.from); break;
      case 'push-pull':
        w.u8((m.join ? 1 : 0) | (m.reply ? 2 : 0));
        w.u32(m.members.length);
        for (const s of m.members) {
          w.str8(s.name); w.str8(s.addr); w.u32(s.incarnation); w.u8(STATUS.indexOf(s.status)); w.bytes16(s.meta);
        }
        break;
    }
  }
  return w.buf;
}

class Short extends Error {}
class Bad extends Error {}
const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  off = 0;
  readonly buf: Uint8Array;
  constructor(buf: Uint8Array) { this.buf = buf; }
  need(n: number): void { if (this.off + n > this.buf.length) throw new Short(`need ${n} bytes at offset ${this.off}, have ${this.buf.length - this.off}`); }
  u8(): number { this.need(1); return this.buf[this.off++]!; }
  u16(): number { this.need(2); const v = (this.buf[this.off]! << 8) | this.buf[this.off + 1]!; this.off += 2; return v; }
  u32(): number {
    this.need(4);
    const b = this.buf; const o = this.off; this.off += 4;
    return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }
  str8(what: string): string {
    const n = this.u8();
    this.need(n);
    const bytes = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    try { return utf8.decode(bytes); } catch { throw new Bad(`${what} is not UTF-8`); }
  }
  name(what: string): string {
    const s = this.str8(what);
    if (s.length === 0) throw new Bad(`empty ${what}`);
    return s;
  }
  bytes16(): Uint8Array {
    const n = this.u16();
    if (n > MAX_META_BYTES) throw new Bad(`metadata of ${n} bytes exceeds ${MAX_META_BYTES}`);
    this.need(n);
    const out = new Uint8Array(this.buf.subarray(this.off, this.off + n)); // a copy: not a view of the datagram
    this.off += n;
    return out;
  }
}

function readMessage(r: Reader): Message {
  const type = r.u8();
  switch (type) {
    case 1: return { type: 'ping', seq: r.u32(), target: r.u32() };
    case 2: return { type: 'ping-req', seq: r.u32(), target: r.name('ping-req target'), targetAddr: r.name('ping-req address') };
    case 3: return { type: 'ack', seq: r.u32() };
    case 4: return { type: 'nack', seq: r.u32() };
    case 5: return { type: 'alive', name: r.name('alive name'), incarnation: r.u32(), addr: r.name('alive address'), meta: r.bytes16() };
    case 6: return { type: 'suspect', name: r.name('suspect name'), incarnation: r.u32(), from: r.name('suspect from') };
    case 7: return { type: 'dead', name: r.name('dead name'), incarnation: r.u32(), from: r.name('dead from') };
    case 8: {
      const flags = r.u8();
      if (flags & ~3) throw new Bad(`push-pull flags 0x${flags.toString(16)}`);
      const count = r.u32();
      // Each state takes at least 9 bytes: a count that cannot fit is truncation, not a reason to allocate.
      r.need(count * 9);
      const members: MemberState[] = [];
      for (let i = 0; i < count; i++) {
        const name = r.name('state name');
        const addr = r.name('state address');
        const incarnation = r.u32();
        const status = STATUS[r.u8()];
        if (!status) throw new Bad('state status out of range');
        members.push({ name, addr, incarnation, status, meta: r.bytes16() });
      }
      return { type: 'push-pull', join: (flags & 1) !== 0, reply: (flags & 2) !== 0, members };
    }
    default: throw new Bad(`message type ${type}`);
  }
}

/** Decodes a body (all of `bytes`); never throws. */
export function decodeBody(bytes: Uint8Array): BodyDecodeResult {
  const r = new Reader(bytes);
  try {
    if (bytes.length === 0) throw new Bad('body without messages');
    const messages: Message[] = [];
    while (r.off < bytes.length) {
      if (messages.length === MAX_MESSAGES) throw new Bad(`more than ${MAX_MESSAGES} messages`);
      messages.push(readMessage(r));
    }
    return { ok: true, messages };
  } catch (err) {
    if (err instanceof Short) return { ok: false, reason: 'truncated', detail: err.message };
    if (err instanceof Bad) return { ok: false, reason: 'malformed', detail: err.message };
    return { ok: false, reason: 'malformed', detail: String(err) };
  }
}
