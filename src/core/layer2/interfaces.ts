/**
 * Which interfaces get responders, by MetalLB v0.11's rules (spec §5.2): an ARP responder when the
 * interface is up, not enslaved (no `master`: bridge or bond ports answer through their master), not
 * IFF_NOARP and IFF_BROADCAST; an NDP responder when up, not enslaved, not IFF_NOARP and it has an IPv6
 * link-local address. We also require an Ethernet (6-byte, non-zero) MAC, since the frames we build are
 * Ethernet.
 */

/** Linux interface flags (include/uapi/linux/if.h). */
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_NOARP = 0x80;

export interface InterfaceQualification { readonly arp: boolean; readonly ndp: boolean }

/** Decides ARP/NDP responders for one interface. `flags` as in /sys/class/net/<if>/flags. */
export function qualifyInterface(i: { flags: number; enslaved: boolean; hasLinkLocal: boolean; mac: string }): InterfaceQualification {
  const ethernet = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(i.mac) && i.mac !== '00:00:00:00:00:00';
  const base = ethernet && (i.flags & IFF_UP) !== 0 && !i.enslaved && (i.flags & IFF_NOARP) === 0;
  return { arp: base && (i.flags & IFF_BROADCAST) !== 0, ndp: base && i.hasLinkLocal };
}

/** One interface and what it qualifies for. */
export interface Layer2Interface extends InterfaceQualification {
  readonly name: string;
  readonly mac: string;
}

/** The result of scanning a network namespace's interfaces (src/adapters/layer2/interfaces.ts reads it). */
export interface InterfaceScan {
  readonly interfaces: readonly Layer2Interface[];
  /** Interfaces that could not be read, with the error text. */
  readonly errors: ReadonlyArray<{ readonly name: string; readonly error: string }>;
}
