/**
 * MetalLB's BGP session metrics (spec §7), labelled `peer` = `JoinHostPort(peer-address, peer-port)`:
 * `metallb_bgp_session_up` (1 Established, 0 otherwise), `metallb_bgp_updates_total` (UPDATE messages sent; a
 * batch of withdrawals counts once), `metallb_bgp_announced_prefixes_total` (prefixes the peer has from us) and
 * `metallb_bgp_pending_prefixes_total` (prefixes we want it to have). A removed peer's series are removed.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface BgpMetrics {
  sessionUp(peer: string, up: boolean): void;
  updateSent(peer: string): void;
  prefixes(peer: string, announced: number, pending: number): void;
  removePeer(peer: string): void;
}

export const NOOP_BGP_METRICS: BgpMetrics = { sessionUp() {}, updateSent() {}, prefixes() {}, removePeer() {} };

export function createBgpMetrics(registry: Registry): BgpMetrics {
  const labelNames = ['peer'] as const;
  const up = new Gauge({ name: 'metallb_bgp_session_up', help: 'BGP session state (1 is up, 0 is down)', labelNames, registers: [registry] });
  const updates = new Counter({ name: 'metallb_bgp_updates_total', help: 'Number of BGP UPDATE messages sent', labelNames, registers: [registry] });
  const announced = new Gauge({ name: 'metallb_bgp_announced_prefixes_total', help: 'Number of prefixes currently being advertised on the BGP session', labelNames, registers: [registry] });
  const pending = new Gauge({ name: 'metallb_bgp_pending_prefixes_total', help: 'Number of prefixes that should be advertised on the BGP session', labelNames, registers: [registry] });
  return {
    sessionUp(peer, on) { up.set({ peer }, on ? 1 : 0); updates.inc({ peer }, 0); },
    updateSent(peer) { updates.inc({ peer }); },
    prefixes(peer, a, p) { announced.set({ peer }, a); pending.set({ peer }, p); },
    removePeer(peer) { for (const m of [up, updates, announced, pending]) m.remove({ peer }); },
  };
}
