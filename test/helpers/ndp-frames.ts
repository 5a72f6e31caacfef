/** Hand-built Neighbor Solicitation frames for the layer-2 tests (golden-byte, fuzz). */
import { ipBytes, ipv6UpperChecksum, parseMac, solicitedNodeGroup } from '../../src/core/layer2/index.js';

const DEFAULT_SRC_MAC = parseMac('02:00:00:00:00:0a')!;

/** A Neighbor Solicitation frame with a correct checksum, for tests (and the fuzz seeds). */
export function buildNs(o: { src: string; target: string; slla: Buffer | undefined; dst?: string; hopLimit?: number }): Buffer {
  const src = ipBytes(o.src)!;
  const target = ipBytes(o.target)!;
  const dst = ipBytes(o.dst ?? solicitedNodeGroup(o.target)!)!;
  const msgLen = 24 + (o.slla ? 8 : 0);
  const f = Buffer.alloc(14 + 40 + msgLen);
  Buffer.from([0x33, 0x33, dst[12]!, dst[13]!, dst[14]!, dst[15]!]).copy(f, 0);
  (o.slla ?? DEFAULT_SRC_MAC).copy(f, 6);
  f.writeUInt16BE(0x86dd, 12);
  f[14] = 0x60; f.writeUInt16BE(msgLen, 18); f[20] = 58; f[21] = o.hopLimit ?? 255;
  src.copy(f, 22); dst.copy(f, 38);
  const m = f.subarray(54);
  m[0] = 135; target.copy(m, 8);
  if (o.slla) { m[24] = 1; m[25] = 1; o.slla.copy(m, 26); }
  m.writeUInt16BE(ipv6UpperChecksum(src, dst, 58, m), 2);
  return f;
}
