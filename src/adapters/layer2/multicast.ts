/**
 * Solicited-node multicast membership (RFC 4291 §2.7.1) for owned IPv6 addresses, so that an MLD-snooping
 * switch forwards Neighbor Solicitations to this node (v0.11 joins on every NDP interface; spec §5.2). One
 * UDP/IPv6 socket holds every (group, interface) membership; the kernel then reports them by MLD and lists
 * them in `ip -6 maddr`. The socket is bound to the loopback on an ephemeral port and never read.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface MulticastMemberships {
  join(group: string, iface: string): void;
  leave(group: string, iface: string): void;
  close(): Promise<void>;
}

/** Opens the membership socket. Join/leave errors propagate to the caller to log. */
export async function openMulticastMemberships(): Promise<MulticastMemberships> {
  const socket: Socket = createSocket({ type: 'udp6', reuseAddr: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: '::1', port: 0, exclusive: true }, () => { socket.off('error', reject); resolve(); });
  });
  socket.unref();
  socket.on('error', () => {}); // never read; nothing to report asynchronously
  const joined = new Set<string>();
  return {
    join(group, iface) {
      const key = `${group}%${iface}`;
      if (joined.has(key)) return;
      socket.addMembership(group, `::%${iface}`);
      joined.add(key);
    },
    leave(group, iface) {
      const key = `${group}%${iface}`;
      if (!joined.delete(key)) return;
      socket.dropMembership(group, `::%${iface}`);
    },
    close: () => new Promise<void>((resolve) => { joined.clear(); socket.close(() => resolve()); }),
  };
}
