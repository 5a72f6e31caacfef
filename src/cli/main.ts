#!/usr/bin/env node
/**
 * `metallb-ts <subcommand> …`: dispatches to `src/cli/<name>.ts`, each exporting
 * `run(argv): Promise<number>` (the exit code). Subcommands are loaded by dynamic import so
 * `validate` and `migrate` never load the Kubernetes client.
 */

type SubcommandModule = { run(argv: string[]): Promise<number> };

/** name → [one-line summary, loader]. Add a subcommand with one line here. */
const SUBCOMMANDS: Readonly<Record<string, readonly [string, () => Promise<SubcommandModule>]>> = {
  validate: ['check a MetalLB ConfigMap (or its config payload) and report errors with line:column', () => import('./validate.js')],
  migrate: ['convert a legacy ConfigMap to MetalLB CRs', () => import('./migrate.js')],
  controller: ['run the MetalLB controller: allocate LoadBalancer IPs from the ConfigMap pools', () => import('./controller.js')],
  status: ['show pools, where every LoadBalancer IP is announced (or why not), the config state and live speakers', () => import('./status.js')],
  speaker: ['run the MetalLB speaker: announce LoadBalancer IPs from this node (layer 2 and BGP)', () => import('./speaker.js')],
};

function usage(): string {
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((n) => n.length));
  const lines = Object.entries(SUBCOMMANDS).map(([name, [summary]]) => `  ${name.padEnd(width)}  ${summary}`);
  return ['usage: metallb-ts <subcommand> [options]', '', 'subcommands:', ...lines, '', "Run 'metallb-ts <subcommand> --help' for its options.", ''].join('\n');
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? process.stderr : process.stdout).write(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
  if (!entry) {
    process.stderr.write(`metallb-ts: unknown subcommand ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  const module = await entry[1]();
  return module.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`metallb-ts: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 70;
  },
);
