/**
 * MetalLB's BFD metrics (names from src/core/bfd/metrics.ts, v0.12 FRR mode), labelled `peer` = the peer's address
 * (MetalLB's BFD metrics name the BFD peer by IP, without the BGP port). Echo counters are registered and stay 0:
 * the native speaker has no Echo function. A removed peer's series are removed.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { BFD_METRICS } from '../../core/bfd/index.js';

export interface BfdMetrics {
  sessionUp(peer: string, up: boolean): void;
  packetIn(peer: string): void;
  packetOut(peer: string): void;
  stateEvent(peer: string, event: 'up' | 'down'): void;
  removePeer(peer: string): void;
}

export const NOOP_BFD_METRICS: BfdMetrics = { sessionUp() {}, packetIn() {}, packetOut() {}, stateEvent() {}, removePeer() {} };

export function createBfdMetrics(registry: Registry): BfdMetrics {
  const labelNames = ['peer'] as const;
  const gauge = (m: { name: string; help: string }) => new Gauge({ ...m, labelNames, registers: [registry] });
  const counter = (m: { name: string; help: string }) => new Counter({ ...m, labelNames, registers: [registry] });
  const up = gauge(BFD_METRICS.sessionUp);
  const cin = counter(BFD_METRICS.controlPacketInput);
  const cout = counter(BFD_METRICS.controlPacketOutput);
  const ein = counter(BFD_METRICS.echoPacketInput);
  const eout = counter(BFD_METRICS.echoPacketOutput);
  const upEvents = counter(BFD_METRICS.sessionUpEvents);
  const downEvents = counter(BFD_METRICS.sessionDownEvents);
  const all = [up, cin, cout, ein, eout, upEvents, downEvents];
  return {
    sessionUp(peer, on) {
      up.set({ peer }, on ? 1 : 0);
      // Every series exists from the session's start, as a scrape expects.
      for (const c of [cin, cout, ein, eout, upEvents, downEvents]) c.inc({ peer }, 0);
    },
    packetIn(peer) { cin.inc({ peer }); },
    packetOut(peer) { cout.inc({ peer }); },
    stateEvent(peer, event) { (event === 'up' ? upEvents : downEvents).inc({ peer }); },
    removePeer(peer) { for (const m of all) m.remove({ peer }); },
  };
}
