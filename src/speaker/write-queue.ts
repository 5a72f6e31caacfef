/**
 * A coalescing, bounded-concurrency queue of per-key API writes (the speaker's announce annotations, issue 13 §1).
 *
 * Why it exists: the reconcile workers announce a Service (ARP/NDP, BGP) and then write its annotation. When the
 * workers awaited that write, a failover that moved 333 Services announced the k-th of them only after about k/4
 * apiserver round trips (docs/design/announce-annotations.md). Handing the write to this queue lets every worker
 * go on to the next Service's announcement at once; the annotations follow at the apiserver's pace.
 *
 * Per key: at most one write in flight; a write scheduled while one runs replaces any queued one (only the newest
 * state is written). A failed write is not retried here with its old snapshot: after a per-key backoff (500 ms
 * doubling to 30 s, reset by a success) `retry(key)` asks the owner to reconcile the key again, which schedules a
 * fresh write.
 */

import { backoffDelay, type BackoffOptions } from '../core/backoff.js';

/** A write: resolves true when done (or nothing is left to do), false when it failed and should be retried. */
export type KeyedWrite = () => Promise<boolean>;

export interface WriteQueuePorts {
  /** Writes in flight at once across all keys (≥ 1). */
  readonly concurrency: number;
  /** Called after the backoff of a failed write, to reconcile the key again. */
  readonly retry: (key: string) => void;
  /** Timer (ms); returns a cancel function. Injected so tests run on a fake clock. */
  readonly setTimer: (ms: number, fn: () => void) => () => void;
}

/** Retry delay of a failed write: 500 ms doubling to 30 s (the project's one backoff policy, src/core/backoff.ts). */
const WRITE_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

export class WriteQueue {
  private readonly ports: WriteQueuePorts;
  /** Keys waiting for a slot, in arrival order, each with its newest write. */
  private readonly pending = new Map<string, KeyedWrite>();
  /** Keys with a write in flight. */
  private readonly running = new Set<string>();
  /** Consecutive failed writes per key (reset by a success). */
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, () => void>();
  private closed = false;

  constructor(ports: WriteQueuePorts) {
    this.ports = ports;
  }

  /** Queues the key's newest write (replacing a queued older one); starts it now if a slot is free. */
  schedule(key: string, write: KeyedWrite): void {
    if (this.closed) return;
    this.pending.delete(key); // re-insert: a replaced write keeps no stale position ahead of newer keys
    this.pending.set(key, write);
    this.pump();
  }

  /** Writes queued or in flight. */
  get size(): number {
    return this.pending.size + this.running.size;
  }

  /** Drops queued writes and retry timers; writes in flight finish on their own. */
  close(): void {
    this.closed = true;
    this.pending.clear();
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }

  private pump(): void {
    for (const [key, write] of this.pending) {
      if (this.running.size >= Math.max(1, this.ports.concurrency)) return;
      if (this.running.has(key)) continue; // its newer write waits for the one in flight
      this.pending.delete(key);
      this.start(key, write);
    }
  }

  private start(key: string, write: KeyedWrite): void {
    this.running.add(key);
    const done = (ok: boolean) => {
      this.running.delete(key);
      if (ok) this.failures.delete(key);
      else if (!this.closed && !this.pending.has(key)) this.retryLater(key);
      this.pump();
    };
    write().then(done, () => done(false));
  }

  private retryLater(key: string): void {
    if (this.timers.has(key)) return;
    const failures = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, failures);
    const ms = backoffDelay(failures, WRITE_BACKOFF);
    this.timers.set(key, this.ports.setTimer(ms, () => {
      this.timers.delete(key);
      if (!this.closed) this.ports.retry(key);
    }));
  }
}
