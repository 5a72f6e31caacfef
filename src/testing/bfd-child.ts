/**
 * BFD sessions in their own process, so a test can run them inside a network namespace
 * (`ip netns exec <ns> node bfd-child.js`). Environment: BFD_LOCAL (local address), BFD_PEERS (comma-separated),
 * BFD_FAMILY (4 | 6), BFD_TX_MS / BFD_RX_MS / BFD_MULT (profile values, MetalLB defaults otherwise).
 * Writes JSON lines on stdout: {"ready":true}, {"event":"state",peer,from,to,diag}, and answers stdin commands
 * {"op":"stats"} → {"stats":{peer:{state,discriminator,packetsIn,packetsOut}},"drops":{…}} and {"op":"close"}.
 *
 * TEST-ONLY TTL filter: the production speaker attaches the filter through its native socket helper (issue 10);
 * this child, which exists for tests, attaches it from a python3 child that inherits the socket's fd and calls
 * setsockopt(SO_ATTACH_FILTER) through ctypes (the socket option lives on the shared socket).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { bfdSessionConfig } from '../core/bfd/index.js';
import { openBfdSessions, type AttachTtlFilter } from '../adapters/bfd/sessions.js';

const PY = `import ctypes,sys
prog=bytes.fromhex(sys.argv[1]); buf=ctypes.create_string_buffer(prog)
class F(ctypes.Structure): _fields_=[('len',ctypes.c_ushort),('filter',ctypes.c_void_p)]
f=F(len(prog)//8, ctypes.addressof(buf)); libc=ctypes.CDLL(None,use_errno=True)
sys.exit(0 if libc.setsockopt(3,1,26,ctypes.byref(f),ctypes.sizeof(f))==0 else ctypes.get_errno())`;

const attachWithPython: AttachTtlFilter = (fd, program) => new Promise((resolve, reject) => {
  const child = spawn('python3', ['-c', PY, program.toString('hex')], { stdio: ['ignore', 'ignore', 'inherit', fd] });
  child.on('error', reject);
  child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`setsockopt(SO_ATTACH_FILTER) failed: errno ${code}`))));
});

process.noDeprecation = true;
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const num = (k: string) => (process.env[k] ? Number(process.env[k]) : undefined);
const peers = (process.env['BFD_PEERS'] ?? '').split(',').filter(Boolean);
const profile = {
  name: 'test', receiveIntervalMs: num('BFD_RX_MS'), transmitIntervalMs: num('BFD_TX_MS'), detectMultiplier: num('BFD_MULT'),
  echoIntervalMs: undefined, echoMode: false, passiveMode: false, minimumTtl: undefined,
};
const mapped = bfdSessionConfig(profile, false);
if (!mapped.ok) throw new Error(mapped.error.message);
const sessions = await openBfdSessions({
  localAddress: process.env['BFD_LOCAL'] ?? '127.0.0.1', family: process.env['BFD_FAMILY'] === '6' ? 6 : 4,
  attachTtlFilter: attachWithPython, onStateChange: (c) => out({ event: 'state', ...c }),
});
for (const peer of peers) await sessions.addPeer(peer, mapped.config);
out({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  let cmd: { op?: string };
  try { cmd = JSON.parse(line) as typeof cmd; } catch { continue; }
  if (cmd.op === 'stats') {
    out({ stats: Object.fromEntries(peers.map((p) => [p, { state: sessions.state(p), discriminator: sessions.discriminator(p), ...sessions.counters(p) }])), drops: sessions.drops() });
  } else if (cmd.op === 'close') {
    await sessions.close();
    out({ closed: true });
    process.exit(0);
  }
}
