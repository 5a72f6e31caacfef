/**
 * `metallb-ts speaker` flags and environment: MetalLB v0.11's set, unchanged (spec §4), as the DaemonSet in
 * manifests/metallb.yaml passes them (`--port=7472 --config=config --log-level=info` plus `METALLB_*` env), and
 * v0.12's `--enable-pprof` (accepted; there is no Go profiler to expose). One addition: the total capture-buffer
 * cap of the layer-2 announcer (a node with a Pod veth per workload has hundreds of interfaces), and the BGP
 * graceful-restart Restart Time (RFC 4724; issue 10).
 * `--namespace` falls back to METALLB_NAMESPACE, then to the pod's ServiceAccount namespace file.
 * The memberlist flags (`--ml-bindaddr`, `--ml-bindport`, `--ml-labels`, `--ml-secret-key`) turn on the gossip
 * membership of issue 11 as v0.11 turns on memberlist (both --ml-bindaddr and --ml-labels set); the `--ml-probe-*`,
 * `--ml-suspicion-mult`, `--ml-passive-rounds`, `--ml-indirect-checks` and `--ml-handoff-grace` knobs are metallb-ts
 * additions.
 * `--exclude-lb` (METALLB_EXCLUDE_LB, off by default as in v0.11) honours the Node label
 * `node.kubernetes.io/exclude-from-external-load-balancers` as MetalLB ≥ 0.14 does by default: it is the opposite of
 * MetalLB ≥ 0.14's `--ignore-exclude-lb` (src/core/speaker/exclude-lb.ts).
 */
import { parseGoDuration } from '../core/go/duration.js';
import { parseIp } from '../core/ip/index.js';
import { goFlagsUsage, parseGoFlags, type FlagSpec } from '../core/go/flags.js';

export interface SpeakerFlags {
  readonly nodeName: string;
  /** Bind address of /metrics, /healthz, /readyz; undefined = all interfaces. */
  readonly host: string | undefined;
  readonly port: number;
  readonly mlBindAddr: string | undefined;
  readonly mlBindPort: number;
  readonly mlLabels: string;
  readonly mlSecretKey: string | undefined;
  readonly config: string;
  readonly namespace: string;
  readonly kubeconfig: string | undefined;
  readonly logLevel: string;
  readonly disableEpslices: boolean;
  readonly enablePprof: boolean;
  /** Upper bound of all layer-2 capture rings together, bytes. */
  readonly layer2CaptureBufferBytes: number;
  /** Restart Time advertised to BGP peers, seconds (0 = graceful restart not advertised). */
  readonly bgpGracefulRestartSeconds: number;
  /**
   * `--bgp-listen`: passive BGP (the routers dial in) on this address and port; undefined (the default) = the
   * speaker dials every peer and listens nowhere.
   */
  readonly bgpListen: BgpListen | undefined;
  /**
   * `--exclude-lb`: nodes labelled `node.kubernetes.io/exclude-from-external-load-balancers` do not announce
   * (MetalLB ≥ 0.14 without `--ignore-exclude-lb`); false (the default) ignores the label, as v0.11.
   */
  readonly excludeLb: boolean;
  /** Gossip membership knobs (issue 11); used only when memberlist is enabled (see memberlistEnabled). */
  readonly ml: MembershipKnobs;
}

/** The tunable part of the SWIM detector, and the make-before-break grace of a stopping speaker. */
export interface MembershipKnobs {
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
  readonly suspicionMult: number;
  /** Passive liveness window in probe intervals (MembershipTiming.recentContactMult). */
  readonly passiveRounds: number;
  readonly indirectChecks: number;
  /** The longest a stopping speaker keeps answering for an IP after telling the others it leaves, waiting for its successor's announcement, ms. */
  readonly handoffGraceMs: number;
}

/** Where the passive BGP listener binds. */
export interface BgpListen { readonly host: string; readonly port: number }

/**
 * `ADDR:PORT` (IPv4) or `[ADDR]:PORT` (IPv6; `[::]` takes IPv4 too) → BgpListen; undefined for an empty value,
 * an error string for anything else.
 */
export function parseBgpListen(text: string): BgpListen | undefined | string {
  if (text === '') return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (host === undefined || parseIp(host) === undefined || (m?.[1] !== undefined && !host.includes(':')) || port < 1 || port > 65535) {
    return `invalid --bgp-listen ${JSON.stringify(text)}: want ADDR:PORT or [IPv6]:PORT, e.g. 0.0.0.0:179 or [::]:179`;
  }
  return { host, port };
}

/** v0.11 (spec §5.3): memberlist runs only when both --ml-bindaddr and --ml-labels are set. */
export function memberlistEnabled(flags: SpeakerFlags): boolean {
  return flags.mlBindAddr !== undefined && flags.mlLabels !== '';
}

/** Default of `--bgp-graceful-restart-time`, seconds (RFC 4724 suggests at most the hold time; routers cap it). */
export const DEFAULT_BGP_RESTART_SECONDS = 120;

/** Default of `--layer2-capture-buffer-mib` (all interfaces together). */
export const DEFAULT_CAPTURE_BUFFER_MIB = 32;

export const SPEAKER_FLAGS: Readonly<Record<string, FlagSpec>> = {
  'node-name': { kind: 'string', env: 'METALLB_NODE_NAME', usage: 'name of this Kubernetes node (spec.nodeName); required' },
  host: { kind: 'string', env: 'METALLB_HOST', usage: 'address to serve /metrics, /healthz and /readyz on (empty: all interfaces)' },
  port: { kind: 'int', default: 7472, usage: 'HTTP listening port for Prometheus metrics' },
  'ml-bindaddr': { kind: 'string', env: 'METALLB_ML_BIND_ADDR', usage: 'memberlist bind address (the Pod IP); with --ml-labels it turns gossip membership on' },
  'ml-bindport': { kind: 'int', env: 'METALLB_ML_BIND_PORT', default: 7946, usage: 'memberlist bind and advertise port, UDP and TCP' },
  'ml-labels': { kind: 'string', env: 'METALLB_ML_LABELS', usage: 'label selector of the speaker Pods in --namespace (gossip peers are found through them); a node is alive while its Node is Ready and its speaker Pod is Running and Ready (and, with gossip, while the gossip has it alive)' },
  'ml-secret-key': { kind: 'string', env: 'METALLB_ML_SECRET_KEY', usage: 'memberlist encryption secret (AES-256-GCM; empty: unauthenticated gossip)' },
  'ml-probe-interval': { kind: 'duration', env: 'METALLB_ML_PROBE_INTERVAL', default: '100ms', usage: 'time between two probe rounds of a member; detection time and gossip packets scale with it' },
  'ml-probe-timeout': { kind: 'duration', env: 'METALLB_ML_PROBE_TIMEOUT', default: '50ms', usage: 'wait for a direct ack before probing through others; must be below --ml-probe-interval' },
  'ml-suspicion-mult': { kind: 'float', env: 'METALLB_ML_SUSPICION_MULT', default: 1.5, usage: 'a suspect is declared dead after this many probe intervals (x max(1, log10 of the member count), x3 until another member confirms); decimals allowed; larger tolerates longer stalls' },
  'ml-passive-rounds': { kind: 'float', env: 'METALLB_ML_PASSIVE_ROUNDS', default: 4, usage: 'a probe round passes over a member heard from within this many probe intervals (at most 2 x (members - 1)); decimals allowed; fewer: faster detection, more packets; 0 pings every round as SWIM does' },
  'ml-indirect-checks': { kind: 'int', env: 'METALLB_ML_INDIRECT_CHECKS', default: 3, usage: 'members asked to probe a silent member on our behalf' },
  'ml-handoff-grace': { kind: 'duration', env: 'METALLB_ML_HANDOFF_GRACE', default: '1s', usage: 'make-before-break: the longest the speaker keeps answering for a layer-2 IP it hands off, waiting for its successor to announce it: after telling the others it leaves (SIGTERM), or when another node is elected for it while it runs (it left the eligible set, an owner came back)' },
  config: { kind: 'string', default: 'config', usage: 'Kubernetes ConfigMap containing MetalLB\'s configuration' },
  namespace: { kind: 'string', env: 'METALLB_NAMESPACE', usage: 'namespace of the config ConfigMap and the speaker Pods (default: the ServiceAccount\'s namespace)' },
  kubeconfig: { kind: 'string', usage: 'absolute path to the kubeconfig file (only needed when running outside of k8s)' },
  'log-level': { kind: 'string', default: 'info', usage: 'log level: all, debug, info, warn, error or none' },
  'disable-epslices': { kind: 'bool', default: false, usage: 'read v1 Endpoints instead of discovery.k8s.io/v1 EndpointSlices' },
  'enable-pprof': { kind: 'bool', default: false, usage: 'accepted for MetalLB v0.12 compatibility; no effect' },
  'layer2-capture-buffer-mib': { kind: 'int', env: 'METALLB_LAYER2_CAPTURE_BUFFER_MIB', default: DEFAULT_CAPTURE_BUFFER_MIB, usage: 'total size of the ARP/NDP capture buffers of all interfaces, MiB (each interface gets an equal share, at most 2 MiB)' },
  'exclude-lb': { kind: 'bool', env: 'METALLB_EXCLUDE_LB', default: false, usage: 'honour the Node label node.kubernetes.io/exclude-from-external-load-balancers as MetalLB >= 0.14 does: a labelled node takes no layer-2 IP (its IPs are handed off) and announces no BGP route. Off by default, as in MetalLB v0.11 (kubeadm labels control-plane nodes); MetalLB >= 0.14 without --ignore-exclude-lb = this flag on' },
  'bgp-listen': { kind: 'string', env: 'METALLB_BGP_LISTEN', default: '', usage: 'passive BGP: accept the routers\' connections on ADDR:PORT (e.g. 0.0.0.0:179, [::]:179) instead of dialing them; only from configured peer addresses. Off by default (another BGP daemon on the host may hold port 179). A port below 1024 needs NET_BIND_SERVICE' },
  'bgp-graceful-restart-time': { kind: 'int', env: 'METALLB_BGP_GRACEFUL_RESTART_TIME', default: DEFAULT_BGP_RESTART_SECONDS, usage: 'BGP graceful restart (RFC 4724): Restart Time advertised to peers, seconds, 0 to 4095; 0 turns it off. On SIGTERM the sessions close without a NOTIFICATION so routers keep the routes that long' },
};

export type SpeakerFlagsResult =
  | { readonly ok: true; readonly flags: SpeakerFlags; readonly args: readonly string[] }
  | { readonly ok: false; readonly error: string; readonly help?: true; readonly usage?: true };

/** The `-help` text: every flag with its default and environment variable. */
export function speakerUsage(): string {
  return goFlagsUsage('speaker', SPEAKER_FLAGS);
}

/**
 * Parses argv and env. `serviceAccountNamespace` reads the in-cluster namespace file (undefined when absent);
 * it is only consulted when neither `--namespace` nor METALLB_NAMESPACE is set.
 * Errors: `must specify --node-name or METALLB_NODE_NAME` (v0.11's text), a missing namespace, a port out of
 * range, a capture buffer of 0 MiB, and the Go flag parser's errors; `help` for -h/-help.
 */
export function parseSpeakerFlags(argv: readonly string[], env: Readonly<Record<string, string | undefined>>,
  serviceAccountNamespace: () => string | undefined): SpeakerFlagsResult {
  const parsed = parseGoFlags(argv, SPEAKER_FLAGS, env);
  if (!parsed.ok) return parsed;
  const f = parsed.flags;
  const nodeName = optional(f['node-name']);
  if (!nodeName) return { ok: false, error: 'must specify --node-name or METALLB_NODE_NAME' };
  const namespace = optional(f['namespace']) ?? serviceAccountNamespace()?.trim();
  if (!namespace) return { ok: false, error: 'failed to get namespace: set --namespace or METALLB_NAMESPACE' };
  const port = f['port'] as number;
  if (port < 0 || port > 65535) return { ok: false, error: `invalid --port ${port}` };
  const mlBindPort = f['ml-bindport'] as number;
  if (mlBindPort < 0 || mlBindPort > 65535) return { ok: false, error: `invalid --ml-bindport ${mlBindPort}` };
  const ml = membershipKnobs(f);
  if (!ml.ok) return ml;
  const captureMib = f['layer2-capture-buffer-mib'] as number;
  if (captureMib < 1 || captureMib > 4096) return { ok: false, error: `invalid --layer2-capture-buffer-mib ${captureMib}: want 1 to 4096` };
  const restart = f['bgp-graceful-restart-time'] as number;
  if (restart < 0 || restart > 4095) return { ok: false, error: `invalid --bgp-graceful-restart-time ${restart}: want 0 to 4095 seconds` };
  const bgpListen = parseBgpListen((f['bgp-listen'] as string | undefined) ?? '');
  if (typeof bgpListen === 'string') return { ok: false, error: bgpListen };
  return {
    ok: true,
    args: parsed.args,
    flags: {
      nodeName, namespace, port, mlBindPort,
      host: optional(f['host']),
      mlBindAddr: optional(f['ml-bindaddr']),
      mlLabels: (f['ml-labels'] as string | undefined) ?? '',
      mlSecretKey: optional(f['ml-secret-key']),
      config: f['config'] as string,
      kubeconfig: optional(f['kubeconfig']),
      logLevel: f['log-level'] as string,
      disableEpslices: f['disable-epslices'] as boolean,
      enablePprof: f['enable-pprof'] as boolean,
      excludeLb: f['exclude-lb'] as boolean,
      layer2CaptureBufferBytes: captureMib * 1024 * 1024,
      bgpGracefulRestartSeconds: restart,
      bgpListen,
      ml: ml.knobs,
    },
  };
}

/** A duration flag's value in ms (parseGoFlags has checked its syntax). */
function durationMs(value: unknown): number {
  const parsed = parseGoDuration(String(value));
  return parsed.ok ? Number(parsed.value / 1_000_000n) : NaN;
}

function membershipKnobs(f: Readonly<Record<string, unknown>>): { ok: true; knobs: MembershipKnobs } | { ok: false; error: string } {
  const interval = { ms: durationMs(f['ml-probe-interval']) };
  const timeout = { ms: durationMs(f['ml-probe-timeout']) };
  const grace = { ms: durationMs(f['ml-handoff-grace']) };
  if (interval.ms < 10 || interval.ms > 60_000) return { ok: false, error: `invalid --ml-probe-interval ${String(f['ml-probe-interval'])}: want 10ms to 1m` };
  if (timeout.ms < 1 || timeout.ms >= interval.ms) return { ok: false, error: `invalid --ml-probe-timeout ${String(f['ml-probe-timeout'])}: want at least 1ms and below --ml-probe-interval` };
  if (grace.ms < 0 || grace.ms > 30_000) return { ok: false, error: `invalid --ml-handoff-grace ${String(f['ml-handoff-grace'])}: want 0 to 30s` };
  const suspicionMult = f['ml-suspicion-mult'] as number;
  if (suspicionMult < 1 || suspicionMult > 100) return { ok: false, error: `invalid --ml-suspicion-mult ${suspicionMult}: want 1 to 100` };
  const passiveRounds = f['ml-passive-rounds'] as number;
  if (!(passiveRounds >= 0 && passiveRounds <= 100)) return { ok: false, error: `invalid --ml-passive-rounds ${passiveRounds}: want 0 to 100` };
  const indirectChecks = f['ml-indirect-checks'] as number;
  if (indirectChecks < 0 || indirectChecks > 16) return { ok: false, error: `invalid --ml-indirect-checks ${indirectChecks}: want 0 to 16` };
  return { ok: true, knobs: { probeIntervalMs: interval.ms, probeTimeoutMs: timeout.ms, suspicionMult, passiveRounds, indirectChecks, handoffGraceMs: grace.ms } };
}

function optional(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
