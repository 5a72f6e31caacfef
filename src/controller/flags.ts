/**
 * `metallb-ts controller` flags and environment: MetalLB v0.11's set plus v0.12's `--enable-pprof` (accepted;
 * there is no Go profiler to expose) and `--lb-class` (Services with another `spec.loadBalancerClass` are left
 * alone). `--namespace` falls back to METALLB_NAMESPACE, then to the pod's ServiceAccount namespace file.
 */
import { parseGoFlags, type FlagSpec } from '../core/go/flags.js';

export interface ControllerFlags {
  readonly port: number;
  readonly config: string;
  readonly namespace: string;
  readonly kubeconfig: string | undefined;
  readonly logLevel: string;
  readonly mlSecretName: string | undefined;
  readonly deployment: string | undefined;
  readonly disableEpslices: boolean;
  readonly enablePprof: boolean;
  readonly lbClass: string | undefined;
}

export const CONTROLLER_FLAGS: Readonly<Record<string, FlagSpec>> = {
  port: { kind: 'int', default: 7472, usage: 'HTTP listening port for Prometheus metrics' },
  config: { kind: 'string', default: 'config', usage: "Kubernetes ConfigMap containing MetalLB's configuration" },
  namespace: { kind: 'string', env: 'METALLB_NAMESPACE', usage: 'config file and speakers namespace (else the pod\'s ServiceAccount namespace)' },
  kubeconfig: { kind: 'string', usage: 'absolute path to the kubeconfig file (only needed when running outside of k8s)' },
  'log-level': { kind: 'string', default: 'info', usage: 'log level. must be one of: [all, debug, info, warn, error, none]' },
  'ml-secret-name': { kind: 'string', env: 'METALLB_ML_SECRET_NAME', usage: 'name of the memberlist secret to create' },
  deployment: { kind: 'string', env: 'METALLB_DEPLOYMENT', usage: 'name of the MetalLB controller Deployment' },
  'disable-epslices': { kind: 'bool', default: false, usage: 'Disable the usage of EndpointSlices and default to Endpoints instead of relying on the autodiscovery mechanism' },
  'enable-pprof': { kind: 'bool', default: false, usage: 'Enable pprof profiling (accepted; there is no Go profiler to expose)' },
  'lb-class': { kind: 'string', usage: 'load balancer class. When enabled, metallb will handle only services whose spec.loadBalancerClass matches the given lb class' },
};

export type ControllerFlagsResult = { readonly ok: true; readonly flags: ControllerFlags; readonly args: readonly string[] } | { readonly ok: false; readonly error: string; readonly help?: true; readonly usage?: true };

/**
 * Parses argv and env. `serviceAccountNamespace` reads the in-cluster namespace file (undefined when absent);
 * it is only consulted when neither `--namespace` nor METALLB_NAMESPACE is set.
 */
export function parseControllerFlags(argv: readonly string[], env: Readonly<Record<string, string | undefined>>,
  serviceAccountNamespace: () => string | undefined): ControllerFlagsResult {
  const parsed = parseGoFlags(argv, CONTROLLER_FLAGS, env);
  if (!parsed.ok) return parsed;
  const f = parsed.flags;
  const namespace = (f['namespace'] as string | undefined) ?? serviceAccountNamespace()?.trim();
  if (!namespace) return { ok: false, error: 'failed to get namespace: set --namespace or METALLB_NAMESPACE' };
  const port = f['port'] as number;
  if (port < 0 || port > 65535) return { ok: false, error: `invalid --port ${port}` };
  return {
    ok: true,
    args: parsed.args,
    flags: {
      port, namespace,
      config: f['config'] as string,
      kubeconfig: optional(f['kubeconfig']),
      logLevel: f['log-level'] as string,
      mlSecretName: optional(f['ml-secret-name']),
      deployment: optional(f['deployment']),
      disableEpslices: f['disable-epslices'] as boolean,
      enablePprof: f['enable-pprof'] as boolean,
      lbClass: optional(f['lb-class']),
    },
  };
}

function optional(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
