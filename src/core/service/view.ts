/**
 * The ONE place a Kubernetes Service becomes a ServiceView: the allocator's inputs (family,
 * ports, sharing and backend keys, requested addresses, pool) and the current status, as values.
 * Malformed input never throws: it becomes an `invalid` value the converge rules turn into an
 * Event (MetalLB's k8salloc + the parsing parts of controller/service.go).
 */
import { type IpAddr, parseIp, formatIp } from '../ip/index.js';
import { type FamilyRequest, type Port, familyOfIps, portKey } from '../allocator/types.js';
import type { ServiceLike, IngressLike, ServicePortLike } from './service-like.js';

export type { ServiceLike, IngressLike, ServicePortLike } from './service-like.js';

/** Annotation naming the pool to allocate from. */
export const ANNOTATION_ADDRESS_POOL = 'metallb.universe.tf/address-pool';
/** Annotation carrying the sharing key (opaque; "" = no sharing). */
export const ANNOTATION_ALLOW_SHARED_IP = 'metallb.universe.tf/allow-shared-ip';
/** v0.12 annotation requesting exact addresses: "ip" or "ip1,ip2". */
export const ANNOTATION_LOAD_BALANCER_IPS = 'metallb.universe.tf/loadBalancerIPs';

/** A status ingress entry, normalised: only `ip`/`hostname` (ipMode and ports are ignored). */
export interface Ingress {
  readonly ip?: string;
  readonly hostname?: string;
}

/** The Service's IP family from its cluster IPs. */
export type ClusterFamily =
  | { readonly kind: 'ok'; readonly family: FamilyRequest }
  /** Headless (`None`) or no cluster IP at all: MetalLB clears the service silently. */
  | { readonly kind: 'none' }
  /** Cluster IPs present but unusable (unparsable, two of one family…): `noclusterIPsIPFamily`. */
  | { readonly kind: 'invalid'; readonly detail: string };

/** Addresses the user asked for via `spec.loadBalancerIP` or the loadBalancerIPs annotation. */
export type RequestedIps =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'ips';
      readonly source: 'spec' | 'annotation';
      readonly ips: readonly IpAddr[];
      /** Undefined when the addresses have no single family (e.g. two IPv4). */
      readonly family: FamilyRequest | undefined;
      /** As written, for messages. */
      readonly text: string;
    }
  | { readonly kind: 'invalid'; readonly reason: 'both' | 'spec' | 'annotation'; readonly message: string };

/** The addresses in the current status. */
export type StatusIps =
  | { readonly kind: 'none' }
  | { readonly kind: 'ok'; readonly ips: readonly IpAddr[]; readonly family: FamilyRequest }
  /** IP entries that do not parse or have no family (e.g. two IPv4): `nolbIPsIPFamily`. */
  | { readonly kind: 'invalid'; readonly detail: string };

/** Everything the controller needs from a Service, already validated. */
export interface ServiceView {
  /** `spec.type`, "" when absent. */
  readonly type: string;
  readonly isLoadBalancer: boolean;
  /** `spec.loadBalancerClass`, undefined when unset or "". */
  readonly lbClass: string | undefined;
  readonly clusterFamily: ClusterFamily;
  readonly sharingKey: string;
  readonly backendKey: string;
  /** De-duplicated (protocol, port) pairs; protocol defaults to TCP. */
  readonly ports: readonly Port[];
  /** Pool annotation, "" = none. */
  readonly pool: string;
  readonly requested: RequestedIps;
  /** Current status ingress, normalised. */
  readonly ingress: readonly Ingress[];
  readonly statusIps: StatusIps;
}

/** Builds the view. Pure; never throws. */
export function toServiceView(svc: ServiceLike): ServiceView {
  const spec = svc.spec ?? {};
  const annotations = svc.metadata?.annotations ?? {};
  const ingress = normaliseIngress(svc.status?.loadBalancer?.ingress);
  const type = spec.type ?? '';
  return {
    type,
    isLoadBalancer: type === 'LoadBalancer',
    lbClass: spec.loadBalancerClass ? spec.loadBalancerClass : undefined,
    clusterFamily: clusterFamilyOf(spec.clusterIPs, spec.clusterIP, spec.ipFamilies),
    sharingKey: stringOr(annotations[ANNOTATION_ALLOW_SHARED_IP]),
    backendKey: spec.externalTrafficPolicy === 'Local' ? selectorString(spec.selector) : '',
    ports: portsOf(spec.ports),
    pool: stringOr(annotations[ANNOTATION_ADDRESS_POOL]),
    requested: requestedOf(stringOr(spec.loadBalancerIP), stringOr(annotations[ANNOTATION_LOAD_BALANCER_IPS])),
    ingress,
    statusIps: statusIpsOf(ingress),
  };
}

function stringOr(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Keeps only ip/hostname of each entry (the apiserver defaults `ipMode: VIP`; we never write it). */
export function normaliseIngress(entries: readonly IngressLike[] | null | undefined): Ingress[] {
  const out: Ingress[] = [];
  for (const e of entries ?? []) {
    if (e === null || typeof e !== 'object') continue;
    const entry: { ip?: string; hostname?: string } = {};
    if (typeof e.ip === 'string' && e.ip !== '') entry.ip = e.ip;
    if (typeof e.hostname === 'string' && e.hostname !== '') entry.hostname = e.hostname;
    out.push(entry);
  }
  return out;
}

/** True when two normalised ingress lists are the same status. */
export function sameIngress(a: readonly Ingress[], b: readonly Ingress[]): boolean {
  return a.length === b.length && a.every((x, i) => x.ip === b[i]?.ip && x.hostname === b[i]?.hostname);
}

/** Kubernetes' `labels.Set.String()`: `k=v` pairs sorted by key, comma-joined. */
function selectorString(selector: Readonly<Record<string, string>> | null | undefined): string {
  if (!selector) return '';
  return Object.keys(selector)
    .sort()
    .map((k) => `${k}=${String(selector[k])}`)
    .join(',');
}

function portsOf(ports: readonly ServicePortLike[] | null | undefined): Port[] {
  const seen = new Set<string>();
  const out: Port[] = [];
  for (const p of ports ?? []) {
    if (p === null || typeof p !== 'object' || typeof p.port !== 'number' || !Number.isInteger(p.port)) continue;
    const port: Port = { proto: typeof p.protocol === 'string' && p.protocol !== '' ? p.protocol : 'TCP', port: p.port };
    const key = portKey(port);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(port);
  }
  return out;
}

function clusterFamilyOf(
  clusterIPs: readonly string[] | null | undefined,
  clusterIP: string | null | undefined,
  ipFamilies: readonly string[] | null | undefined,
): ClusterFamily {
  const listed = (clusterIPs ?? []).filter((s) => typeof s === 'string' && s !== '');
  const texts = listed.length > 0 ? listed : typeof clusterIP === 'string' && clusterIP !== '' ? [clusterIP] : [];
  if (texts.length === 0 || texts[0] === 'None') return { kind: 'none' };
  const ips = texts.map((t) => parseIp(t));
  if (ips.some((ip) => ip === undefined)) return { kind: 'invalid', detail: `unparsable cluster IP in ${JSON.stringify(texts)}` };
  const family = familyOfIps(ips as IpAddr[]);
  if (family === undefined) return { kind: 'invalid', detail: `cluster IPs ${JSON.stringify(texts)} have no single family` };
  // Only spec.clusterIP (v0.11-era objects) but ipFamilies says dual-stack: trust ipFamilies.
  if (listed.length === 0 && family !== 'dual' && new Set(ipFamilies ?? []).size === 2) return { kind: 'ok', family: 'dual' };
  return { kind: 'ok', family };
}

function requestedOf(specIp: string, annotation: string): RequestedIps {
  if (specIp !== '' && annotation !== '') {
    return {
      kind: 'invalid',
      reason: 'both',
      message: `service can not have both ${ANNOTATION_LOAD_BALANCER_IPS} and svc.Spec.LoadBalancerIP`,
    };
  }
  if (specIp !== '') {
    const ip = parseIp(specIp);
    if (ip === undefined) return { kind: 'invalid', reason: 'spec', message: `invalid spec.loadBalancerIP ${JSON.stringify(specIp)}` };
    return { kind: 'ips', source: 'spec', ips: [ip], family: familyOfIps([ip]), text: specIp };
  }
  if (annotation === '') return { kind: 'none' };
  const parts = annotation.split(',').map((s) => s.trim());
  const ips = parts.map((s) => parseIp(s));
  if (ips.some((ip) => ip === undefined) || ips.length > 2) {
    return { kind: 'invalid', reason: 'annotation', message: `invalid ${ANNOTATION_LOAD_BALANCER_IPS}: ${JSON.stringify(annotation)}` };
  }
  const parsed = ips as IpAddr[];
  return { kind: 'ips', source: 'annotation', ips: parsed, family: familyOfIps(parsed), text: annotation };
}

function statusIpsOf(ingress: readonly Ingress[]): StatusIps {
  const texts = ingress.flatMap((e) => (e.ip === undefined ? [] : [e.ip]));
  if (texts.length === 0) return { kind: 'none' };
  const ips = texts.map((t) => parseIp(t));
  if (ips.some((ip) => ip === undefined)) return { kind: 'invalid', detail: `unparsable ingress IP in ${JSON.stringify(texts)}` };
  const family = familyOfIps(ips as IpAddr[]);
  if (family === undefined) return { kind: 'invalid', detail: `ingress IPs ${JSON.stringify(texts)} have no single family` };
  return { kind: 'ok', ips: ips as IpAddr[], family };
}

/** Go `%q` of a list of addresses, e.g. `["1.2.3.4" "1000::"]` (MetalLB v0.12 messages). */
export function quoteIpList(ips: readonly IpAddr[]): string {
  return `[${ips.map((ip) => JSON.stringify(formatIp(ip))).join(' ')}]`;
}
