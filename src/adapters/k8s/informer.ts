/**
 * An informer that keeps running. `@kubernetes/client-node`'s ListWatch relists after 410 Gone on its own, but on
 * any other error (apiserver restarting, connection refused, a failed list) it calls its error callbacks and
 * stops for good; this wrapper restarts the same ListWatch (keeping its cache and resourceVersion, so a restart
 * resumes the watch or relists) with exponential backoff, and reports `synced` once the first list completed.
 * Handlers receive every add/update/delete; a relist reports objects that vanished meanwhile as deletes.
 * Shared by controller and speaker.
 */
import type { Logger } from '../../core/ports.js';
import type { Clock } from '../clock.js';
import { backoffDelay, type BackoffOptions } from '../../core/backoff.js';
import { errorText } from './reconcile-loop.js';

/** The slice of client-node's ListWatch this wrapper drives (a fake implements it in tests). */
export interface ListWatchLike<T> {
  on(verb: 'add' | 'update' | 'delete', cb: (obj: T) => void): void;
  on(verb: 'error' | 'connect', cb: (err?: unknown) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): ReadonlyArray<T>;
}

export type ChangeKind = 'add' | 'update' | 'delete';

export interface ResilientInformerOptions<T> {
  /** For logs, e.g. "services". */
  readonly name: string;
  readonly listWatch: ListWatchLike<T>;
  readonly onChange: (kind: ChangeKind, obj: T) => void;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Restart delays (default 200 ms doubling to 10 s). */
  readonly backoff?: BackoffOptions;
}

export const INFORMER_RESTART_BACKOFF: BackoffOptions = { baseMs: 200, maxMs: 10_000 };

export class ResilientInformer<T> {
  private readonly options: ResilientInformerOptions<T>;
  private failures = 0;
  private erroredSinceStart = false;
  private stopped = true;
  private cancelRestart: (() => void) | undefined;
  private synced = false;
  private readonly syncedWaiters: Array<() => void> = [];

  constructor(options: ResilientInformerOptions<T>) {
    this.options = options;
    const lw = options.listWatch;
    lw.on('add', (obj: T) => options.onChange('add', obj));
    lw.on('update', (obj: T) => options.onChange('update', obj));
    lw.on('delete', (obj: T) => options.onChange('delete', obj));
    lw.on('error', (err?: unknown) => this.onError(err));
  }

  /** Starts listing and watching; resolves at once (use whenSynced() to wait for the first list). */
  start(): void {
    this.stopped = false;
    void this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelRestart?.();
    this.cancelRestart = undefined;
    await this.options.listWatch.stop();
  }

  /** True once a first list has completed. */
  get hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once a first list has completed. */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncedWaiters.push(resolve));
  }

  get(name: string, namespace?: string): T | undefined {
    return this.options.listWatch.get(name, namespace);
  }

  list(): ReadonlyArray<T> {
    return this.options.listWatch.list();
  }

  private async run(): Promise<void> {
    this.erroredSinceStart = false;
    try {
      await this.options.listWatch.start();
    } catch (err) {
      // ListWatch reports through its error callbacks, but a throw (e.g. no current cluster) must not be lost.
      this.onError(err);
      return;
    }
    if (this.erroredSinceStart || this.stopped) return;
    if (this.failures > 0) this.options.logger.info({ event: 'watchRestarted', informer: this.options.name, msg: 'watch re-established' });
    this.failures = 0;
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncedWaiters.splice(0)) resolve();
    }
  }

  private onError(err: unknown): void {
    this.erroredSinceStart = true;
    if (this.stopped || this.cancelRestart) return;
    this.failures += 1;
    const delay = backoffDelay(this.failures, this.options.backoff ?? INFORMER_RESTART_BACKOFF);
    this.options.logger.warn({ op: 'watch', informer: this.options.name, error: errorText(err), retryInMs: delay, msg: 'watch failed; restarting with backoff' });
    this.cancelRestart = this.options.clock.setTimer(delay, () => {
      this.cancelRestart = undefined;
      if (!this.stopped) void this.run();
    });
  }
}
