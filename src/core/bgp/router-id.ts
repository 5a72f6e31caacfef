/**
 * The BGP Identifier rule of spec §6.4 (v0.11): `router-id` if set; else the IPv4 local address of the
 * session's TCP connection; else (IPv6 connection) the first IPv4 address of the interface owning the local
 * IPv6 address; else CRC32-IEEE of the node name, its 4 octets read little-endian. The adapter supplies the
 * addresses; this function decides.
 */
import { type IpAddr } from '../ip/index.js';

/** Inputs of the rule: the configured router-id, the connection's local address, that interface's IPv4s. */
export interface RouterIdInputs {
  readonly routerId?: IpAddr | undefined;
  readonly localAddress: IpAddr;
  readonly interfaceIpv4s: readonly IpAddr[];
  readonly nodeName: string;
}

let table: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3 polynomial, reflected), as Go's hash/crc32.ChecksumIEEE. */
export function crc32Ieee(data: Buffer): number {
  if (table === undefined) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const b of data) crc = table[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The BGP Identifier as an unsigned 32-bit integer. */
export function chooseRouterId(i: RouterIdInputs): number {
  if (i.routerId?.family === 4) return Number(i.routerId.value);
  if (i.localAddress.family === 4) return Number(i.localAddress.value);
  const v4 = i.interfaceIpv4s.find((a) => a.family === 4);
  if (v4 !== undefined) return Number(v4.value);
  const crc = crc32Ieee(Buffer.from(i.nodeName, 'utf8'));
  // v0.11 puts the checksum's little-endian bytes into the 4-octet identifier.
  const le = Buffer.alloc(4);
  le.writeUInt32LE(crc, 0);
  return le.readUInt32BE(0);
}
