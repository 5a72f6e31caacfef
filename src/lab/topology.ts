// The lab's network: network namespaces on one bridge, as in ../shared/lab (FINDINGS.md, lab.sh), with
// documentation addresses only.
//
//   <p>node1 eth0 192.0.2.11 2001:db8::11 ─┐
//   <p>node2 eth0 192.0.2.12 2001:db8::12 ─┤ <p>fabric: br0 (STP off, mcast snooping off, no IPv6, no bridge-nf)
//   <p>node3 eth0 192.0.2.13 2001:db8::13 ─┤
//   <p>client eth0 192.0.2.50 2001:db8::50 ─┤
//   <p>router eth0 192.0.2.1 2001:db8::1   ─┘  eth1 203.0.113.1 2001:db8:1::1 ── <p>ext eth0 203.0.113.10 2001:db8:1::10
//
// Interfaces are created directly inside their namespaces, so nothing appears in the host namespace and two
// labs with different prefixes can run side by side.
import { existsSync } from 'node:fs';
import { runOk, run } from '../testing/cluster/processes.js';

export interface LabNode { name: string; netns: string; ipv4: string; ipv6: string; mac: string }

export const ROUTER_IPV4 = '192.0.2.1';
export const ROUTER_IPV6 = '2001:db8::1';
export const ROUTER_AS = 64512;
export const NODE_AS = 64513;

export function topologyNames(prefix: string) {
  const nodes: LabNode[] = [1, 2, 3].map((n) => ({
    name: `node${n}`, netns: `${prefix}node${n}`, ipv4: `192.0.2.1${n}`, ipv6: `2001:db8::1${n}`, mac: `02:00:00:00:00:1${n}`,
  }));
  return {
    fabric: `${prefix}fabric`, router: `${prefix}router`, client: `${prefix}client`, ext: `${prefix}ext`, nodes,
    /** In creation order; deleted in reverse. */
    all: [`${prefix}fabric`, ...nodes.map((n) => n.netns), `${prefix}client`, `${prefix}router`, `${prefix}ext`],
  };
}

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

const ip = (...args: string[]) => runOk('ip', args);
const sysctl = (netns: string, ...settings: string[]) => runOk('ip', ['netns', 'exec', netns, 'sysctl', '-qw', ...settings]);

/** Builds the topology; calls created(name) right after each namespace exists so it can be recorded. */
export async function buildTopology(prefix: string, created: (netns: string) => void): Promise<void> {
  const t = topologyNames(prefix);
  for (const ns of t.all) {
    await ip('netns', 'add', ns);
    created(ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    // rp_filter: a new netns inherits the host's IPv4 defaults; pin 0 so client→router→node replies pass.
    // accept_dad=0 must come before any interface exists, or link-locals stay tentative for ~2 s.
    await sysctl(ns, 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0',
      'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
  }
  await sysctl(t.fabric, 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
  // br_netfilter is built in: without this the bridge would pass frames through iptables.
  await run('ip', ['netns', 'exec', t.fabric, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=0',
    'net.bridge.bridge-nf-call-ip6tables=0', 'net.bridge.bridge-nf-call-arptables=0']);
  await ip('-n', t.fabric, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'mcast_snooping', '0');
  await ip('-n', t.fabric, 'link', 'set', 'br0', 'up');

  const l2: Array<{ netns: string; port: string; mac: string; ipv4: string; ipv6: string }> = [
    ...t.nodes.map((n) => ({ netns: n.netns, port: `p-${n.name}`, mac: n.mac, ipv4: n.ipv4, ipv6: n.ipv6 })),
    { netns: t.client, port: 'p-client', mac: '02:00:00:00:00:50', ipv4: '192.0.2.50', ipv6: '2001:db8::50' },
    { netns: t.router, port: 'p-router', mac: '02:00:00:00:00:01', ipv4: ROUTER_IPV4, ipv6: ROUTER_IPV6 },
  ];
  for (const h of l2) {
    await ip('link', 'add', 'eth0', 'netns', h.netns, 'address', h.mac, 'type', 'veth', 'peer', 'name', h.port, 'netns', t.fabric);
    await ip('-n', t.fabric, 'link', 'set', h.port, 'master', 'br0', 'up');
    await ip('-n', h.netns, 'link', 'set', 'eth0', 'up');
    await ip('-n', h.netns, 'addr', 'add', `${h.ipv4}/24`, 'dev', 'eth0');
    await ip('-n', h.netns, 'addr', 'add', `${h.ipv6}/64`, 'dev', 'eth0', 'nodad');
    if (h.netns !== t.router) {
      await ip('-n', h.netns, 'route', 'add', 'default', 'via', ROUTER_IPV4);
      await ip('-n', h.netns, '-6', 'route', 'add', 'default', 'via', ROUTER_IPV6);
    }
  }
  for (const n of t.nodes) {
    // Like kube-proxy's strictARP: the kernel must not answer ARP for VIPs on lo; only the speaker does.
    await sysctl(n.netns, 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2');
  }

  await ip('link', 'add', 'eth1', 'netns', t.router, 'address', '02:00:00:00:01:01', 'type', 'veth',
    'peer', 'name', 'eth0', 'netns', t.ext, 'address', '02:00:00:00:01:10');
  await ip('-n', t.router, 'link', 'set', 'eth1', 'up');
  await ip('-n', t.ext, 'link', 'set', 'eth0', 'up');
  await ip('-n', t.router, 'addr', 'add', '203.0.113.1/24', 'dev', 'eth1');
  await ip('-n', t.router, 'addr', 'add', '2001:db8:1::1/64', 'dev', 'eth1', 'nodad');
  await ip('-n', t.ext, 'addr', 'add', '203.0.113.10/24', 'dev', 'eth0');
  await ip('-n', t.ext, 'addr', 'add', '2001:db8:1::10/64', 'dev', 'eth0', 'nodad');
  await ip('-n', t.ext, 'route', 'add', 'default', 'via', '203.0.113.1');
  await ip('-n', t.ext, '-6', 'route', 'add', 'default', 'via', '2001:db8:1::1');
  // Per-flow ECMP hashing so BGP multipath spreads connections over the nodes.
  await sysctl(t.router, 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1',
    'net.ipv4.fib_multipath_hash_policy=1', 'net.ipv6.fib_multipath_hash_policy=1');
}

/** PIDs of processes still running inside a namespace. */
export async function netnsPids(netns: string): Promise<number[]> {
  if (!netnsExists(netns)) return [];
  const result = await run('ip', ['netns', 'pids', netns]);
  return result.stdout.split('\n').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
}

export async function deleteNetns(netns: string): Promise<void> {
  if (netnsExists(netns)) await runOk('ip', ['netns', 'del', netns]);
}

/**
 * Pings across the lab (L2, and through the router, IPv4 and IPv6); returns the failed pairs. Catches a
 * broken topology (e.g. tentative IPv6 addresses) before anything is built on it.
 */
export async function checkConnectivity(prefix: string): Promise<string[]> {
  const t = topologyNames(prefix);
  const pairs: Array<[string, string]> = [
    ...t.nodes.flatMap((n): Array<[string, string]> => [[t.client, n.ipv4], [t.client, n.ipv6]]),
    [t.ext, t.nodes[1]!.ipv4], [t.ext, t.nodes[2]!.ipv6], [t.nodes[0]!.netns, '2001:db8:1::10'],
  ];
  const results = await Promise.all(pairs.map(async ([from, to]) =>
    ((await run('ip', ['netns', 'exec', from, 'ping', '-c1', '-W2', '-q', to])).code === 0 ? undefined : `${from} -> ${to}`)));
  return results.filter((r): r is string => r !== undefined);
}
