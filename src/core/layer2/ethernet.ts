/**
 * Ethernet II frames (IEEE 802.3 with an EtherType): destination MAC, source MAC, EtherType, payload.
 * No 802.1Q: MetalLB v0.11 answers on untagged interfaces (a VLAN is its own interface on Linux), and a
 * tagged frame seen by a capture is not ours to answer.
 */

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
/** Bytes of the Ethernet II header. */
export const ETHERNET_HEADER_LEN = 14;

/** A decoded Ethernet header; `payload` is a view into the frame (no copy). */
export interface EthernetFrame {
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly etherType: number;
  readonly payload: Uint8Array;
}

/** Decodes an Ethernet II header; undefined when the frame is shorter than 14 bytes. */
export function parseEthernet(frame: Uint8Array): EthernetFrame | undefined {
  if (frame.length < ETHERNET_HEADER_LEN) return undefined;
  return {
    dst: frame.subarray(0, 6),
    src: frame.subarray(6, 12),
    etherType: (frame[12]! << 8) | frame[13]!,
    payload: frame.subarray(ETHERNET_HEADER_LEN),
  };
}

/**
 * Writes an Ethernet II header into `out` at 0 and returns the offset of the payload (14). `out` must be
 * at least 14 bytes; the caller sizes it for header + payload.
 */
export function writeEthernetHeader(out: Uint8Array, dst: Uint8Array, src: Uint8Array, etherType: number): number {
  out.set(dst.subarray(0, 6), 0);
  out.set(src.subarray(0, 6), 6);
  out[12] = (etherType >> 8) & 0xff;
  out[13] = etherType & 0xff;
  return ETHERNET_HEADER_LEN;
}
