/**
 * MetalLB's BFD metric names (v0.12 FRR mode, spec §7), each labelled by `peer` (the peer's address), for the
 * speaker to register when it wires BFD. Echo counters exist for name parity and stay 0: no Echo function.
 */
export const BFD_METRICS = {
  sessionUp: { name: 'metallb_bfd_session_up', type: 'gauge', help: 'BFD session state (1 is up, 0 is down) per peer' },
  controlPacketInput: { name: 'metallb_bfd_control_packet_input', type: 'counter', help: 'Number of received BFD control packets' },
  controlPacketOutput: { name: 'metallb_bfd_control_packet_output', type: 'counter', help: 'Number of sent BFD control packets' },
  echoPacketInput: { name: 'metallb_bfd_echo_packet_input', type: 'counter', help: 'Number of received BFD echo packets' },
  echoPacketOutput: { name: 'metallb_bfd_echo_packet_output', type: 'counter', help: 'Number of sent BFD echo packets' },
  sessionUpEvents: { name: 'metallb_bfd_session_up_events', type: 'counter', help: 'Number of BFD session up events' },
  sessionDownEvents: { name: 'metallb_bfd_session_down_events', type: 'counter', help: 'Number of BFD session down events' },
} as const;

export const BFD_METRIC_LABELS = ['peer'] as const;

/** The metric deltas a session's state change implies: Up events on entering Up, Down events on leaving it. */
export function stateChangeMetrics(from: string, to: string): { up: 0 | 1; upEvent: 0 | 1; downEvent: 0 | 1 } {
  return { up: to === 'Up' ? 1 : 0, upEvent: to === 'Up' && from !== 'Up' ? 1 : 0, downEvent: from === 'Up' && to !== 'Up' ? 1 : 0 };
}
