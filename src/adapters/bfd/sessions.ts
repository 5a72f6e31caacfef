/**
 * BFD sessions over UDP (RFC 5881 single hop on 3784, RFC 5883 multihop on 4784): one receive socket per local
 * address (the wildcard address for the speaker) and port, one send socket per session bound to a source port in
 * 49152–65535 with TTL 255, Node timers driving the pure reducer of src/core/bfd. Received-TTL enforcement is a
 * kernel socket filter (docs/design/bfd.md) attached through an injected `attachTtlFilter(fd, program)`
 * (production: socket-filter.ts); if it fails, `open` refuses rather than run without the TTL check.
 */
import dgram from 'node:dgram';
import { endianness } from 'node:os';
import {
  BFD_SOURCE_PORT_MAX, BFD_SOURCE_PORT_MIN, BFD_TTL, classifyDatagram, countDrop, createSession, emptyDropCounts,
  encodeControlPacket, step, ttlFilterProgram, type BfdAction, type BfdPeerSessionConfig, type BfdSession,
  type BfdState, type BfdTimer, type DropCounts,
} from '../../core/bfd/index.js';

/** Attaches a classic BPF program (`struct sock_filter[]` bytes) to a socket fd; rejects on failure. */
export type AttachTtlFilter = (fd: number, program: Buffer) => Promise<void>;

export interface BfdStateChange { readonly peer: string; readonly from: BfdState; readonly to: BfdState; readonly diag: number }

export interface BfdSessionsOptions {
  readonly localAddress: string;
  readonly family: 4 | 6;
  readonly attachTtlFilter: AttachTtlFilter;
  readonly onStateChange: (change: BfdStateChange) => void;
  /** Destination port; 3784 (RFC 5881) unless a test says otherwise. 4784 for multihop (RFC 5883). */
  readonly port?: number;
  /** Lowest received TTL / hop limit accepted: 255 (single hop, the default) or a multihop `minimum-ttl`. */
  readonly minimumTtl?: number;
  /** Every Control packet received for (after demultiplexing) or sent by a session, for the metrics. */
  readonly onPacket?: ((peer: string, direction: 'in' | 'out') => void) | undefined;
  readonly random?: () => number;
}

interface Running {
  readonly peer: string;
  session: BfdSession;
  readonly tx: dgram.Socket;
  readonly timers: Map<BfdTimer, NodeJS.Timeout>;
  packetsIn: number;
  packetsOut: number;
}

export interface BfdSessions {
  /** Starts a session with `peer` (an address); `sourceAddress` binds its send socket (else the kernel picks). */
  addPeer(peer: string, config: BfdPeerSessionConfig, sourceAddress?: string): Promise<void>;
  removePeer(peer: string): Promise<void>;
  state(peer: string): BfdState | undefined;
  /** Our (local) discriminator for that peer's session. */
  discriminator(peer: string): number | undefined;
  counters(peer: string): { packetsIn: number; packetsOut: number } | undefined;
  drops(): DropCounts;
  /** Replaces the receive socket's TTL filter (multihop: the lowest `minimum-ttl` of its sessions). */
  setMinimumTtl(minimum: number): Promise<void>;
  close(): Promise<void>;
}

const bind = (s: dgram.Socket, port: number, address: string) => new Promise<void>((resolve, reject) => {
  const onError = (err: Error) => reject(err);
  s.once('error', onError);
  s.bind({ port, address, exclusive: true }, () => { s.off('error', onError); resolve(); });
});

/** Opens the receive socket and attaches the TTL filter (255: single hop, RFC 5881 §5). */
export async function openBfdSessions(opts: BfdSessionsOptions): Promise<BfdSessions> {
  const random = opts.random ?? Math.random;
  const port = opts.port ?? 3784;
  const type = opts.family === 4 ? 'udp4' : 'udp6';
  const rx = dgram.createSocket({ type, ipv6Only: opts.family === 6 });
  await bind(rx, port, opts.localAddress);
  // The fd of a bound socket; Node has no public accessor, and the filter must sit on this very socket.
  const fd = (rx as unknown as { _handle: { fd: number } })._handle.fd;
  let minimumTtl = opts.minimumTtl ?? BFD_TTL;
  try {
    await opts.attachTtlFilter(fd, ttlFilterProgram(opts.family, minimumTtl, endianness()));
  } catch (err) {
    rx.close();
    throw new Error(`bfd: cannot enforce the received TTL on ${opts.localAddress}:${port}: ${(err as Error).message}`);
  }
  const sessions = new Map<string, Running>();
  let drops = emptyDropCounts();

  const apply = (r: Running, actions: readonly BfdAction[]) => {
    for (const a of actions) {
      if (a.type === 'send') {
        r.packetsOut++;
        opts.onPacket?.(r.peer, 'out');
        r.tx.send(encodeControlPacket(a.packet), port, r.peer);
      } else if (a.type === 'set-timer') {
        clearTimeout(r.timers.get(a.timer));
        r.timers.set(a.timer, setTimeout(() => fire(r, a.timer), Math.max(1, Math.round(a.afterUs / 1000))));
      } else if (a.type === 'clear-timer') {
        clearTimeout(r.timers.get(a.timer));
        r.timers.delete(a.timer);
      } else {
        opts.onStateChange({ peer: r.peer, from: a.from, to: a.to, diag: a.diag });
      }
    }
  };
  const fire = (r: Running, timer: BfdTimer) => {
    if (sessions.get(r.peer) !== r) return;
    r.timers.delete(timer);
    const out = step(r.session, { type: 'timer', timer }, random());
    r.session = out.session;
    apply(r, out.actions);
  };
  const byDiscriminator = (d: number) => [...sessions.values()].find((r) => r.session.localDiscr === d)?.peer;
  rx.on('message', (payload, info) => {
    const c = classifyDatagram({ payload, source: info.address, ttl: undefined }, {
      byDiscriminator, bySource: (s) => (sessions.has(s) ? s : undefined), minimumTtl: () => minimumTtl,
    });
    if (!c.ok) { drops = countDrop(drops, c.reason); return; }
    const r = sessions.get(c.key)!;
    r.packetsIn++;
    opts.onPacket?.(r.peer, 'in');
    const out = step(r.session, { type: 'packet', packet: c.packet }, random());
    r.session = out.session;
    apply(r, out.actions);
  });

  const freeDiscriminator = () => {
    for (;;) {
      const d = (Math.floor(random() * 0xffffffff) + 1) >>> 0;
      if (d !== 0 && byDiscriminator(d) === undefined) return d;
    }
  };
  const openTx = async (peer: string, sourceAddress: string) => {
    for (let attempt = 0; ; attempt++) {
      const tx = dgram.createSocket({ type, ipv6Only: opts.family === 6 });
      const sourcePort = BFD_SOURCE_PORT_MIN + Math.floor(random() * (BFD_SOURCE_PORT_MAX - BFD_SOURCE_PORT_MIN + 1));
      try {
        await bind(tx, sourcePort, sourceAddress);
        tx.setTTL(BFD_TTL);
        tx.on('error', () => { /* a send error (peer unreachable) is the detection timer's business */ });
        return tx;
      } catch (err) {
        tx.close();
        if (attempt > 20) throw new Error(`bfd: no free source port for ${peer}: ${(err as Error).message}`);
      }
    }
  };

  const api: BfdSessions = {
    async addPeer(peer, config, sourceAddress) {
      if (sessions.has(peer)) return;
      const tx = await openTx(peer, sourceAddress ?? opts.localAddress);
      if (sessions.has(peer)) { tx.close(); return; } // added meanwhile
      const created = createSession(config.session, freeDiscriminator(), random());
      const r: Running = { peer, session: created.session, tx, timers: new Map(), packetsIn: 0, packetsOut: 0 };
      sessions.set(peer, r);
      apply(r, created.actions);
    },
    async removePeer(peer) {
      const r = sessions.get(peer);
      if (!r) return;
      // Tell the peer (AdminDown, diag 7) before going quiet.
      const out = step(r.session, { type: 'admin-down' }, random());
      sessions.delete(peer);
      for (const a of out.actions) {
        if (a.type !== 'send') continue;
        r.packetsOut++;
        opts.onPacket?.(peer, 'out');
        await new Promise<void>((resolve) => r.tx.send(encodeControlPacket(a.packet), port, peer, () => resolve()));
      }
      for (const t of r.timers.values()) clearTimeout(t);
      await new Promise<void>((resolve) => r.tx.close(() => resolve()));
    },
    state: (peer) => sessions.get(peer)?.session.state,
    discriminator: (peer) => sessions.get(peer)?.session.localDiscr,
    counters: (peer) => { const r = sessions.get(peer); return r && { packetsIn: r.packetsIn, packetsOut: r.packetsOut }; },
    drops: () => drops,
    async setMinimumTtl(minimum) {
      if (minimum === minimumTtl) return;
      await opts.attachTtlFilter(fd, ttlFilterProgram(opts.family, minimum, endianness()));
      minimumTtl = minimum;
    },
    async close() {
      for (const peer of [...sessions.keys()]) await api.removePeer(peer);
      await new Promise<void>((resolve) => rx.close(() => resolve()));
    },
  };
  return api;
}
