/**
 * The Logger port as go-kit-style JSON lines, MetalLB's log format: one object per line with `ts` (UTC RFC 3339),
 * `level`, `caller` (file:line of the call site), bindings from child(), then the call's fields (`event` for
 * something that happened, `op` + `error` for a failure, `msg` always). Shared by controller and speaker.
 */
import type { LogFields, Logger } from '../../core/ports.js';

/** MetalLB's `--log-level` values; `all` logs everything, `none` nothing. */
export const LOG_LEVELS = ['all', 'debug', 'info', 'warn', 'error', 'none'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Severity order of the four emitting levels; a threshold level lets through itself and everything above. */
const SEVERITY = { all: 0, debug: 1, info: 2, warn: 3, error: 4, none: 5 } as const;
type Emitting = 'debug' | 'info' | 'warn' | 'error';

/** Parses `--log-level`; the error text is MetalLB's. */
export function parseLogLevel(text: string): { ok: true; level: LogLevel } | { ok: false; error: string } {
  return (LOG_LEVELS as readonly string[]).includes(text)
    ? { ok: true, level: text as LogLevel }
    : { ok: false, error: `failed to parse log level: ${text}` };
}

export interface JsonLoggerOptions {
  readonly level: LogLevel;
  /** Receives each complete line including the trailing newline (default: process.stdout). */
  readonly write?: (line: string) => void;
  /** RFC 3339 timestamp source (default: wall clock). */
  readonly now?: () => string;
  /** Fields on every line (e.g. the component). */
  readonly bindings?: LogFields;
}

/** A Logger writing one JSON object per line. */
export function createJsonLogger(options: JsonLoggerOptions): Logger {
  const write = options.write ?? ((line: string) => { process.stdout.write(line); });
  const now = options.now ?? (() => new Date().toISOString());
  return makeLogger(SEVERITY[options.level], write, now, options.bindings ?? {});
}

function makeLogger(threshold: number, write: (l: string) => void, now: () => string, bindings: LogFields): Logger {
  const emit = (level: Emitting, fields: LogFields, site: Function): void => {
    if (SEVERITY[level] < threshold) return;
    const line: Record<string, unknown> = { ts: now(), level, caller: callerOf(site) };
    Object.assign(line, bindings, fields);
    if (line['msg'] === undefined) line['msg'] = fields.event ?? fields.op ?? '';
    write(`${safeStringify(line)}\n`);
  };
  const logger: Logger = {
    debug(f) { emit('debug', f, logger.debug); },
    info(f) { emit('info', f, logger.info); },
    warn(f) { emit('warn', f, logger.warn); },
    error(f) { emit('error', f, logger.error); },
    child: (more) => makeLogger(threshold, write, now, { ...bindings, ...more }),
  };
  return logger;
}

/** `dir/file.js:line` of the frame that called `site` (go-kit's `caller`, e.g. `controller/reconciler.js:42`). */
function callerOf(site: Function): string {
  const holder: { stack?: string } = {};
  const previousLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  Error.captureStackTrace(holder, site);
  Error.stackTraceLimit = previousLimit;
  const frame = /\(?(?:file:\/\/)?([^\s()]+):(\d+):\d+\)?\s*$/m.exec(holder.stack ?? '');
  if (!frame) return 'unknown';
  const parts = (frame[1] ?? '').split('/');
  return `${parts.slice(-2).join('/')}:${frame[2] ?? '0'}`;
}

/** JSON.stringify that never throws: bigint as string, Errors as their message, cycles as "[circular]". */
function safeStringify(value: Record<string, unknown>): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Error) return v.message;
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[circular]';
      seen.add(v);
    }
    return v;
  });
}
