/**
 * The command-line start shared by the controller and speaker mains, with Go's exit codes: -h/-help/--help prints
 * the usage and exits 0; a command line the flag parser refuses (unknown flag, missing or unparsable value) is one
 * JSON `startup` error line, then the error and usage on stderr, and exit code 2 (flag.ExitOnError); a parsed but
 * unusable value (`--log-level`, no node name, a port out of range) is the JSON line and exit code 1, as v0.11's
 * mains exit after parsing.
 */
import { createJsonLogger, parseLogLevel } from './json-logger.js';
import type { Logger } from '../../core/ports.js';

/** What a flag parser returns: the flags, or `help`, or an error message. */
export type ParsedFlags<F> = { readonly ok: true; readonly flags: F; readonly args?: readonly string[] } | { readonly ok: false; readonly help?: boolean; readonly usage?: boolean; readonly error: string };

/** Either the flags and a logger at their `logLevel`, or the exit code to return at once (0 help, 2 bad command line, 1 bad value). */
export function startFromFlags<F extends { readonly logLevel: string }>(parsed: ParsedFlags<F>, usage: () => string): { flags: F; logger: Logger } | { exitCode: number } {
  if (!parsed.ok && parsed.help) {
    process.stdout.write(usage());
    return { exitCode: 0 };
  }
  const level = parsed.ok ? parseLogLevel(parsed.flags.logLevel) : undefined;
  if (!parsed.ok || !level?.ok) {
    const error = !parsed.ok ? parsed.error : (level && !level.ok ? level.error : 'invalid flags');
    createJsonLogger({ level: 'info' }).error({ op: 'startup', error, msg: 'invalid command line' });
    if (!parsed.ok && parsed.usage) {
      process.stderr.write(`${error}\n${usage()}`);
      return { exitCode: 2 };
    }
    return { exitCode: 1 };
  }
  const logger = createJsonLogger({ level: level.level });
  // Go's flag.Parse stops at the first non-flag argument and v0.11's mains never read the rest: run, and say so.
  if (parsed.args && parsed.args.length > 0) logger.warn({ op: 'startup', args: parsed.args, msg: 'arguments after the flags are ignored, as MetalLB v0.11 ignores them' });
  return { flags: parsed.flags, logger };
}
