/**
 * Small port types shared by the pure core and the adapters. Core code talks to the outside world
 * only through these (and returns values); adapters implement them.
 */

/**
 * Result of processing one work-queue key, MetalLB's tri-state:
 * `success` = forget the key; `error` = retry it with per-key backoff;
 * `reprocessAll` = forget it and re-queue every known Service key.
 */
export type SyncState = 'success' | 'error' | 'reprocessAll';

/**
 * Fields of one structured log line, MetalLB's vocabulary: `event` for something that happened,
 * `op` + `error` for a failed operation, `msg` always; anything else is context.
 */
export type LogFields = {
  readonly msg?: string;
  readonly op?: string;
  readonly event?: string;
  readonly error?: string;
  readonly [k: string]: unknown;
};

/** A structured logger; `child` adds bindings (service, ip, pool…) to every line it writes. */
export interface Logger {
  debug(f: LogFields): void;
  info(f: LogFields): void;
  warn(f: LogFields): void;
  error(f: LogFields): void;
  child(bindings: LogFields): Logger;
}

/** A Kubernetes Event to record against the Service being processed (component `metallb-controller`). */
/** The object a Kubernetes Event is recorded against (Service, ConfigMap, Node…). */
export interface EventTarget {
  readonly kind: string;
  readonly apiVersion: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string | undefined;
  readonly resourceVersion?: string | undefined;
  /**
   * A cluster-scoped object (a Node): the Event lives in `namespace` ("default", where kubelets put theirs) and its
   * involvedObject has no namespace, as `kubectl describe node` searches.
   */
  readonly clusterScoped?: boolean | undefined;
}

export interface ServiceEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/** A Logger that drops everything (tests, tools). */
export const NOOP_LOGGER: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return NOOP_LOGGER;
  },
};
