/**
 * Protocol errors as values. Every decode or session check that fails yields a `BgpError` carrying exactly
 * what the NOTIFICATION must say (RFC 4271 §4.5: code, subcode, data) plus a lowercase reason for logs.
 * Nothing in src/core/bgp throws on bad input: callers branch on `ok`.
 */
import { CeaseSubcode, ErrorCode, FsmSubcode, HeaderSubcode, OpenSubcode, RouteRefreshSubcode, UpdateSubcode } from './constants.js';

/** What a NOTIFICATION for this failure carries, and why (for the log line). */
export interface BgpError {
  readonly code: number;
  readonly subcode: number;
  /** The NOTIFICATION's Data field, as each RFC section prescribes (often empty). */
  readonly data: Buffer;
  readonly reason: string;
}

/** A decode result: the value, or the error its NOTIFICATION reports. */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: BgpError };

/** Builds a BgpError. */
export function bgpError(code: number, subcode: number, reason: string, data: Buffer = Buffer.alloc(0)): BgpError {
  return { code, subcode, data, reason };
}

/** Shorthand for a failed Result. */
export function fail<T>(code: number, subcode: number, reason: string, data?: Buffer): Result<T> {
  return { ok: false, error: bgpError(code, subcode, reason, data) };
}

/** Shorthand for a successful Result. */
export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

function nameOf(table: Record<string, number>, value: number): string | undefined {
  const hit = Object.entries(table).find(([, v]) => v === value);
  return hit?.[0].toLowerCase().replace(/_/g, ' ');
}

const SUBCODES: Record<number, Record<string, number>> = {
  [ErrorCode.MESSAGE_HEADER]: HeaderSubcode,
  [ErrorCode.OPEN_MESSAGE]: OpenSubcode,
  [ErrorCode.UPDATE_MESSAGE]: UpdateSubcode,
  [ErrorCode.FSM]: FsmSubcode,
  [ErrorCode.CEASE]: CeaseSubcode,
  [ErrorCode.ROUTE_REFRESH_MESSAGE]: RouteRefreshSubcode,
};

/**
 * Human text for a NOTIFICATION code/subcode in the RFCs' words, e.g. `cease/peer deconfigured` or
 * `hold timer expired`; unknown values print as numbers.
 */
export function describeNotification(code: number, subcode: number): string {
  const codeName = nameOf(ErrorCode, code) ?? `code ${code}`;
  const table = SUBCODES[code];
  if (table === undefined) return subcode === 0 ? codeName : `${codeName}/subcode ${subcode}`;
  const subName = nameOf(table, subcode) ?? `subcode ${subcode}`;
  return `${codeName}/${subName}`;
}
