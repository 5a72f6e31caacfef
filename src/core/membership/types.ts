/**
 * Shapes of the speaker membership protocol (issue 11): a SWIM failure detector (Das, Gupta, Motivala 2002)
 * with Lifeguard's local health and suspicion refinements (Dadgar et al. 2018), gossiping over UDP and
 * syncing full state over TCP. Members are named by their node name; addresses are opaque "host:port"
 * strings that only the transport adapter interprets.
 */

/** A member's life cycle. `left` is a graceful leave (a dead notice sent by the member about itself). */
export type MemberStatus = 'alive' | 'suspect' | 'dead' | 'left';

/** One member as every node sees it. `meta` is opaque (the speaker will carry MACs and node info). */
export interface Member {
  readonly name: string;
  readonly addr: string;
  readonly incarnation: number;
  readonly status: MemberStatus;
  readonly meta: Uint8Array;
}

/** What one member tells the others in a full state sync (push/pull). */
export interface MemberState {
  readonly name: string;
  readonly addr: string;
  readonly incarnation: number;
  readonly status: MemberStatus;
  readonly meta: Uint8Array;
}

/**
 * Protocol messages. `seq` numbers are per sender, 32-bit, wrapping. A `dead` whose `from` equals `name`
 * is a graceful leave. Incarnations are 32-bit and only the member itself raises its own.
 */
export type Message =
  /** `target`: the member id (src/core/membership/member-id.ts) of the member meant to answer; others ignore it. */
  | { readonly type: 'ping'; readonly seq: number; readonly target: number }
  | { readonly type: 'ping-req'; readonly seq: number; readonly target: string; readonly targetAddr: string }
  | { readonly type: 'ack'; readonly seq: number }
  | { readonly type: 'nack'; readonly seq: number }
  | { readonly type: 'alive'; readonly name: string; readonly incarnation: number; readonly addr: string; readonly meta: Uint8Array }
  | { readonly type: 'suspect'; readonly name: string; readonly incarnation: number; readonly from: string }
  | { readonly type: 'dead'; readonly name: string; readonly incarnation: number; readonly from: string }
  | { readonly type: 'push-pull'; readonly join: boolean; readonly reply: boolean; readonly members: readonly MemberState[] };

/**
 * One datagram (or one TCP frame): who sent it and its messages, in order. `sender` is undefined when the frame's
 * sender id names no member the receiver knows (src/core/membership/member-id.ts MemberIds.resolve); the
 * detector's own packets always carry its name.
 */
export interface Packet {
  readonly sender: string | undefined;
  readonly messages: readonly Message[];
}

/**
 * Timing and fan-out. All durations in milliseconds. Defaults (see DEFAULT_TIMING) aim at layer-2
 * failover p50 ≤ 0.5 s and p99 ≤ 1 s on a LAN with per-node gossip bandwidth flat in the member count.
 */
export interface MembershipTiming {
  /** Time between two probe rounds of one member (each round probes one member). */
  readonly probeIntervalMs: number;
  /** Time to wait for a direct ack before asking `indirectChecks` members to probe indirectly. */
  readonly probeTimeoutMs: number;
  /** Members asked to probe a silent target on our behalf (SWIM's k). */
  readonly indirectChecks: number;
  /** Suspicion timeout = suspicionMult × max(1, log10 N) × probeInterval (memberlist's formula). */
  readonly suspicionMult: number;
  /** Lifeguard: a fresh suspicion starts at suspicionMaxMult × the timeout and shrinks to it with confirmations. */
  readonly suspicionMaxMult: number;
  /** Lifeguard's k: independent confirmations that bring a suspicion down to its minimum (capped at N − 2). */
  readonly suspicionConfirmations: number;
  /** Each update is piggybacked retransmitMult × ceil(log10(N + 1)) times. */
  readonly retransmitMult: number;
  /** Interval of the dedicated gossip round, sent only when updates are queued. */
  readonly gossipIntervalMs: number;
  /** Members per dedicated gossip round. */
  readonly gossipFanout: number;
  /** Base interval of the full state sync over TCP; scaled up with log2 N beyond 32 members. 0 disables it. */
  readonly pushPullIntervalMs: number;
  /** Lifeguard's local health multiplier ceiling: probe interval and timeout scale by (1 + health), health ≤ this. */
  readonly maxLocalHealth: number;
  /** A timer that fires more than this late means our own event loop lagged; its verdict is not trusted. */
  readonly lateToleranceMs: number;
  /** How long dead and left members are kept (and occasionally synced with) before being forgotten. */
  readonly deadRetentionMs: number;
  /** Byte budget of one UDP packet's body, piggybacked updates included. */
  readonly maxPacketBytes: number;
  /**
   * Passive liveness: a probe round passes over a member a UDP packet came from within recentContactMult ×
   * probeIntervalMs (its own ping, or its ack to ours, proved it alive) and pings the next one in the round-robin
   * that needs it, or nobody. Suspects are always pinged. So two members exchange at most one ping and ack per
   * window: at the default 4 (400 ms at 100 ms rounds; capped at 2 × (n − 1) rounds, see recentContactWindowMs) a
   * 3-member cluster sends ≈ 4.4 packets/s per node instead of SWIM's 20. 0 pings every round as SWIM does.
   */
  readonly recentContactMult: number;
}

/**
 * Defaults: 100 ms rounds, 50 ms direct timeout, 3 indirect checks; a suspicion lasts 0.45 s, or 0.15 s once a
 * second member confirms it (N ≤ 10; × log10 N beyond); a round passes over members heard from in the last
 * 400 ms (200 ms with 2 members: recentContactWindowMs). Expected detection on a LAN at 3 members: the first probe
 * of the dead member a window after the others last heard from it, the verdict one round later, then the
 * suspicion: ≈ 0.45 s at the median, < 0.8 s at the 99th percentile without loss (simulation). A member must stall
 * ≳ 0.35 s to risk being declared dead (as with the earlier 2-round window and 0.2 s suspicion, whose stall
 * tolerance this matches or beats for every stall length, bench/probe-traffic.ts). UDP packets sent per node (ping
 * or ack): ≈ 4.4/s at 3 members (keepalived's MASTER sends 10/s at 100 ms adverts), ≈ 18–20/s from 10 members on,
 * where a target has rarely been heard from lately.
 */
export const DEFAULT_TIMING: MembershipTiming = {
  probeIntervalMs: 100,
  probeTimeoutMs: 50,
  indirectChecks: 3,
  suspicionMult: 1.5,
  suspicionMaxMult: 3,
  suspicionConfirmations: 1,
  retransmitMult: 4,
  gossipIntervalMs: 50,
  gossipFanout: 3,
  pushPullIntervalMs: 15_000,
  maxLocalHealth: 8,
  lateToleranceMs: 15,
  deadRetentionMs: 60_000,
  maxPacketBytes: 1200,
  recentContactMult: 4,
};

/** Events into the detector. `now` is a monotonic millisecond clock supplied by the adapter. */
export type MembershipEvent =
  | { readonly kind: 'start'; readonly now: number }
  | { readonly kind: 'timer'; readonly id: string; readonly now: number }
  /** A datagram (via 'udp') or a TCP sync frame (via 'tcp', `conn` names the connection to reply on). */
  | { readonly kind: 'packet'; readonly now: number; readonly from: string; readonly packet: Packet; readonly via: 'udp' | 'tcp'; readonly conn?: number }
  /** Addresses to sync with (discovery: speaker Pods by --ml-labels); ones already alive are skipped. */
  | { readonly kind: 'join'; readonly now: number; readonly addrs: readonly string[] }
  /** A TCP sync we opened failed (connect refused, timeout): nothing to merge. */
  | { readonly kind: 'sync-failed'; readonly now: number; readonly to: string }
  | { readonly kind: 'set-meta'; readonly now: number; readonly meta: Uint8Array }
  | { readonly kind: 'leave'; readonly now: number };

/** Actions out of the detector, executed in order by the adapter. */
export type MembershipAction =
  | { readonly kind: 'send'; readonly to: string; readonly packet: Packet }
  /** Open a TCP connection to `to`, send `packet` (a push-pull), read one reply frame back as a 'tcp' packet event. */
  | { readonly kind: 'sync'; readonly to: string; readonly packet: Packet }
  /** Reply on an inbound TCP connection, then close it. */
  | { readonly kind: 'sync-reply'; readonly conn: number; readonly packet: Packet }
  | { readonly kind: 'set-timer'; readonly id: string; readonly at: number }
  | { readonly kind: 'clear-timer'; readonly id: string }
  | { readonly kind: 'member-up'; readonly member: Member }
  | { readonly kind: 'member-updated'; readonly member: Member }
  /** `from`: who declared it (our own name when our suspicion expired here; the member itself for a leave). */
  | { readonly kind: 'member-down'; readonly member: Member; readonly from: string }
  /** Observability: a member became suspect here, or we refuted a suspicion of ourselves. */
  | { readonly kind: 'member-suspect'; readonly member: Member; readonly from: string }
  | { readonly kind: 'refuted'; readonly incarnation: number }
  /** Observability: a probe verdict was discarded because our own timer fired late (event-loop lag). */
  | { readonly kind: 'late-timer'; readonly id: string; readonly lateMs: number };
