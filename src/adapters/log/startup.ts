/**
 * The command-line start shared by the controller and speaker mains: -h/-help/--help prints the usage and exits 0
 * (as Go's flag package does); a bad flag or `--log-level` is one JSON `startup` error line and exit code 1.
 */
import { createJsonLogger, parseLogLevel } from './json-logger.js';
import type { Logger } from '../../core/ports.js';

/** What a flag parser returns: the flags, or `help`, or an error message. */
export type ParsedFlags<F> = { readonly ok: true; readonly flags: F } | { readonly ok: false; readonly help?: boolean; readonly error: string };

/** Either the flags and a logger at their `logLevel`, or the exit code to return at once (0 help, 1 error). */
export function startFromFlags<F extends { readonly logLevel: string }>(parsed: ParsedFlags<F>, usage: () => string): { flags: F; logger: Logger } | { exitCode: number } {
  if (!parsed.ok && parsed.help) {
    process.stdout.write(usage());
    return { exitCode: 0 };
  }
  const level = parsed.ok ? parseLogLevel(parsed.flags.logLevel) : undefined;
  if (!parsed.ok || !level?.ok) {
    const error = !parsed.ok ? parsed.error : (level && !level.ok ? level.error : 'invalid flags');
    createJsonLogger({ level: 'info' }).error({ op: 'startup', error, msg: 'invalid command line' });
    return { exitCode: 1 };
  }
  return { flags: parsed.flags, logger: createJsonLogger({ level: level.level }) };
}
