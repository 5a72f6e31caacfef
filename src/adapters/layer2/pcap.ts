/**
 * One packet capture on one interface through npm `cap` (libpcap): promiscuous, immediate mode, with a
 * BPF filter, and raw frame sending on the same handle. `cap` hands each packet over in ONE shared Buffer
 * that the next packet overwrites, so every packet is copied out before the listener sees it.
 *
 * Ring memory: libpcap's capture ring (`bufSize` bytes, mmap'd by the kernel, not in the V8 heap) is what
 * grows with the number of interfaces; `bufferBytes` reports it so the announcer can add it up apart from
 * the heap.
 */
import { createRequire } from 'node:module';

interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): void;
  send(buffer: Buffer, nBytes?: number): void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
  removeAllListeners(event?: string): void;
}
interface CapModule { Cap: new () => CapHandle }

const require = createRequire(import.meta.url);
let capModule: CapModule | undefined;
/** Loads the native module lazily, so importing this file never fails on a machine without libpcap. */
function loadCap(): CapModule {
  capModule ??= require('cap') as CapModule;
  return capModule;
}

/** Largest frame we read: ARP and NDP fit in any MTU; longer frames are truncated and then not ours. */
const PACKET_BUFFER_BYTES = 2048;

/** A capture on one interface. `onFrame` receives a private copy of each frame. */
export interface PacketCapture {
  readonly device: string;
  readonly bufferBytes: number;
  /** Sends one raw Ethernet frame; throws what libpcap reports (the caller logs it). */
  send(frame: Buffer): void;
  close(): void;
}

/**
 * Opens a capture. Throws when libpcap cannot open the device or the link type is not Ethernet (a
 * responder makes no sense elsewhere); the caller logs and retries on the next interface scan.
 */
export function openCapture(device: string, filter: string, bufferBytes: number, onFrame: (frame: Buffer) => void): PacketCapture {
  const { Cap } = loadCap();
  const cap = new Cap();
  const buffer = Buffer.alloc(PACKET_BUFFER_BYTES);
  const linkType = cap.open(device, filter, bufferBytes, buffer);
  if (linkType !== 'ETHERNET') {
    cap.close();
    throw new Error(`link type ${linkType} is not Ethernet`);
  }
  let open = true;
  cap.on('packet', (nbytes, truncated) => {
    if (truncated || nbytes > PACKET_BUFFER_BYTES) return;
    // Copy before anything else: the next packet overwrites `buffer`.
    onFrame(Buffer.from(buffer.subarray(0, nbytes)));
  });
  return {
    device,
    bufferBytes,
    send(frame) {
      if (open) cap.send(frame, frame.length);
    },
    close() {
      if (!open) return;
      open = false;
      cap.removeAllListeners('packet');
      cap.close();
    },
  };
}
