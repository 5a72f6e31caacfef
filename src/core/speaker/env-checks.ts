/**
 * The speaker's environment checks (issue 13 §3), pure: each takes what an adapter read (sysctl values, the
 * interface list, a bind error, gossip's missing peers, BGP session states) and returns findings, each with a stable
 * reason code (the Warning Event's `reason` on the speaker's Node) and a message saying what is wrong and the fix.
 * No finding = the check passes. The speaker (src/speaker/startup-checks.ts) runs them at start and on change and
 * reports each finding once while it holds (FindingTracker below).
 *
 * Checks, reason codes and their `check` label (metric `metallb_speaker_startup_check_failed{check}`):
 * - strictARP / `StrictARPMissing`: kube-proxy in IPVS mode (interface `kube-ipvs0` exists) and, on an interface
 *   that answers ARP, max(conf/all/arp_ignore, conf/<if>/arp_ignore) < 1 or max(conf/all/arp_announce,
 *   conf/<if>/arp_announce) < 2 (Linux Documentation/networking/ip-sysctl.rst: both take the maximum of `all` and
 *   the interface). IPVS puts every LoadBalancer IP on kube-ipvs0, so without strict ARP every node answers ARP
 *   for every IP. kube-proxy's `ipvs.strictARP: true` writes arp_ignore=1, arp_announce=2 to `all`.
 * - memberlistPort / `MemberlistPortInUse`: binding `--ml-bindaddr`:`--ml-bindport` failed with EADDRINUSE.
 * - memberlistReachable / `MemberlistPortUnreachable`: a speaker Kubernetes has alive (Node Ready, Pod Running and
 *   Ready) that gossip has not had alive for `windowMs` (one finding per peer).
 * - announceInterface / `NoAnnounceInterface`: the running config has a layer2 pool and no interface can answer
 *   ARP or NDP (spec §5.2 rules, src/core/layer2/interfaces.ts).
 * - bgpPeer / `BGPPeerSilent`: a BGP session that has not reached Established in the `windowMs` since it started
 *   (one finding per peer; the last connection error in the message). Once Established, it is no longer
 *   "silent": later outages are `metallb_bgp_session_up`'s job.
 */

export type CheckName = 'strictARP' | 'memberlistPort' | 'memberlistReachable' | 'announceInterface' | 'bgpPeer';

export const CHECK_NAMES: readonly CheckName[] = ['strictARP', 'memberlistPort', 'memberlistReachable', 'announceInterface', 'bgpPeer'];

export type FindingReason = 'StrictARPMissing' | 'MemberlistPortInUse' | 'MemberlistPortUnreachable' | 'NoAnnounceInterface' | 'BGPPeerSilent';

export interface Finding {
  readonly check: CheckName;
  readonly reason: FindingReason;
  /** What the finding is about when a check can find several (a peer node, a BGP peer); undefined otherwise. */
  readonly subject?: string | undefined;
  /** For the user: what is wrong, and the fix. */
  readonly message: string;
}

/** The interface kube-proxy creates in IPVS mode to hold every Service IP. */
export const IPVS_INTERFACE = 'kube-ipvs0';

/** arp_ignore / arp_announce of one `conf/<name>` directory; undefined = unreadable. */
export interface ArpSysctls {
  readonly arpIgnore: number | undefined;
  readonly arpAnnounce: number | undefined;
}

export interface StrictArpInput {
  /** Every interface name of the node's network namespace. */
  readonly interfaces: readonly string[];
  /** Interfaces that answer ARP (up, broadcast, not NOARP, not enslaved), with their own sysctls. */
  readonly arpInterfaces: ReadonlyArray<{ readonly name: string } & ArpSysctls>;
  /** conf/all. */
  readonly all: ArpSysctls;
}

/**
 * kube-proxy IPVS without strict ARP. An unreadable value counts as the kernel default 0 (a node whose /proc is
 * unreadable gets the warning, not silence). kube-ipvs0 itself is not checked: it is where the IPs sit.
 */
export function checkStrictArp(input: StrictArpInput): Finding[] {
  if (!input.interfaces.includes(IPVS_INTERFACE)) return [];
  const bad: string[] = [];
  for (const i of input.arpInterfaces) {
    if (i.name === IPVS_INTERFACE) continue;
    const ignore = Math.max(input.all.arpIgnore ?? 0, i.arpIgnore ?? 0);
    const announce = Math.max(input.all.arpAnnounce ?? 0, i.arpAnnounce ?? 0);
    const why: string[] = [];
    if (ignore < 1) why.push(`arp_ignore ${ignore}`);
    if (announce < 2) why.push(`arp_announce ${announce}`);
    if (why.length > 0) bad.push(`${i.name} (${why.join(', ')})`);
  }
  if (bad.length === 0) return [];
  return [{
    check: 'strictARP', reason: 'StrictARPMissing',
    message: `kube-proxy runs in IPVS mode (interface ${IPVS_INTERFACE} exists) without strict ARP: this node answers ARP for every `
      + `LoadBalancer IP on ${bad.join(', ')}, so layer-2 IPs reach random nodes. Fix: set ipvs.strictARP: true in kube-proxy's `
      + 'configuration (ConfigMap kube-proxy in kube-system) and restart kube-proxy, or set net.ipv4.conf.all.arp_ignore=1 and '
      + 'net.ipv4.conf.all.arp_announce=2 on the node',
  }];
}

/** Node's error codes of a failed bind (err.code). */
export function checkMemberlistBind(input: { readonly error: { readonly code?: string | undefined; readonly message: string } | undefined; readonly addr: string; readonly port: number }): Finding[] {
  if (input.error === undefined || input.error.code !== 'EADDRINUSE') return [];
  return [{
    check: 'memberlistPort', reason: 'MemberlistPortInUse',
    message: `the memberlist port ${input.addr}:${input.port} (UDP and TCP) is already in use on this node, so this speaker cannot `
      + 'gossip and announces nothing until it is free (it retries). Fix: stop what holds it (`ss -lunpt sport = :'
      + `${input.port}\` shows it: often a second speaker or another memberlist user), or give the speakers another port `
      + '(--ml-bindport / METALLB_ML_BIND_PORT, the same on every node)',
  }];
}

export interface MemberlistReachInput {
  /** Speakers Kubernetes has alive that gossip does not have alive, and since when (ms, monotonic). */
  readonly missing: ReadonlyArray<{ readonly node: string; readonly sinceMs: number }>;
  readonly nowMs: number;
  /** How long a peer may be missing before it is reported, ms. */
  readonly windowMs: number;
  readonly port: number;
}

/** Speakers that never become alive in gossip: one finding per peer, missing for at least windowMs. */
export function checkMemberlistReachable(input: MemberlistReachInput): Finding[] {
  return input.missing.filter((m) => input.nowMs - m.sinceMs >= input.windowMs).map((m) => ({
    check: 'memberlistReachable' as const, reason: 'MemberlistPortUnreachable' as const, subject: m.node,
    message: `the speaker on node ${JSON.stringify(m.node)} is Running and Ready but has not answered this speaker's gossip on port `
      + `${input.port} for ${Math.round(input.windowMs / 1000)} s: layer-2 failover between the two nodes is slow `
      + `(it waits for Kubernetes' NotReady) and both may answer for the same IP. Fix: allow UDP and TCP port ${input.port} `
      + 'between the nodes (firewall, security groups, NetworkPolicy on host networking), and use the same --ml-bindport and '
      + 'memberlist secret on every node',
  }));
}

export interface AnnounceInterfaceInput {
  /** The running config has a layer2 pool (undefined: no config yet; nothing is reported). */
  readonly layer2InUse: boolean | undefined;
  readonly interfaces: ReadonlyArray<{ readonly name: string; readonly arp: boolean; readonly ndp: boolean }>;
}

/** A layer2 pool and no interface able to answer ARP or NDP. */
export function checkAnnounceInterfaces(input: AnnounceInterfaceInput): Finding[] {
  if (input.layer2InUse !== true || input.interfaces.some((i) => i.arp || i.ndp)) return [];
  return [{
    check: 'announceInterface', reason: 'NoAnnounceInterface',
    message: 'the config has a layer2 pool but no interface of this node can answer ARP or NDP (an interface must be up, '
      + 'have an Ethernet MAC, not be NOARP or a bridge/bond member; ARP also needs BROADCAST, NDP an IPv6 link-local '
      + 'address), so this node cannot announce layer-2 IPs. Fix: run the speaker with hostNetwork: true (the manifests '
      + 'do), and check `ip link` on the node',
  }];
}

export interface BgpPeerState {
  /** The session key (`peer` label of metallb_bgp_session_up). */
  readonly peer: string;
  /** When the session started (ms, monotonic). */
  readonly startedAtMs: number;
  /** The session has been Established at least once since it started. */
  readonly established: boolean;
  /** The last connection error, if any. */
  readonly lastError?: string | undefined;
  /** Passive session (`--bgp-listen`): waiting for the router to connect. */
  readonly passive?: boolean | undefined;
}

/** Sessions that have not reached Established in windowMs since they started: one finding per peer. */
export function checkBgpPeers(input: { readonly peers: readonly BgpPeerState[]; readonly nowMs: number; readonly windowMs: number }): Finding[] {
  return input.peers.filter((p) => !p.established && input.nowMs - p.startedAtMs >= input.windowMs).map((p) => ({
    check: 'bgpPeer' as const, reason: 'BGPPeerSilent' as const, subject: p.peer,
    message: `BGP peer ${p.peer} has not reached Established in the ${Math.round(input.windowMs / 1000)} s since its session started`
      + (p.lastError === undefined ? '' : ` (last error: ${p.lastError})`) + ', so it has none of this node\'s routes. Fix: '
      + (p.passive
        ? 'the router must connect to this node (--bgp-listen): check its neighbor address and AS, and that it reaches this port'
        : 'check the peer-address, peer-port, peer-asn and my-asn of the peer in the config against the router\'s neighbor '
          + 'configuration, that the router accepts connections from this node\'s address, and that no firewall drops TCP to the peer port'),
  }));
}

/** A finding's identity: while a finding with this key holds, it is reported once, whatever its message says. */
function keyOf(f: Finding): string {
  return `${f.reason}|${f.subject ?? ''}`;
}

export interface FindingChanges {
  /** Findings to report (new ones). */
  readonly raised: readonly Finding[];
  /** Findings that no longer hold. */
  readonly cleared: readonly Finding[];
  /** Checks whose failing state changed, with the new state (the gauge's value). */
  readonly failing: ReadonlyMap<CheckName, boolean>;
}

/**
 * Holds the current findings per check and tells what changed when a check is re-run: a finding is raised once
 * while it holds (its message may change meanwhile: the elapsed time, the last error), again only after it cleared.
 */
export class FindingTracker {
  private readonly current = new Map<CheckName, Map<string, Finding>>();

  /** The findings of `check` now are `findings` (all of that check; others' are ignored). */
  update(check: CheckName, findings: readonly Finding[]): FindingChanges {
    const before = this.current.get(check) ?? new Map<string, Finding>();
    const after = new Map<string, Finding>();
    for (const f of findings) if (f.check === check) after.set(keyOf(f), f);
    const raised = [...after].filter(([k]) => !before.has(k)).map(([, f]) => f);
    const cleared = [...before].filter(([k]) => !after.has(k)).map(([, f]) => f);
    this.current.set(check, after);
    const failing = new Map<CheckName, boolean>();
    if ((before.size > 0) !== (after.size > 0)) failing.set(check, after.size > 0);
    return { raised, cleared, failing };
  }

  /** Every finding that holds now. */
  all(): Finding[] {
    return [...this.current.values()].flatMap((m) => [...m.values()]);
  }
}
