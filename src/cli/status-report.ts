/**
 * `metallb-ts status`, the pure part (issue 13 §2): from the objects the Kubernetes API returns (the config
 * ConfigMap and its last-applied store, Services, Nodes, speaker Pods) the report of pools (size, used, free per
 * family), LoadBalancer Services (IPs → pool → protocol → announcing nodes, or why not, from the speakers' announce
 * annotations, docs/design/announce-annotations.md), the config state (applied, or refused with the blocking
 * Services, src/core/config/fail-static.ts) and the speakers alive as membership sees them (Kubernetes liveness and
 * the gossip views the speakers publish on their Pods, src/core/speaker/members-annotation.ts).
 * No I/O; never throws.
 */
import { chooseConfig, heldAddresses, parseStored, storedConfigOf, type ConfigMapObject } from '../core/config/fail-static.js';
import type { Config, ConfigResult } from '../core/config/types.js';
import { cidrContains, cidrFamily, cidrSize, parseIp, formatIp, type IpAddr } from '../core/ip/index.js';
import type { ServiceObject } from '../core/k8s/objects.js';
import { announceAnnotationKey, announcementsOn, formatAnnouncement, ANNOUNCE_ANNOTATION_PREFIX } from '../core/speaker/announce-annotation.js';
import { speakerPoolFor } from '../core/speaker/decide.js';
import { aliveFromKubernetes } from '../core/speaker/membership.js';
import { MEMBERS_ANNOTATION, parseMembers, speakerViews } from '../core/speaker/members-annotation.js';

export interface PoolReport {
  readonly name: string;
  readonly protocol: string;
  readonly addresses: readonly string[];
  /** Per family: addresses in the pool, held by a Service status, and left (decimal strings: IPv6 sizes exceed 2^53). */
  readonly ipv4: { readonly size: string; readonly used: number; readonly free: string } | undefined;
  readonly ipv6: { readonly size: string; readonly used: number; readonly free: string } | undefined;
}

export interface ServiceReport {
  readonly service: string;
  readonly ips: readonly string[];
  readonly pool: string | undefined;
  readonly protocol: string | undefined;
  /** Nodes announcing it now, each with what its speaker says (`announcing layer2 on eth0`). */
  readonly announcedBy: ReadonlyArray<{ readonly node: string; readonly detail: string }>;
  /** Why it is not announced, when no node announces it (distinct, sorted). */
  readonly reasons: readonly string[];
}

export type ConfigStateReport =
  | { readonly state: 'applied' }
  | { readonly state: 'refused'; readonly reason: string; readonly blockers: readonly string[]; readonly running: 'last-applied' | 'none' }
  | { readonly state: 'missing'; readonly running: 'last-applied' | 'none' };

/**
 * One speaker: `alive` as membership sees it (Kubernetes liveness, overruled by most other speakers' published
 * gossip views, src/core/speaker/members-annotation.ts); `kubernetes` alone; `seenBy`/`reporters` how many other
 * alive speakers that publish a view see it; `sees` its own published view (absent with gossip off).
 */
export interface SpeakerReport {
  readonly node: string;
  readonly alive: boolean;
  readonly kubernetes: boolean;
  readonly seenBy: number;
  readonly reporters: number;
  readonly sees?: readonly string[];
}

export interface StatusReport {
  readonly namespace: string;
  readonly config: ConfigStateReport;
  readonly pools: readonly PoolReport[];
  readonly services: readonly ServiceReport[];
  readonly speakers: readonly SpeakerReport[];
}

export interface StatusInput {
  readonly namespace: string;
  readonly configMap: ConfigMapObject | undefined;
  readonly store: ConfigMapObject | undefined;
  readonly services: readonly ServiceObject[];
  readonly nodes: readonly unknown[];
  readonly speakerPods: readonly unknown[];
  readonly speakerLabels: string;
  readonly parse: (text: string) => ConfigResult;
}

export function buildStatus(input: StatusInput): StatusReport {
  const running = parseStored(storedConfigOf(input.store), input.parse);
  const choice = chooseConfig({
    configMap: input.configMap === undefined ? { present: false } : { present: true, text: input.configMap.data?.['config'] },
    parse: input.parse, running, held: heldAddresses(input.services, undefined),
  });
  let config: ConfigStateReport;
  let inForce: Config | undefined;
  if (choice.kind === 'apply') {
    config = { state: 'applied' };
    inForce = choice.applied.config;
  } else {
    inForce = running?.config;
    const runs = running ? 'last-applied' : 'none';
    config = choice.kind === 'refuse' ? { state: 'refused', reason: choice.reason, blockers: choice.blockers, running: runs } : { state: 'missing', running: runs };
  }
  const lbServices = input.services.filter((s) => s.spec?.type === 'LoadBalancer' && !s.spec?.loadBalancerClass)
    .sort((a, b) => nsName(a).localeCompare(nsName(b)));
  const held = new Map<string, IpAddr>();
  for (const s of lbServices) for (const ip of statusIps(s)) { const p = parseIp(ip); if (p) held.set(formatIp(p), p); }
  const pools = (inForce?.pools ?? []).map((p) => poolReport(p, [...held.values()]));

  const nodeNames = input.nodes.map((n) => (n as { metadata?: { name?: string } }).metadata?.name ?? '').filter((n) => n !== '');
  const nodeOfKey = new Map(nodeNames.map((n) => [announceAnnotationKey(n), n]));
  const services = lbServices.map((s): ServiceReport => {
    const ips = statusIps(s);
    const parsed = ips.map(parseIp).filter((ip) => ip !== undefined);
    const pool = inForce && parsed.length === ips.length ? speakerPoolFor(inForce.pools, parsed) : undefined;
    const announcedBy: Array<{ node: string; detail: string }> = [];
    const reasons = new Set<string>();
    for (const [key, entry] of announcementsOn(s.metadata?.annotations)) {
      const node = nodeOfKey.get(key) ?? key.slice(ANNOUNCE_ANNOTATION_PREFIX.length);
      if (entry?.kind === 'announcing') announcedBy.push({ node, detail: formatAnnouncement(entry) });
      else if (entry?.kind === 'notAnnouncing') reasons.add(entry.reason);
    }
    if (ips.length === 0) reasons.add('noIPAllocated');
    else if (announcedBy.length === 0 && reasons.size === 0) reasons.add('noSpeakerReport');
    return {
      service: nsName(s), ips, pool: pool?.name, protocol: pool?.protocol,
      announcedBy: announcedBy.sort((a, b) => a.node.localeCompare(b.node)), reasons: announcedBy.length > 0 ? [] : [...reasons].sort(),
    };
  });

  const alive = aliveFromKubernetes(input.nodes, input.speakerPods, input.speakerLabels);
  const speakerNodes = new Set<string>();
  const views = new Map<string, string[]>();
  for (const pod of input.speakerPods) {
    const p = pod as { spec?: { nodeName?: string }; metadata?: { annotations?: Record<string, string> | null } };
    const node = p.spec?.nodeName;
    if (!node) continue;
    speakerNodes.add(node);
    const view = parseMembers(p.metadata?.annotations?.[MEMBERS_ANNOTATION]);
    if (view !== undefined) views.set(node, view);
  }
  for (const n of alive) speakerNodes.add(n);
  const speakers: SpeakerReport[] = speakerViews([...speakerNodes], alive, views).map((v) => ({
    node: v.node, alive: v.alive, kubernetes: v.kubernetes, seenBy: v.seenBy, reporters: v.reporters, ...(v.sees ? { sees: v.sees } : {}),
  }));
  return { namespace: input.namespace, config, pools, services, speakers };
}

function nsName(s: ServiceObject): string {
  return `${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`;
}

function statusIps(s: ServiceObject): string[] {
  const ingress = s.status?.loadBalancer?.ingress;
  return (Array.isArray(ingress) ? ingress : []).map((i) => (i as { ip?: string }).ip ?? '').filter((ip) => ip !== '');
}

function poolReport(p: Config['pools'][number], held: readonly IpAddr[]): PoolReport {
  const family = (f: 4 | 6) => {
    const cidrs = p.cidrs.filter((c) => cidrFamily(c) === f);
    if (cidrs.length === 0) return undefined;
    const size = cidrs.reduce((n, c) => n + cidrSize(c), 0n);
    const used = held.filter((ip) => ip.family === f && cidrs.some((c) => cidrContains(c, ip))).length;
    return { size: size.toString(), used, free: (size - BigInt(used)).toString() };
  };
  return { name: p.name, protocol: p.protocol, addresses: p.addresses, ipv4: family(4), ipv6: family(6) };
}
