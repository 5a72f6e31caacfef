/**
 * `metallb-ts validate [--json] FILE|-`: checks a MetalLB ConfigMap manifest (its `data.config`)
 * or a bare config payload, from a file or stdin. Prints `FILE:LINE:COL: message` per error (or a
 * JSON report with --json). Exit 0 valid, 1 invalid, 2 usage or unreadable input.
 * `--print-schema` prints the JSON Schema shipped as manifests/config.schema.json.
 * `--cluster` adds a dry run against the live cluster (src/cli/validate-cluster.ts, loaded only then): exit 0
 * applies with no Service changed, 3 some Service changes/loses/gains addresses, 4 the controller would refuse it,
 * 2 FILE is a ConfigMap other than the one MetalLB reads (--namespace/--name), so applying it changes nothing.
 */
import { readFile } from 'node:fs/promises';
import { KUBECONFIG_DEFAULT } from '../adapters/k8s/client.js';
import { readConfigSource } from '../core/config/manifest.js';
import { parseConfigDocument } from '../core/config/parse.js';
import { CONFIG_SCHEMA } from '../core/config/schema.js';
import type { ConfigError, ConfigResult } from '../core/config/types.js';

export const VALIDATE_USAGE = `usage: metallb-ts validate [--json] FILE|-
       metallb-ts validate --cluster [--kubeconfig PATH] [--namespace NS] [--name NAME] [--lb-class CLASS] [--json] FILE|-
       metallb-ts validate --print-schema

Checks a MetalLB ConfigMap manifest (reads data.config; a missing key is a valid empty config)
or a bare config payload. "-" reads stdin.

  --json           print a JSON report instead of FILE:LINE:COL: message lines
  --print-schema   print the config JSON Schema (manifests/config.schema.json)
  --cluster        also dry-run the config against the live cluster: read the config ConfigMap, its
                   last-applied store and every Service as the controller does, and list each LoadBalancer
                   Service that would keep, change, lose or gain its IP, or why the controller would refuse it
  --kubeconfig P   with --cluster (${KUBECONFIG_DEFAULT})
  --namespace NS   with --cluster: MetalLB's namespace (default metallb-system)
  --name NAME      with --cluster: the config ConfigMap (default config)
  --lb-class C     with --cluster: the controller's --lb-class (default: Services without loadBalancerClass)

A ConfigMap manifest named other than the ConfigMap MetalLB reads changes nothing when applied:
plain validate warns, --cluster stops with exit 2.

Exit status: 0 valid (with --cluster: applies and no Service changes), 1 invalid, 2 usage error or
unreadable input (or, with --cluster: no kubeconfig, the cluster cannot be read, or FILE is a ConfigMap
other than --namespace/--name), 3 (--cluster) applies and some Service changes, loses or gains an IP,
4 (--cluster) the controller would refuse it.
`;

interface ClusterArgs {
  readonly kubeconfig: string | undefined;
  readonly namespace: string;
  readonly name: string;
  readonly lbClass: string | undefined;
}

type Args = { help: true } | { printSchema: true } | { file: string; json: boolean; cluster: ClusterArgs | undefined } | { error: string };

/** The ConfigMap MetalLB reads unless told otherwise (METALLB_NAMESPACE, -config). */
const DEFAULT_CONFIGMAP = { namespace: 'metallb-system', name: 'config' } as const;

const CLUSTER_VALUES = { '--kubeconfig': 'kubeconfig', '--namespace': 'namespace', '--name': 'name', '--lb-class': 'lbClass' } as const;

function parseArgs(argv: readonly string[]): Args {
  let json = false;
  let printSchema = false;
  let cluster = false;
  const values: Partial<Record<(typeof CLUSTER_VALUES)[keyof typeof CLUSTER_VALUES], string>> = {};
  const files: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (arg === '--help' || arg === '-h' || arg === '-help') return { help: true };
    else if (arg === '--json') json = true;
    else if (arg === '--print-schema') printSchema = true;
    else if (arg === '--cluster') cluster = true;
    else if (Object.hasOwn(CLUSTER_VALUES, flag)) {
      const value = eq > 0 && flag !== arg ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) return { error: `${flag} needs a value` };
      values[CLUSTER_VALUES[flag as keyof typeof CLUSTER_VALUES]] = value;
    } else if (arg.startsWith('-') && arg !== '-') return { error: `unknown option ${arg}` };
    else files.push(arg);
  }
  if (!cluster && Object.keys(values).length > 0) return { error: '--kubeconfig, --namespace, --name and --lb-class need --cluster' };
  if (printSchema) return files.length === 0 && !cluster ? { printSchema: true } : { error: '--print-schema takes no FILE' };
  if (files.length !== 1) return { error: files.length === 0 ? 'missing FILE (or - for stdin)' : 'exactly one FILE expected' };
  const clusterArgs = cluster
    ? { kubeconfig: values.kubeconfig, namespace: values.namespace ?? DEFAULT_CONFIGMAP.namespace, name: values.name ?? DEFAULT_CONFIGMAP.name, lbClass: values.lbClass }
    : undefined;
  return { file: files[0]!, json, cluster: clusterArgs };
}

async function readInput(file: string): Promise<string> {
  if (file !== '-') return readFile(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function errorLine(name: string, e: ConfigError): string {
  const where = e.position ? `${name}:${e.position.line}:${e.position.column}` : name;
  return `${where}: ${e.message}`;
}

function jsonReport(name: string, result: ConfigResult): string {
  const report = result.ok
    ? { file: name, valid: true, errors: [], pools: result.config.pools.length, peers: result.config.peers.length }
    : {
        file: name,
        valid: false,
        errors: result.errors.map((e) => ({
          line: e.position?.line ?? null,
          column: e.position?.column ?? null,
          kind: e.kind,
          message: e.message,
          value: e.value ?? null,
          path: e.path,
        })),
      };
  return `${JSON.stringify(report, null, 2)}\n`;
}

/**
 * When `text` is a ConfigMap manifest whose metadata names another ConfigMap than `reads` ({namespace, name}),
 * the sentence saying so; undefined for a bare payload, a match, or a manifest without the field (a missing
 * namespace is whatever `kubectl apply -n` gives it, so only a present one is compared).
 */
export function otherConfigMap(file: string, text: string, reads: { readonly namespace: string; readonly name: string }): string | undefined {
  const source = readConfigSource(text);
  if (!source.ok) return undefined;
  const { name, namespace } = source.payload;
  if (name === undefined && namespace === undefined) return undefined;
  if ((name === undefined || name === reads.name) && (namespace === undefined || namespace === reads.namespace)) return undefined;
  const is = namespace === undefined ? `${name ?? '(unnamed)'} (no namespace)` : `${namespace}/${name ?? '(unnamed)'}`;
  return `${file} is ConfigMap ${is}; MetalLB reads ${reads.namespace}/${reads.name}: applying it changes nothing`;
}

/** Runs `validate`; resolves to the exit code. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if ('help' in args) {
    process.stdout.write(VALIDATE_USAGE);
    return 0;
  }
  if ('error' in args) {
    process.stderr.write(`metallb-ts validate: ${args.error}\n\n${VALIDATE_USAGE}`);
    return 2;
  }
  if ('printSchema' in args) {
    process.stdout.write(`${JSON.stringify(CONFIG_SCHEMA, null, 2)}\n`);
    return 0;
  }
  const name = args.file === '-' ? '<stdin>' : args.file;
  let text: string;
  try {
    text = await readInput(args.file);
  } catch (err) {
    process.stderr.write(`metallb-ts validate: cannot read ${name}: ${(err as Error).message}\n`);
    return 2;
  }
  const result = parseConfigDocument(text);
  if (args.cluster && result.ok) {
    const other = otherConfigMap(name, text, args.cluster);
    if (other !== undefined) {
      process.stderr.write(`metallb-ts validate: ${other} (pass --namespace/--name if MetalLB runs with that ConfigMap)\n`);
      return 2;
    }
    const { runCluster } = await import('./validate-cluster.js');
    return runCluster(name, result, { ...args.cluster, json: args.json });
  }
  const elsewhere = otherConfigMap(name, text, args.cluster ?? DEFAULT_CONFIGMAP);
  if (elsewhere !== undefined) {
    process.stderr.write(`metallb-ts validate: warning: ${elsewhere} (unless MetalLB runs with METALLB_NAMESPACE and -config naming it)\n`);
  }
  if (args.json) {
    process.stdout.write(jsonReport(name, result));
  } else if (result.ok) {
    const { pools, peers } = result.config;
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
    process.stdout.write(`${name}: valid (${plural(pools.length, 'address pool')}, ${plural(peers.length, 'BGP peer')})\n`);
  } else {
    process.stderr.write(result.errors.map((e) => `${errorLine(name, e)}\n`).join(''));
  }
  return result.ok ? 0 : 1;
}
