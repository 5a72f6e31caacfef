/**
 * `metallb-ts speaker` flags and environment: MetalLB v0.11's set, unchanged (spec §4), as the DaemonSet in
 * manifests/metallb.yaml passes them (`--port=7472 --config=config --log-level=info` plus `METALLB_*` env), and
 * v0.12's `--enable-pprof` (accepted; there is no Go profiler to expose). One addition: the total capture-buffer
 * cap of the layer-2 announcer (a node with a Pod veth per workload has hundreds of interfaces), and the BGP
 * graceful-restart Restart Time (RFC 4724; issue 10).
 * `--namespace` falls back to METALLB_NAMESPACE, then to the pod's ServiceAccount namespace file.
 * The memberlist flags (`--ml-bindaddr`, `--ml-bindport`, `--ml-secret-key`) are accepted and kept for the gossip
 * membership to come; `--ml-labels` selects the speaker Pods whose readiness makes a node alive today.
 */
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
}

/** Default of `--bgp-graceful-restart-time`, seconds (RFC 4724 suggests at most the hold time; routers cap it). */
export const DEFAULT_BGP_RESTART_SECONDS = 120;

/** Default of `--layer2-capture-buffer-mib` (all interfaces together). */
export const DEFAULT_CAPTURE_BUFFER_MIB = 32;

export const SPEAKER_FLAGS: Readonly<Record<string, FlagSpec>> = {
  'node-name': { kind: 'string', env: 'METALLB_NODE_NAME', usage: 'name of this Kubernetes node (spec.nodeName); required' },
  host: { kind: 'string', env: 'METALLB_HOST', usage: 'address to serve /metrics, /healthz and /readyz on (empty: all interfaces)' },
  port: { kind: 'int', default: 7472, usage: 'HTTP listening port for Prometheus metrics' },
  'ml-bindaddr': { kind: 'string', env: 'METALLB_ML_BIND_ADDR', usage: 'memberlist bind address (kept for the gossip membership; unused today)' },
  'ml-bindport': { kind: 'int', env: 'METALLB_ML_BIND_PORT', default: 7946, usage: 'memberlist bind and advertise port (unused today)' },
  'ml-labels': { kind: 'string', env: 'METALLB_ML_LABELS', usage: 'label selector of the speaker Pods in --namespace; a node is alive while its Node is Ready and its speaker Pod is Running and Ready' },
  'ml-secret-key': { kind: 'string', env: 'METALLB_ML_SECRET_KEY', usage: 'memberlist encryption secret (unused today)' },
  config: { kind: 'string', default: 'config', usage: 'Kubernetes ConfigMap containing MetalLB\'s configuration' },
  namespace: { kind: 'string', env: 'METALLB_NAMESPACE', usage: 'namespace of the config ConfigMap and the speaker Pods (default: the ServiceAccount\'s namespace)' },
  kubeconfig: { kind: 'string', usage: 'absolute path to the kubeconfig file (only needed when running outside of k8s)' },
  'log-level': { kind: 'string', default: 'info', usage: 'log level: all, debug, info, warn, error or none' },
  'disable-epslices': { kind: 'bool', default: false, usage: 'read v1 Endpoints instead of discovery.k8s.io/v1 EndpointSlices' },
  'enable-pprof': { kind: 'bool', default: false, usage: 'accepted for MetalLB v0.12 compatibility; no effect' },
  'layer2-capture-buffer-mib': { kind: 'int', env: 'METALLB_LAYER2_CAPTURE_BUFFER_MIB', default: DEFAULT_CAPTURE_BUFFER_MIB, usage: 'total size of the ARP/NDP capture buffers of all interfaces, MiB (each interface gets an equal share, at most 2 MiB)' },
  'bgp-graceful-restart-time': { kind: 'int', env: 'METALLB_BGP_GRACEFUL_RESTART_TIME', default: DEFAULT_BGP_RESTART_SECONDS, usage: 'BGP graceful restart (RFC 4724): Restart Time advertised to peers, seconds, 0 to 4095; 0 turns it off. On SIGTERM the sessions close without a NOTIFICATION so routers keep the routes that long' },
};

export type SpeakerFlagsResult =
  | { readonly ok: true; readonly flags: SpeakerFlags }
  | { readonly ok: false; readonly error: string; readonly help?: true };

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
  if (port > 65535) return { ok: false, error: `invalid --port ${port}` };
  const mlBindPort = f['ml-bindport'] as number;
  if (mlBindPort > 65535) return { ok: false, error: `invalid --ml-bindport ${mlBindPort}` };
  const captureMib = f['layer2-capture-buffer-mib'] as number;
  if (captureMib < 1 || captureMib > 4096) return { ok: false, error: `invalid --layer2-capture-buffer-mib ${captureMib}: want 1 to 4096` };
  const restart = f['bgp-graceful-restart-time'] as number;
  if (restart < 0 || restart > 4095) return { ok: false, error: `invalid --bgp-graceful-restart-time ${restart}: want 0 to 4095 seconds` };
  return {
    ok: true,
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
      layer2CaptureBufferBytes: captureMib * 1024 * 1024,
      bgpGracefulRestartSeconds: restart,
    },
  };
}

function optional(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
