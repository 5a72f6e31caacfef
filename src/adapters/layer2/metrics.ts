/**
 * MetalLB's layer-2 counters (spec §7), names and labels unchanged: `metallb_layer2_requests_received{ip}`
 * (ARP/NDP requests for owned IPs), `metallb_layer2_responses_sent{ip}`, `metallb_layer2_gratuitous_sent{ip}`
 * (+1 per packet per interface). As in v0.11 the series are never deleted. metallb-ts adds
 * `metallb_speaker_layer2_responder_muted_total` (issue 11): times the responder host stopped answering because the
 * speaker's main loop had gone silent (a counter, not a gauge: while muted the speaker is frozen and serves no scrape;
 * counted once it resumes and reads the host's report).
 */
import { Counter, type Registry } from 'prom-client';

/** The announcer's metrics port. */
export interface Layer2Metrics {
  /** `count` requests for owned `ip` (default 1). */
  requestReceived(ip: string, count?: number): void;
  responseSent(ip: string, count?: number): void;
  gratuitousSent(ip: string, packets: number): void;
  /** The responder host muted itself (the speaker's main loop was silent past the watchdog's threshold). */
  responderMuted?(): void;
}

export function createLayer2Metrics(registry: Registry): Layer2Metrics {
  const labelNames = ['ip'] as const;
  const requests = new Counter({ name: 'metallb_layer2_requests_received', help: 'Number of layer2 requests received for owned IPs', labelNames, registers: [registry] });
  const responses = new Counter({ name: 'metallb_layer2_responses_sent', help: 'Number of layer2 responses sent for owned IPs', labelNames, registers: [registry] });
  const gratuitous = new Counter({ name: 'metallb_layer2_gratuitous_sent', help: 'Number of gratuitous layer2 packets sent for owned IPs', labelNames, registers: [registry] });
  const muted = new Counter({
    name: 'metallb_speaker_layer2_responder_muted_total', registers: [registry],
    help: 'Times the layer2 responder stopped answering ARP/NDP because the speaker main loop was silent (frozen or stalled) past the watchdog threshold',
  });
  return {
    requestReceived: (ip, count = 1) => requests.inc({ ip }, count),
    responseSent: (ip, count = 1) => responses.inc({ ip }, count),
    gratuitousSent: (ip, packets) => gratuitous.inc({ ip }, packets),
    responderMuted: () => muted.inc(),
  };
}

/** Metrics that go nowhere (tools, tests that do not read them). */
export const NOOP_LAYER2_METRICS: Layer2Metrics = { requestReceived() {}, responseSent() {}, gratuitousSent() {} };
