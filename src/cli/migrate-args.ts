/**
 * Arguments of `metallb-ts migrate`. GNU style (`--flag`, `--flag=value`, `--flag value`, `-o FILE`) plus
 * MetalLB-converter spellings with one dash (`-only-data`), one optional positional input.
 */
import { KUBECONFIG_DEFAULT } from '../adapters/k8s/client.js';

export const MIGRATE_USAGE = `usage: metallb-ts migrate [FILE | -] [--only-data] [--password-secrets] [-o FILE]
       metallb-ts migrate --from-cluster [--kubeconfig PATH] [--namespace NS] [--name NAME]
                          [--password-secrets] [-o FILE]

Converts MetalLB's legacy ConfigMap into MetalLB (>= 0.13) custom resources: IPAddressPool, L2Advertisement,
BGPAdvertisement, Community, BFDProfile (metallb.io/v1beta1) and BGPPeer (metallb.io/v1beta2), in the
ConfigMap's namespace, as multi-document YAML for \`kubectl apply -f -\`. Warnings and errors go to stderr.

  FILE | -            a ConfigMap manifest (default: stdin)
  --only-data         the input is the bare data.config payload (objects go to metallb-system)
  --from-cluster      read the live ConfigMap, and list Services whose address-pool annotation
                      names a renamed pool with the kubectl commands that fix them
  --kubeconfig PATH   with --from-cluster (${KUBECONFIG_DEFAULT})
  --namespace NS      with --from-cluster (default metallb-system)
  --name NAME         with --from-cluster (default config)
  --password-secrets  put peer passwords in kubernetes.io/basic-auth Secrets referenced by passwordSecret
  -o, --output FILE   write the YAML to FILE instead of stdout (nothing is written on error)

Exit status: 0 converted, 1 invalid input (nothing written), 2 usage error.`;

export interface MigrateArgs {
  readonly input: string;
  readonly onlyData: boolean;
  readonly fromCluster: boolean;
  readonly kubeconfig: string | undefined;
  readonly namespace: string;
  readonly name: string;
  readonly passwordSecrets: boolean;
  readonly output: string | undefined;
  readonly help: boolean;
}

export type ArgsResult = { readonly ok: true; readonly args: MigrateArgs } | { readonly ok: false; readonly error: string };

const BOOLEANS = { 'only-data': 'onlyData', 'from-cluster': 'fromCluster', 'password-secrets': 'passwordSecrets', help: 'help', h: 'help' } as const;
const VALUES = { kubeconfig: 'kubeconfig', namespace: 'namespace', n: 'namespace', name: 'name', output: 'output', o: 'output' } as const;

/** Parses argv (after the subcommand). */
export function parseMigrateArgs(argv: readonly string[]): ArgsResult {
  const flags: Record<string, string | boolean> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    const match = /^--?([a-z][a-z-]*)(?:=([\s\S]*))?$/.exec(arg);
    if (!match) {
      positional.push(arg);
      continue;
    }
    const [, flag = '', inline] = match;
    if (flag in BOOLEANS) {
      if (inline !== undefined) return { ok: false, error: `flag --${flag} takes no value` };
      flags[BOOLEANS[flag as keyof typeof BOOLEANS]] = true;
    } else if (flag in VALUES) {
      const value = inline ?? argv[++i];
      if (value === undefined) return { ok: false, error: `flag --${flag} needs a value` };
      flags[VALUES[flag as keyof typeof VALUES]] = value;
    } else {
      return { ok: false, error: `unknown flag: ${arg}` };
    }
  }
  return checked(flags, positional);
}

function checked(flags: Record<string, string | boolean>, positional: readonly string[]): ArgsResult {
  const str = (key: string) => (typeof flags[key] === 'string' ? (flags[key] as string) : undefined);
  const fromCluster = flags['fromCluster'] === true;
  if (positional.length > 1) return { ok: false, error: `one input only, got: ${positional.join(' ')}` };
  if (fromCluster && positional.length > 0) return { ok: false, error: '--from-cluster reads the cluster, not a file' };
  if (fromCluster && flags['onlyData'] === true) return { ok: false, error: '--only-data does not apply to --from-cluster' };
  if (!fromCluster && ['kubeconfig', 'namespace', 'name'].some((k) => str(k) !== undefined)) {
    return { ok: false, error: '--kubeconfig, --namespace and --name need --from-cluster (a file names its own namespace)' };
  }
  return {
    ok: true,
    args: {
      input: positional[0] ?? '-',
      onlyData: flags['onlyData'] === true,
      fromCluster,
      kubeconfig: str('kubeconfig'),
      namespace: str('namespace') ?? 'metallb-system',
      name: str('name') ?? 'config',
      passwordSecrets: flags['passwordSecrets'] === true,
      output: str('output'),
      help: flags['help'] === true,
    },
  };
}
