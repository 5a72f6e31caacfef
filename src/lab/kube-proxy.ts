// What the lab's kube-proxy stand-in must put on a node, from the Services: every LoadBalancer ingress IP
// (kube-proxy in IPVS mode binds them to the node; with strictARP the kernel never answers ARP for them, only
// MetalLB's speaker does) and a listener on each of those IPs for each TCP Service port.
import { isIP } from 'node:net';

/** The part of a v1 Service this reads; anything else in the object is ignored. */
export interface ServiceShape {
  metadata?: { name?: string; namespace?: string };
  spec?: { type?: string; ports?: Array<{ port?: number; protocol?: string }> };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } };
}

export interface Listener { ip: string; port: number }

export interface ProxyPlan {
  /** Canonical IP strings to put on lo (IPv4 as /32, IPv6 as /128). */
  ips: Set<string>;
  /** Keyed by listenerKey(). */
  listeners: Map<string, Listener>;
}

export function listenerKey(l: Listener): string {
  return `${l.ip}|${l.port}`;
}

/**
 * The plan for a set of Services. Only type LoadBalancer with valid ingress IPs counts: an ingress entry that is
 * no IP (garbage a test writes on purpose) is ignored, as kube-proxy ignores it. UDP and SCTP ports get the IP but
 * no listener (the stand-in serves HTTP only).
 */
export function planFor(services: Iterable<ServiceShape>): ProxyPlan {
  const ips = new Set<string>();
  const listeners = new Map<string, Listener>();
  for (const svc of services) {
    if (svc.spec?.type !== 'LoadBalancer') continue;
    for (const ingress of svc.status?.loadBalancer?.ingress ?? []) {
      const ip = canonicalIp(ingress.ip);
      if (!ip) continue;
      ips.add(ip);
      for (const p of svc.spec.ports ?? []) {
        if ((p.protocol ?? 'TCP') !== 'TCP' || typeof p.port !== 'number') continue;
        const l = { ip, port: p.port };
        listeners.set(listenerKey(l), l);
      }
    }
  }
  return { ips, listeners };
}

/** The IP in the form `ip addr show` prints it, or undefined for anything that is not an IP. */
export function canonicalIp(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const family = isIP(text);
  if (family === 4) return text.split('.').map((o) => String(Number(o))).join('.');
  if (family === 6) {
    try {
      return new URL(`http://[${text}]/`).hostname.slice(1, -1);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Addresses on lo that are the stand-in's own (anything but loopback), from `ip -j addr show dev lo`. */
export function vipsOnLo(ipJson: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(ipJson);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const link of Array.isArray(parsed) ? parsed : []) {
    for (const a of (link as { addr_info?: Array<{ local?: string; family?: string }> }).addr_info ?? []) {
      const ip = canonicalIp(a.local);
      if (!ip || ip === '::1' || ip.startsWith('127.')) continue;
      out.push(ip);
    }
  }
  return out;
}
