/**
 * The receive path's pure part: TTL/hop-limit check (RFC 5881 §5, RFC 5883 §2) and demultiplexing to a
 * session (RFC 5880 §6.8.6), both as values so every discarded packet is counted by reason.
 */
import { decodeControlPacket, type BfdControlPacket, type DropReason } from './packet.js';

/** One datagram as the adapter saw it. */
export interface ReceivedDatagram {
  readonly payload: Uint8Array;
  /** Source address, canonical text form. */
  readonly source: string;
  /** Received IPv4 TTL / IPv6 hop limit; undefined when the kernel already enforced the minimum. */
  readonly ttl: number | undefined;
}

/** How the adapter finds sessions: by our discriminator, or (Your Discriminator 0) by the peer address. */
export interface SessionIndex<K> {
  byDiscriminator(discriminator: number): K | undefined;
  bySource(source: string): K | undefined;
  /** The lowest TTL accepted from that source's session (255 single hop, minimum-ttl multihop). */
  minimumTtl(key: K): number;
}

export type Classified<K> =
  | { readonly ok: true; readonly key: K; readonly packet: BfdControlPacket }
  | { readonly ok: false; readonly reason: DropReason };

/**
 * Decodes, then selects the session: a nonzero Your Discriminator must name one of ours and come from that
 * session's peer; a zero one selects by source address. Then the TTL check of that session. Never throws.
 */
export function classifyDatagram<K>(d: ReceivedDatagram, index: SessionIndex<K>): Classified<K> {
  const decoded = decodeControlPacket(d.payload);
  if (!decoded.ok) return decoded;
  const packet = decoded.packet;
  let key: K | undefined;
  if (packet.yourDiscriminator !== 0) {
    key = index.byDiscriminator(packet.yourDiscriminator);
    if (key === undefined || index.bySource(d.source) !== key) return { ok: false, reason: 'unknown-discriminator' };
  } else {
    key = index.bySource(d.source);
    if (key === undefined) return { ok: false, reason: 'no-session' };
  }
  if (d.ttl !== undefined && d.ttl < index.minimumTtl(key)) return { ok: false, reason: 'bad-ttl' };
  return { ok: true, key, packet };
}
