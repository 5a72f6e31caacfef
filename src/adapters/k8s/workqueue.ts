/**
 * A de-duplicating work queue with per-key exponential backoff, the part of client-go's workqueue that MetalLB's
 * reconcile loop relies on: a key waiting in the queue is held once however often it is added; a key being
 * processed is never handed to a second worker, and an add during processing re-queues it when done() is called.
 * Backoff applies per key and only on failure (addRateLimited); there is no global rate bucket, which would cap
 * throughput for large clusters. Shared by controller and speaker.
 */
import type { Clock } from '../clock.js';
import { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from '../../core/backoff.js';

export class WorkQueue<K extends string = string> {
  private readonly queue: K[] = [];
  private head = 0;
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly failures = new Map<K, number>();
  /** Pending delayed adds: key → due time and its cancel function (only the earliest is kept). */
  private readonly delayed = new Map<K, { due: number; cancel: () => void }>();
  private readonly waiters: Array<(key: K | undefined) => void> = [];
  private shuttingDown = false;

  private readonly clock: Clock;
  private readonly backoff: BackoffOptions;

  constructor(clock: Clock, backoff: BackoffOptions = DEFAULT_BACKOFF) {
    this.clock = clock;
    this.backoff = backoff;
  }

  /** Queues key now (no-op when it is already waiting). */
  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else {
      this.queue.push(key);
    }
  }

  /** Queues key after ms; an earlier pending delayed add for the same key wins. */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) { this.add(key); return; }
    const due = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.due <= due) return;
    pending?.cancel();
    const cancel = this.clock.setTimer(ms, () => {
      this.delayed.delete(key);
      this.add(key);
    });
    this.delayed.set(key, { due, cancel });
  }

  /** Records a failure of key and re-queues it after its backoff delay. */
  addRateLimited(key: K): void {
    const failures = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, failures);
    this.addAfter(key, backoffDelay(failures, this.backoff));
  }

  /** Clears key's failure count (after a success). */
  forget(key: K): void {
    this.failures.delete(key);
  }

  /** How many times key has failed since its last forget(). */
  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /** Next key to process, waiting if the queue is empty; undefined once shut down. Call done(key) afterwards. */
  get(): Promise<K | undefined> {
    const key = this.takeNext();
    if (key !== undefined) return Promise.resolve(key);
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks key processed; if it was added meanwhile it is queued again. */
  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  /** Keys waiting (not counting delayed ones or those being processed). */
  get length(): number {
    return this.queue.length - this.head;
  }

  /** Stops handing out keys; pending get() calls resolve to undefined; delayed adds are cancelled. */
  shutdown(): void {
    this.shuttingDown = true;
    for (const { cancel } of this.delayed.values()) cancel();
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  private takeNext(): K | undefined {
    if (this.head >= this.queue.length) return undefined;
    const key = this.queue[this.head] as K;
    this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }
}
