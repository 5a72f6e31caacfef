/**
 * A cap-based ARP request sender for the bench (arping is too slow for 10k requests/s). Each request carries a
 * sequence number in its sender MAC (02:bb:<seq 32 bits>), which the reply echoes as its Ethernet destination,
 * so tcpdump can pair replies with requests and count losses.
 * Usage: node layer2-sender-helper.js <iface> <mode> ...
 *   latency <intervalMs> <rounds> <target>...   one request per target per round, targets 1 ms apart, order rotated
 *   rate <perSecond> <seconds> <target>            requests in 1 ms batches at the given rate
 *   burst <size> <count> <gapMs> <target>          `count` bursts of `size` back-to-back requests
 * Sequence numbers start at the SEQ environment variable (default 0). Prints the number sent.
 */
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';

const require = createRequire(import.meta.url);
const { Cap } = require('cap') as { Cap: new () => { open(d: string, f: string, b: number, buf: Buffer): string; send(b: Buffer, n?: number): void } };
const [iface, mode, ...args] = process.argv.slice(2) as [string, string, ...string[]];
const cap = new Cap();
cap.open(iface, 'ether proto 0x88b5', 1024 * 1024, Buffer.alloc(2048)); // capture nothing; we only send
let seq = Number(process.env['SEQ'] ?? 0);
let sent = 0;
const frame = Buffer.alloc(42);
function send(target: string): void {
  frame.fill(0xff, 0, 6);
  frame[6] = 0x02; frame[7] = 0xbb; frame.writeUInt32BE(seq >>> 0, 8);
  frame.writeUInt16BE(0x0806, 12); frame.writeUInt16BE(1, 14); frame.writeUInt16BE(0x0800, 16); frame[18] = 6; frame[19] = 4;
  frame.writeUInt16BE(1, 20); frame.copy(frame, 22, 6, 12);
  Buffer.from([192, 0, 2, 50]).copy(frame, 28); frame.fill(0, 32, 38);
  Buffer.from(target.split('.').map(Number)).copy(frame, 38);
  cap.send(frame, 42);
  seq++; sent++;
}

if (mode === 'latency') {
  const [interval, rounds, ...targets] = args;
  for (let r = 0; r < Number(rounds); r++) {
    const t0 = performance.now();
    // Rotate the order every round, so no target is always the first to wake up after the pause.
    for (let i = 0; i < targets.length; i++) { send(targets[(i + r) % targets.length]!); await sleep(1); }
    const rest = Number(interval) - (performance.now() - t0);
    if (rest > 0) await sleep(rest);
  }
} else if (mode === 'rate') {
  const [perSecond, seconds, target] = args as [string, string, string];
  const total = Number(perSecond) * Number(seconds);
  const t0 = performance.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * Number(perSecond)));
    while (sent < due) send(target);
    await sleep(1);
  }
} else if (mode === 'burst') {
  const [size, count, gap, target] = args as [string, string, string, string];
  for (let b = 0; b < Number(count); b++) {
    for (let i = 0; i < Number(size); i++) send(target);
    await sleep(Number(gap));
  }
}
process.stdout.write(`${sent}\n`);
process.exit(0);
