/**
 * Solicited-node multicast membership (RFC 4291 §2.7.1) for owned IPv6 addresses, so that an MLD-snooping
 * switch forwards Neighbor Solicitations to this node (v0.11 joins on every NDP interface; spec §5.2). UDP/IPv6
 * sockets hold the (group, interface) memberships; the kernel then reports them by MLD and lists them in
 * `ip -6 maddr`. The sockets are never read.
 *
 * One socket is not enough: the kernel charges each membership to the socket's option memory
 * (`net.core.optmem_max`) and refuses the next join with ENOMEM (2,340 groups per socket measured here), so a
 * speaker owning 10,000 IPv6 addresses opens further sockets as each one fills.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface MulticastMemberships {
  join(group: string, iface: string): void;
  leave(group: string, iface: string): void;
  close(): Promise<void>;
}

/** Errors that mean "this socket holds all the memberships the kernel lets it hold". */
const SOCKET_FULL = new Set(['ENOMEM', 'ENOBUFS']);

interface MembershipSocket { readonly socket: Socket; full: boolean }

/** A socket for memberships only; libuv binds it implicitly (`::`, ephemeral port) at its first join. */
function membershipSocket(): MembershipSocket {
  const socket = createSocket({ type: 'udp6', reuseAddr: false });
  socket.on('error', () => {}); // never read; nothing to report asynchronously
  socket.unref();
  return { socket, full: false };
}

/**
 * Opens the membership sockets. join/leave are idempotent per (group, interface); their errors other than a
 * full socket (an unknown interface, say) propagate to the caller to log.
 */
export async function openMulticastMemberships(): Promise<MulticastMemberships> {
  const sockets: MembershipSocket[] = [];
  const joined = new Map<string, MembershipSocket>();
  const tryJoin = (s: MembershipSocket, group: string, iface: string): boolean => {
    try {
      s.socket.addMembership(group, `::%${iface}`);
      return true;
    } catch (err) {
      if (!SOCKET_FULL.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      s.full = true;
      return false;
    }
  };
  return {
    join(group, iface) {
      const key = `${group}%${iface}`;
      if (joined.has(key)) return;
      for (const s of sockets) {
        if (!s.full && tryJoin(s, group, iface)) { joined.set(key, s); return; }
      }
      const fresh = membershipSocket();
      sockets.push(fresh);
      if (!tryJoin(fresh, group, iface)) throw new Error(`addMembership ${group} on ${iface}: a new socket is full at once (ENOMEM)`);
      joined.set(key, fresh);
    },
    leave(group, iface) {
      const key = `${group}%${iface}`;
      const s = joined.get(key);
      if (s === undefined) return;
      joined.delete(key);
      s.socket.dropMembership(group, `::%${iface}`);
      s.full = false;
    },
    close: async () => {
      joined.clear();
      await Promise.all(sockets.splice(0).map((s) => new Promise<void>((resolve) => s.socket.close(() => resolve()))));
    },
  };
}
