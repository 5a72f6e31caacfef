/**
 * Command-line flags the way MetalLB's Go binaries accept them, so v0.11/v0.12 manifests' `args` work unchanged:
 * `-name`, `--name`, `--name=value` and `--name value`; booleans also as `--name=true|false`. Each flag may fall
 * back to an environment variable (MetalLB's `METALLB_*`), then to its default. Shared by controller and speaker.
 */
import { parseGoDuration } from './duration.js';
import { parseGoBase0 } from './strconv.js';

export type FlagSpec =
  | { readonly kind: 'string'; readonly env?: string; readonly default?: string; readonly usage?: string }
  | { readonly kind: 'int'; readonly env?: string; readonly default?: number; readonly usage?: string }
  /** Go's flag.Float64: a decimal such as `1.5`, `-1`, `+3` or `1e1` (not hex, Inf or NaN); ranges are the caller's. */
  | { readonly kind: 'float'; readonly env?: string; readonly default?: number; readonly usage?: string }
  | { readonly kind: 'bool'; readonly env?: string; readonly default?: boolean; readonly usage?: string }
  /** Go's flag.Duration (time.ParseDuration syntax, e.g. `100ms`, `1m30s`); the value is kept as the text given. */
  | { readonly kind: 'duration'; readonly env?: string; readonly default?: string; readonly usage?: string };

export type FlagValue = string | number | boolean | undefined;
export type ParsedFlags = Record<string, FlagValue>;

/**
 * `help: true` = `-h`, `-help` or `--help` was given (Go's flag.ErrHelp): print goFlagsUsage() and exit 0.
 * `usage: true` = the command line itself is wrong (unknown flag, missing or unparsable value): Go's
 * flag.ExitOnError prints the error and the usage on stderr and exits 2. An environment variable that does not
 * parse is no command-line error (MetalLB reads `METALLB_*` as strings, after flag.Parse): its error names the
 * variable and has no `usage` (exit 1).
 */
export type FlagsResult =
  | { readonly ok: true; readonly flags: ParsedFlags; readonly args: readonly string[] }
  | { readonly ok: false; readonly error: string; readonly help?: true; readonly usage?: true };

/**
 * Parses argv against specs as Go's flag package does (flag.Parse): flags end at the first argument that is not
 * one (`-` and anything not starting with `-`) or after `--`; what follows is returned in `args`, unparsed, as
 * flag.Args() (MetalLB's mains never read it). `---x` and `-=x` are `bad flag syntax`; unknown flags and bad
 * values are errors with `usage`.
 */
export function parseGoFlags(argv: readonly string[], specs: Readonly<Record<string, FlagSpec>>, env: Readonly<Record<string, string | undefined>>): FlagsResult {
  const given = new Map<string, string>();
  let args: readonly string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg.length < 2 || !arg.startsWith('-')) { args = argv.slice(i); break; }
    if (arg === '--') { args = argv.slice(i + 1); break; }
    const body = arg.slice(arg.startsWith('--') ? 2 : 1);
    if (body === '' || body.startsWith('-') || body.startsWith('=')) return { ok: false, usage: true, error: `bad flag syntax: ${arg}` };
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const spec = specs[name];
    if (!spec && (name === 'h' || name === 'help')) return { ok: false, help: true, error: 'flag: help requested' };
    if (!spec) return { ok: false, usage: true, error: `flag provided but not defined: -${name}` };
    let value = eq < 0 ? undefined : body.slice(eq + 1);
    if (value === undefined) {
      if (spec.kind === 'bool') value = 'true';
      else {
        const next = argv[i + 1];
        if (next === undefined) return { ok: false, usage: true, error: `flag needs an argument: -${name}` };
        value = next;
        i += 1;
      }
    }
    given.set(name, value);
  }
  const flags: ParsedFlags = {};
  for (const [name, spec] of Object.entries(specs)) {
    const envValue = spec.env ? nonEmpty(env[spec.env]) : undefined;
    const raw = given.get(name) ?? envValue;
    if (raw === undefined) { flags[name] = spec.default; continue; }
    const converted = convert(name, spec, raw);
    if (typeof converted === 'object') {
      return given.has(name) ? { ...converted, usage: true } : { ok: false, error: `${spec.env}: ${converted.error}` };
    }
    flags[name] = converted;
  }
  return { ok: true, flags, args };
}

function convert(name: string, spec: FlagSpec, raw: string): string | number | boolean | { ok: false; error: string } {
  if (spec.kind === 'string') return raw;
  if (spec.kind === 'duration') {
    const parsed = parseGoDuration(raw);
    return parsed.ok ? raw : { ok: false, error: `invalid --${name}: ${parsed.error}` };
  }
  if (spec.kind === 'int') {
    const value = parseGoInt(raw);
    return typeof value === 'number' ? value : { ok: false, error: `invalid value "${raw}" for flag -${name}: ${value}` };
  }
  if (spec.kind === 'float') {
    return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw) ? Number(raw) : { ok: false, error: `invalid value "${raw}" for flag -${name}: parse error` };
  }
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(raw)) return false;
  return { ok: false, error: `invalid boolean value "${raw}" for -${name}: parse error` };
}

/**
 * Go's flag.Int: strconv.ParseInt(s, 0, 64) (src/core/go/strconv.ts). Returns the value, or Go's reason:
 * `parse error`, `value out of range` (beyond int64). Ranges narrower than int64 are the caller's, after parsing
 * (as MetalLB's mains check).
 */
export function parseGoInt(s: string): number | 'parse error' | 'value out of range' {
  const value = parseGoBase0(s);
  if (value === undefined) return 'parse error';
  if (value > 2n ** 63n - 1n || value < -(2n ** 63n)) return 'value out of range';
  return Number(value);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Go's flag.PrintDefaults layout for `-h`: one entry per flag, sorted, with its type, usage, default and (ours)
 * the environment variable it falls back to.
 */
export function goFlagsUsage(command: string, specs: Readonly<Record<string, FlagSpec>>): string {
  const lines = [`Usage of ${command}:`];
  for (const name of Object.keys(specs).sort()) {
    const spec = specs[name]!;
    lines.push(`  -${name}${spec.kind === 'bool' ? '' : ` ${spec.kind === 'string' ? 'string' : spec.kind}`}`);
    const notes: string[] = [];
    if (spec.default !== undefined && spec.default !== '' && spec.default !== false) notes.push(`default ${spec.kind === 'string' ? JSON.stringify(spec.default) : String(spec.default)}`);
    if (spec.env) notes.push(`env ${spec.env}`);
    lines.push(`    \t${spec.usage ?? ''}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
