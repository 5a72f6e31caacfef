/**
 * Records core/v1 Events as MetalLB does (source component e.g. `metallb-controller`), without ever blocking the
 * reconcile loop: record() queues, a few concurrent senders create the Events, and a full queue drops the oldest
 * (as client-go's broadcaster drops when its channel is full). Repeats of the same event on the same object are
 * aggregated like client-go's correlator: the existing Event's `count`/`lastTimestamp` is patched instead of
 * creating a new one. A send that fails for a reason that can pass (no answer, 5xx, 429: e.g. an apiserver restart)
 * is retried with bounded exponential backoff (issue 8: a lost ConfigRefused was never sent again); other
 * failures, and the last attempt, are logged and dropped. Shared by controller and speaker.
 */
import { randomInt } from 'node:crypto';
import type { CoreV1Event } from '@kubernetes/client-node';
import type { EventTarget, Logger, ServiceEvent } from '../../core/ports.js';
import type { KubeClients } from './client.js';
import { describeApiError, httpStatusOf } from './client.js';
import { backoffDelay, type BackoffOptions } from '../../core/backoff.js';

/** Retry delays for a failed send: 500 ms doubling to 30 s, 10 attempts in all (about 2.5 minutes). */
export const EVENT_RETRY_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };
export const EVENT_MAX_ATTEMPTS = 10;

export type { EventTarget };

/** What the reconciler calls. */
export interface EventSink {
  record(target: EventTarget, event: ServiceEvent): void;
}

/** Where events are sent (client-node in production, a fake in unit tests). */
export interface EventApi {
  create(namespace: string, body: Record<string, unknown>): Promise<void>;
  /** Merge-patches count/lastTimestamp of an existing Event. */
  patch(namespace: string, name: string, body: Record<string, unknown>): Promise<void>;
}

export interface EventRecorderOptions {
  readonly api: EventApi;
  readonly component: string;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** Concurrent API calls (default 2: Events yield the apiserver to status writes, which users wait for). */
  readonly concurrency?: number;
  /** Queue bound (default 5000: a burst of allocations on a large cluster must not drop Events). */
  readonly maxPending?: number;
  /**
   * While this returns true (e.g. status writes are in flight), Events wait, at most maxDelayMs each, so the
   * apiserver serves the writes users wait for first; call resume() when it turns false.
   */
  readonly yieldTo?: () => boolean;
  /** Longest an Event waits behind yieldTo (default 2000 ms). */
  readonly maxDelayMs?: number;
  /** Retry delays for failed sends (default EVENT_RETRY_BACKOFF). */
  readonly retryBackoff?: BackoffOptions;
  /** Attempts per Event, the first included (default EVENT_MAX_ATTEMPTS). */
  readonly maxAttempts?: number;
}

interface PendingEvent { readonly target: EventTarget; readonly event: ServiceEvent; readonly at: Date; readonly attempt: number }

interface Seen { readonly name: string; count: number }
const MAX_SEEN = 4096;
/** Names tried per Event when the apiserver answers 409 AlreadyExists (another process took the name). */
const NAME_ATTEMPTS = 5;

export class EventRecorder implements EventSink {
  private readonly options: EventRecorderOptions;
  private readonly pending: PendingEvent[] = [];
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly seen = new Map<string, Seen>();
  private active = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(options: EventRecorderOptions) {
    this.options = options;
  }

  record(target: EventTarget, event: ServiceEvent): void {
    if (this.pending.length >= (this.options.maxPending ?? 5000)) {
      this.pending.shift();
      this.options.logger.warn({ op: 'recordEvent', error: 'event queue full', msg: 'dropped the oldest pending event' });
    }
    this.pending.push({ target, event, at: this.now(), attempt: 1 });
    this.pump();
  }

  /** Sends waiting Events now that yieldTo() turned false. */
  resume(): void {
    this.pump();
  }

  /** Resolves when every queued event has been sent (or failed). */
  flush(): Promise<void> {
    if (this.active === 0 && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private now(): Date {
    return (this.options.now ?? (() => new Date()))();
  }

  private pump(): void {
    while (this.active < (this.options.concurrency ?? 2) && this.pending.length > 0) {
      const head = this.pending[0] as PendingEvent;
      const waited = this.now().getTime() - head.at.getTime();
      const maxDelay = this.options.maxDelayMs ?? 2000;
      if (this.options.yieldTo?.() && waited < maxDelay) {
        this.retryAfter(maxDelay - waited);
        return;
      }
      this.pending.shift();
      this.active += 1;
      void this.send(head).finally(() => {
        this.active -= 1;
        this.pump();
        if (this.active === 0 && this.pending.length === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  private retryAfter(ms: number): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => { this.retryTimer = undefined; this.pump(); }, Math.max(1, ms));
    this.retryTimer.unref();
  }

  /** `now` is when the event happened (record time), so a delayed Event keeps its true timestamp. */
  private async send(pending: PendingEvent): Promise<void> {
    const { target, event, at: now } = pending;
    const key = `${target.kind}|${target.namespace}|${target.name}|${target.uid ?? ''}|${event.type}|${event.reason}|${event.message}`;
    const seen = this.seen.get(key);
    try {
      if (seen) {
        try {
          await this.options.api.patch(target.namespace, seen.name, { count: seen.count + 1, lastTimestamp: now.toISOString() });
          seen.count += 1;
          return;
        } catch (err) {
          if (httpStatusOf(err) !== 404) throw err;
          this.seen.delete(key); // the Event expired (TTL): create a fresh one
        }
      }
      this.remember(key, { name: await this.create(target, event, now), count: 1 });
    } catch (err) {
      const status = httpStatusOf(err);
      const transient = status === undefined || status >= 500 || status === 429;
      const maxAttempts = this.options.maxAttempts ?? EVENT_MAX_ATTEMPTS;
      const fields = { op: 'recordEvent', reason: event.reason, object: `${target.namespace}/${target.name}`, attempt: pending.attempt, error: describeApiError(err) };
      if (!transient || pending.attempt >= maxAttempts) {
        this.options.logger.warn({ ...fields, msg: 'failed to record event; dropped' });
        return;
      }
      const delay = backoffDelay(pending.attempt, this.options.retryBackoff ?? EVENT_RETRY_BACKOFF);
      this.options.logger.debug({ ...fields, retryInMs: delay, msg: 'failed to record event; retrying' });
      const timer = setTimeout(() => { this.pending.push({ ...pending, attempt: pending.attempt + 1 }); this.pump(); }, delay);
      timer.unref();
    }
  }

  /**
   * Creates the Event under a fresh name and returns it. Controller and speakers all record Events on the shared
   * ConfigMap, often in the same millisecond for the same edit, so a name made of the time alone collides across
   * processes (409 AlreadyExists dropped a ConfigRefused). The name is the time in ns-like units plus a random
   * nonce, as client-go's `<name>.<UnixNano hex>`; a 409 is answered with a new name, at most NAME_ATTEMPTS times.
   */
  private async create(target: EventTarget, event: ServiceEvent, now: Date): Promise<string> {
    for (let attempt = 1; ; attempt += 1) {
      const name = `${target.name}.${(BigInt(now.getTime()) * 1_000_000n + BigInt(randomInt(1_000_000))).toString(16)}`;
      try {
        await this.options.api.create(target.namespace, this.eventBody(name, target, event, now));
        return name;
      } catch (err) {
        if (httpStatusOf(err) !== 409 || attempt >= NAME_ATTEMPTS) throw err;
      }
    }
  }

  private remember(key: string, seen: Seen): void {
    if (this.seen.size >= MAX_SEEN) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.seen.set(key, seen);
  }

  private eventBody(name: string, target: EventTarget, event: ServiceEvent, now: Date): Record<string, unknown> {
    const { component } = this.options;
    return {
      apiVersion: 'v1', kind: 'Event',
      metadata: { name, namespace: target.namespace },
      involvedObject: {
        kind: target.kind, apiVersion: target.apiVersion, ...(target.clusterScoped ? {} : { namespace: target.namespace }), name: target.name,
        ...(target.uid ? { uid: target.uid } : {}), ...(target.resourceVersion ? { resourceVersion: target.resourceVersion } : {}),
      },
      type: event.type, reason: event.reason, message: event.message,
      source: { component }, reportingComponent: component, reportingInstance: component,
      firstTimestamp: now.toISOString(), lastTimestamp: now.toISOString(), count: 1,
    };
  }
}

/** An EventApi over client-node's CoreV1Api (bodies are sent as plain JSON). */
export function createEventApi(clients: KubeClients): EventApi {
  const mergePatch = clients.k8s.setHeaderOptions('Content-Type', clients.k8s.PatchStrategy.MergePatch);
  return {
    async create(namespace, body) {
      await clients.core.createNamespacedEvent({ namespace, body: body as unknown as CoreV1Event });
    },
    async patch(namespace, name, body) {
      await clients.core.patchNamespacedEvent({ namespace, name, body }, mergePatch);
    },
  };
}
