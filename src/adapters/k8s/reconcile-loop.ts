/**
 * The reconcile loop: N workers take keys from a WorkQueue, call the handler, and apply MetalLB's sync-result
 * policy in this one place — `success` forgets the key's failures, `error` counts
 * `metallb_k8s_client_update_errors_total` and retries the key with per-key backoff, `reprocessAll` forgets it
 * and asks the owner to re-queue every object. Every processed key counts `metallb_k8s_client_updates_total`.
 * A key is never processed by two workers at once (the queue guarantees it), so handlers may await I/O safely.
 * Shared by controller and speaker.
 */
import type { Logger, SyncState } from '../../core/ports.js';
import type { WorkQueue } from './workqueue.js';

/** Counters the loop reports to (the metrics adapter implements them). */
export interface ReconcileCounters {
  processed(): void;
  failed(): void;
}

export interface ReconcileLoopOptions<K extends string> {
  readonly queue: WorkQueue<K>;
  /** Processes one key; a throw is a bug: it is logged and treated as `error`. */
  readonly handle: (key: K) => Promise<SyncState>;
  /** Called after a key returned `reprocessAll`. */
  readonly reprocessAll: (key: K) => void;
  /** How many keys are processed concurrently (their I/O overlaps; handlers run one at a time per key). */
  readonly workers: number;
  readonly counters: ReconcileCounters;
  readonly logger: Logger;
}

/** Resolves after pending I/O callbacks (sockets, timers due) have run. */
function yieldToIo(): Promise<void> {
  return new Promise((resolve) => { setImmediate(resolve); });
}

export class ReconcileLoop<K extends string> {
  private readonly options: ReconcileLoopOptions<K>;
  private running: Promise<void>[] = [];

  constructor(options: ReconcileLoopOptions<K>) {
    this.options = options;
  }

  /** Starts the workers; they stop when the queue is shut down. */
  start(): void {
    for (let i = 0; i < this.options.workers; i += 1) this.running.push(this.work());
  }

  /** Resolves when every worker has returned (after queue.shutdown()). */
  async stopped(): Promise<void> {
    await Promise.all(this.running);
    this.running = [];
  }

  private async work(): Promise<void> {
    const { queue } = this.options;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        this.apply(key, await this.runHandler(key));
      } finally {
        queue.done(key);
      }
      // A handler that needs no I/O resolves at once, and the next key follows in the same microtask run: a
      // reprocess of 1,000 Services would then hold off every socket callback until it ends. The speaker's gossip
      // answers probes from those callbacks (a 50 ms probe timeout), so a busy speaker was declared dead, refuted,
      // reprocessed everything again, and ownership flapped (issue 13 §1's start-up write churn).
      await yieldToIo();
    }
  }

  private async runHandler(key: K): Promise<SyncState> {
    try {
      return await this.options.handle(key);
    } catch (err) {
      this.options.logger.error({ op: 'reconcile', key, error: errorText(err), msg: 'handler threw; retrying with backoff', bug: 'true' });
      return 'error';
    }
  }

  private apply(key: K, state: SyncState): void {
    const { queue, counters } = this.options;
    counters.processed();
    switch (state) {
      case 'success':
        queue.forget(key);
        return;
      case 'error':
        counters.failed();
        queue.addRateLimited(key);
        return;
      case 'reprocessAll':
        queue.forget(key);
        this.options.reprocessAll(key);
        return;
    }
  }
}

/** The message of an error-like value, for logs. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err) ?? String(err);
}
