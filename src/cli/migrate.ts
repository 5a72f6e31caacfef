/**
 * `metallb-ts migrate`: legacy ConfigMap → MetalLB CRs. YAML on stdout (or -o FILE, written only on
 * success); warnings, renames, the Services to re-annotate and errors on stderr.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { migrate, type Diagnostic, type MigrateOutcome } from '../core/migrate/migrate.js';
import { validateLegacy } from '../core/migrate/validator.js';
import type { Rename } from '../core/migrate/issues.js';
import { MIGRATE_USAGE, parseMigrateArgs, type MigrateArgs } from './migrate-args.js';
import { annotateCommand, connect, readConfigMap, servicesUsingRenamedPools, type ClusterResult } from './migrate-cluster.js';

/** Where the command reads and writes; the process's streams by default, fakes in tests. */
export interface MigrateIo {
  readStdin(): Promise<string>;
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: MigrateIo = {
  async readStdin() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Runs the subcommand; returns the exit code (0 ok, 1 invalid input or cluster failure, 2 usage). */
export async function run(argv: string[], io: MigrateIo = processIo): Promise<number> {
  const parsed = parseMigrateArgs(argv);
  if (!parsed.ok) {
    io.stderr(`metallb-ts migrate: ${parsed.error}\n${MIGRATE_USAGE}\n`);
    return 2;
  }
  const args = parsed.args;
  if (args.help) {
    io.stdout(`${MIGRATE_USAGE}\n`);
    return 0;
  }
  return args.fromCluster ? fromCluster(args, io) : fromFile(args, io);
}

async function fromFile(args: MigrateArgs, io: MigrateIo): Promise<number> {
  let text: string;
  try {
    text = args.input === '-' ? await io.readStdin() : await readFile(args.input, 'utf8');
  } catch (err) {
    io.stderr(`metallb-ts migrate: cannot read ${args.input}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const source = args.input === '-' ? '<stdin>' : args.input;
  const outcome = migrate({ text, onlyData: args.onlyData, passwordSecrets: args.passwordSecrets }, validateLegacy);
  return finish(outcome, source, args, io, async () => ({ ok: true, value: [] }));
}

async function fromCluster(args: MigrateArgs, io: MigrateIo): Promise<number> {
  const clients = await connect(args.kubeconfig);
  if (!clients.ok) return clusterFailure(clients, io);
  const cm = await readConfigMap(clients.value, args.namespace, args.name);
  if (!cm.ok) return clusterFailure(cm, io);
  const source = `configmap ${args.namespace}/${args.name} data.config`;
  const outcome = migrate(
    { text: cm.value.config ?? '', onlyData: true, passwordSecrets: args.passwordSecrets, namespace: args.namespace },
    validateLegacy,
  );
  const services = async (renames: readonly Rename[]) => servicesUsingRenamedPools(clients.value, renames);
  return finish(outcome, source, args, io, async (renames) => {
    const found = await services(renames);
    return found.ok ? { ok: true, value: found.value.map(annotateCommand) } : found;
  });
}

type FixCommands = (renames: readonly Rename[]) => Promise<ClusterResult<string[]>>;

async function finish(outcome: MigrateOutcome, source: string, args: MigrateArgs, io: MigrateIo, fixes: FixCommands): Promise<number> {
  for (const warning of outcome.warnings) io.stderr(formatDiagnostic(source, warning));
  if (!outcome.ok) {
    for (const error of outcome.errors) io.stderr(formatDiagnostic(source, error));
    io.stderr(`metallb-ts migrate: ${outcome.errors.length} error(s): nothing written\n`);
    return 1;
  }
  const found = await fixes(outcome.renames);
  if (!found.ok) {
    // The conversion itself is fine; only the Service check is missing, so say so and still write it.
    io.stderr(`metallb-ts migrate: warning: ${found.error}; check metallb.universe.tf/address-pool annotations yourself\n`);
  }
  const commands = found.ok ? found : { ok: true as const, value: [] };
  try {
    if (args.output) await writeFile(args.output, outcome.yaml);
    else io.stdout(outcome.yaml);
  } catch (err) {
    io.stderr(`metallb-ts migrate: cannot write ${args.output}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  io.stderr(summary(outcome.objects.length, outcome.namespace, outcome.renames, args, commands.value, found.ok));
  return 0;
}

function summary(
  count: number,
  namespace: string,
  renames: readonly Rename[],
  args: MigrateArgs,
  commands: readonly string[],
  checked: boolean,
): string {
  const lines = [`metallb-ts migrate: ${count} object(s) in namespace ${namespace}${args.output ? ` written to ${args.output}` : ''}`];
  const pools = renames.filter((r) => r.kind === 'pool');
  if (pools.length > 0) {
    lines.push('renamed pools (legacy name -> IPAddressPool):', ...pools.map((r) => `  ${r.from} -> ${r.to}`));
    if (!args.fromCluster) {
      lines.push('Services annotated metallb.universe.tf/address-pool with an old name must be re-annotated; --from-cluster lists them');
    } else if (!checked) {
      lines.push('Services could not be checked (see the warning above)');
    } else if (commands.length === 0) {
      lines.push('no Service is annotated with a renamed pool');
    } else {
      lines.push('Services annotated with a renamed pool; fix them with:', ...commands.map((c) => `  ${c}`));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `source:line:column: severity: message`, then the hint indented. */
export function formatDiagnostic(source: string, d: Diagnostic): string {
  const where = d.position ? `${source}:${d.position.line}:${d.position.column}` : source;
  return `${where}: ${d.severity}: ${d.message}${d.hint ? `\n  hint: ${d.hint}` : ''}\n`;
}

function clusterFailure(result: { readonly ok: false; readonly error: string }, io: MigrateIo): number {
  io.stderr(`metallb-ts migrate: ${result.error}\n`);
  return 1;
}
