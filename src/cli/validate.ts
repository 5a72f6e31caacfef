/**
 * `metallb-ts validate [--json] FILE|-`: checks a MetalLB ConfigMap manifest (its `data.config`)
 * or a bare config payload, from a file or stdin. Prints `FILE:LINE:COL: message` per error (or a
 * JSON report with --json). Exit 0 valid, 1 invalid, 2 usage or unreadable input.
 * `--print-schema` prints the JSON Schema shipped as manifests/config.schema.json.
 */
import { readFile } from 'node:fs/promises';
import { parseConfigDocument } from '../core/config/parse.js';
import { CONFIG_SCHEMA } from '../core/config/schema.js';
import type { ConfigError, ConfigResult } from '../core/config/types.js';

export const VALIDATE_USAGE = `usage: metallb-ts validate [--json] FILE|-
       metallb-ts validate --print-schema

Checks a MetalLB ConfigMap manifest (reads data.config; a missing key is a valid empty config)
or a bare config payload. "-" reads stdin.

  --json           print a JSON report instead of FILE:LINE:COL: message lines
  --print-schema   print the config JSON Schema (manifests/config.schema.json)

Exit status: 0 valid, 1 invalid, 2 usage error or unreadable input.
`;

type Args = { help: true } | { printSchema: true } | { file: string; json: boolean } | { error: string };

function parseArgs(argv: readonly string[]): Args {
  let json = false;
  let printSchema = false;
  const files: string[] = [];
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h' || arg === '-help') return { help: true };
    else if (arg === '--json') json = true;
    else if (arg === '--print-schema') printSchema = true;
    else if (arg.startsWith('-') && arg !== '-') return { error: `unknown option ${arg}` };
    else files.push(arg);
  }
  if (printSchema) return files.length === 0 ? { printSchema: true } : { error: '--print-schema takes no FILE' };
  if (files.length !== 1) return { error: files.length === 0 ? 'missing FILE (or - for stdin)' : 'exactly one FILE expected' };
  return { file: files[0]!, json };
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
