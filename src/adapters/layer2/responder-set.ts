/**
 * The responders of one process: one capture per interface, each captured frame answered through the pure
 * responder (src/core/layer2/responder.ts) against the owned set, gratuitous bursts sent on request. Used
 * inside the responder host process (responder-host.ts), or inline by tests with fake captures.
 */
import type { LogFields } from '../../core/ports.js';
import { answerFrame, claimInFrame, gratuitousFrames, parseMac, probeFrames, DROP_REASONS, type Claim, type DropReason } from '../../core/layer2/index.js';
import type { Layer2Interface } from './interfaces.js';
import type { PacketCapture, openCapture } from './pcap.js';

/** An interface to answer on, with the capture ring size the announcer granted it. */
export interface ResponderSpec extends Layer2Interface { readonly bufferBytes: number }

export interface ResponderSetEvents {
  log(level: 'debug' | 'info' | 'error', fields: LogFields): void;
  /** A request for an owned IP was answered (requests_received and responses_sent both +1). */
  answered(ip: string): void;
  /** A request for an owned IP could not be answered (send failed): requests_received +1 only. */
  unanswered(ip: string): void;
  /** A frame was dropped (counted in stats().drops). */
  dropped?(reason: DropReason): void;
  /** Another MAC answered for or announced an owned IP (split brain, src/core/layer2/conflict.ts). */
  claimed?(claim: Claim & { readonly interface: string }): void;
}

export interface ResponderSetStats {
  readonly interfaces: ReadonlyArray<{ readonly name: string; readonly arp: boolean; readonly ndp: boolean; readonly bufferBytes: number }>;
  readonly drops: Readonly<Record<DropReason, number>>;
  readonly replies: number;
}

interface Responder { readonly spec: ResponderSpec; readonly mac: Buffer; readonly capture: PacketCapture }

export class ResponderSet {
  private readonly responders = new Map<string, Responder>();
  private owned = new Set<string>();
  private readonly drops = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  private replies = 0;
  private readonly open: typeof openCapture;
  private readonly events: ResponderSetEvents;

  constructor(open: typeof openCapture, events: ResponderSetEvents) {
    this.open = open;
    this.events = events;
  }

  /** Replaces the owned set (the responder host's start or restart). */
  setOwned(ips: Iterable<string>): void {
    this.owned = new Set(ips);
  }

  /** How many IPs are owned now. */
  ownedCount(): number {
    return this.owned.size;
  }

  /** Applies a change of the owned set: `add` become owned, `remove` no longer are. */
  updateOwned(add: Iterable<string>, remove: Iterable<string>): void {
    for (const ip of add) this.owned.add(ip);
    for (const ip of remove) this.owned.delete(ip);
  }

  /** Makes the open responders exactly `specs`: closes the gone or changed ones, opens the new ones. */
  sync(specs: readonly ResponderSpec[]): void {
    const wanted = new Map(specs.map((s) => [s.name, s]));
    for (const r of [...this.responders.values()]) {
      const w = wanted.get(r.spec.name);
      const same = w !== undefined && w.mac === r.spec.mac && w.arp === r.spec.arp && w.ndp === r.spec.ndp && w.bufferBytes === r.spec.bufferBytes;
      if (!same) this.closeOne(r, w === undefined ? 'interface no longer qualifies' : 'interface or buffer changed');
    }
    for (const s of specs) if (!this.responders.has(s.name)) this.openOne(s);
  }

  /** Sends the split-brain probe of each IP (ARP Probe / NS) on every interface of its family; returns the packets sent. */
  probe(ips: Iterable<string>): number {
    let packets = 0;
    for (const ip of ips) {
      const v6 = ip.includes(':');
      for (const r of this.responders.values()) {
        if (v6 ? !r.spec.ndp : !r.spec.arp) continue;
        for (const frame of probeFrames(ip, r.mac)) {
          try { r.capture.send(frame); packets++; } catch (err) {
            this.events.log('error', { op: 'splitBrainProbe', interface: r.spec.name, ip, error: String(err), msg: 'failed to send probe' });
          }
        }
      }
    }
    return packets;
  }

  /** Sends the gratuitous frames of `ip` on every interface of its family; returns the packets sent. */
  burst(ip: string): number {
    let packets = 0;
    const v6 = ip.includes(':');
    for (const r of this.responders.values()) {
      if (v6 ? !r.spec.ndp : !r.spec.arp) continue;
      for (const frame of gratuitousFrames(ip, r.mac)) {
        try { r.capture.send(frame); packets++; } catch (err) {
          this.events.log('error', { op: 'gratuitous', interface: r.spec.name, ip, error: String(err), msg: 'failed to send gratuitous packet' });
        }
      }
    }
    return packets;
  }

  stats(): ResponderSetStats {
    return {
      interfaces: [...this.responders.values()].map((r) => ({ name: r.spec.name, arp: r.spec.arp, ndp: r.spec.ndp, bufferBytes: r.spec.bufferBytes })),
      drops: { ...this.drops }, replies: this.replies,
    };
  }

  close(): void {
    for (const r of [...this.responders.values()]) this.closeOne(r, 'announcer closed');
  }

  private onFrame(r: Responder, frame: Buffer): void {
    const claim = claimInFrame(frame, (mac) => this.isOwnMac(mac), (ip) => this.owned.has(ip));
    if (claim !== undefined) this.events.claimed?.({ ...claim, interface: r.spec.name });
    const out = answerFrame(frame, r.mac, (ip) => this.owned.has(ip));
    if (out.kind === 'drop') { this.drops[out.reason]++; this.events.dropped?.(out.reason); return; }
    try {
      r.capture.send(out.frame);
    } catch (err) {
      this.events.unanswered(out.ip);
      this.events.log('error', { op: out.protocol === 'arp' ? 'arpReply' : 'ndpReply', interface: r.spec.name, ip: out.ip, error: String(err), msg: 'failed to send response' });
      return;
    }
    this.replies++;
    this.events.answered(out.ip);
    this.events.log('debug', { event: out.protocol === 'arp' ? 'arpRequest' : 'ndpRequest', interface: r.spec.name, ip: out.ip, msg: 'got request for service IP, sent response' });
  }

  /** Any responder interface's MAC (a node with two NICs on one segment hears its own frames on the other). */
  private isOwnMac(mac: string): boolean {
    for (const r of this.responders.values()) if (r.spec.mac.toLowerCase() === mac) return true;
    return false;
  }

  private openOne(spec: ResponderSpec): void {
    // Solicitations to answer, advertisements to read claims from (split brain); ARP covers both directions.
    const protocols = [spec.arp ? 'arp' : '', spec.ndp ? '(icmp6 and (ip6[40] == 135 or ip6[40] == 136))' : ''].filter(Boolean).join(' or ');
    // Our own frames come back through the capture; drop them in the kernel's BPF, not in JavaScript.
    const filter = `(${protocols}) and not ether src ${spec.mac}`;
    let r: Responder | undefined;
    try {
      const capture = this.open(spec.name, filter, spec.bufferBytes, (frame) => { if (r) this.onFrame(r, frame); });
      r = { spec, mac: parseMac(spec.mac)!, capture };
    } catch (err) {
      this.events.log('error', { op: spec.arp ? 'createARPResponder' : 'createNDPResponder', interface: spec.name, error: String(err), msg: 'failed to create responder' });
      return;
    }
    this.responders.set(spec.name, r);
    if (spec.arp) this.events.log('info', { event: 'createARPResponder', interface: spec.name, bufferBytes: spec.bufferBytes, msg: 'created ARP responder for interface' });
    if (spec.ndp) this.events.log('info', { event: 'createNDPResponder', interface: spec.name, bufferBytes: spec.bufferBytes, msg: 'created NDP responder for interface' });
  }

  private closeOne(r: Responder, why: string): void {
    r.capture.close();
    this.responders.delete(r.spec.name);
    if (r.spec.arp) this.events.log('info', { event: 'deleteARPResponder', interface: r.spec.name, reason: why, msg: 'deleted ARP responder for interface' });
    if (r.spec.ndp) this.events.log('info', { event: 'deleteNDPResponder', interface: r.spec.name, reason: why, msg: 'deleted NDP responder for interface' });
  }
}
