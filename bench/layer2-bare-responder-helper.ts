/**
 * The bare `cap` ARP responder of ../shared/lab/FINDINGS.md §3, rebuilt as the bench's reference: one capture,
 * no owned-set bookkeeping, no metrics, no logs, no process split — the floor for answering ARP from Node.
 * Usage (inside a namespace): node layer2-bare-responder-helper.js <iface> <mac> <ipv4>
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Cap } = require('cap') as { Cap: new () => { open(d: string, f: string, b: number, buf: Buffer): string; send(b: Buffer, n?: number): void; on(e: 'packet', l: (n: number) => void): void } };
const [iface, macText, ipText] = process.argv.slice(2) as [string, string, string];
const mac = Buffer.from(macText.split(':').map((h) => parseInt(h, 16)));
const ip = Buffer.from(ipText.split('.').map(Number));
const cap = new Cap();
const buf = Buffer.alloc(2048);
cap.open(iface, `arp and not ether src ${macText}`, 2 * 1024 * 1024, buf);
cap.on('packet', (n) => {
  if (n < 42 || buf.readUInt16BE(20) !== 1 || !buf.subarray(38, 42).equals(ip)) return;
  const r = Buffer.alloc(42);
  buf.copy(r, 0, 22, 28); mac.copy(r, 6); r.writeUInt16BE(0x0806, 12);
  r.writeUInt16BE(1, 14); r.writeUInt16BE(0x0800, 16); r[18] = 6; r[19] = 4; r.writeUInt16BE(2, 20);
  mac.copy(r, 22); ip.copy(r, 28); buf.copy(r, 32, 22, 28); buf.copy(r, 38, 28, 32);
  cap.send(r, 42);
});
process.stdout.write('ready\n');
