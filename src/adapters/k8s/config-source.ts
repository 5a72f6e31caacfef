/**
 * The ConfigMap side of fail-static (docs/design/fail-static.md), shared by controller and speaker: informers on
 * the user's config ConfigMap (`--config`, default `config`) and on the last-applied store
 * `<config>-last-applied` in the MetalLB namespace, plus the store writer (controller only).
 *
 * RBAC: reading needs only `get, list, watch` on configmaps in the namespace (the `config-watcher` Role both
 * components already have). Writing the store needs `update` on configmaps named `<config>-last-applied` (the
 * controller's Role); the store object ships in manifests/metallb.yaml, so no `create` is granted.
 *
 * Store format: `data.config` = the applied `data.config` text (absent when the applied ConfigMap had none) and
 * `data.source` = `<namespace>/<name>@<resourceVersion>` of the ConfigMap it came from. A store without
 * `data.source` has never been written (the empty object from the manifest).
 */
import { configMapInput, storedConfigOf, type ConfigMapInput, type ConfigMapObject, type StoredConfig } from '../../core/config/fail-static.js';

export { configMapInput, sourceOf, storedConfigOf, type ConfigMapObject, type StoredConfig } from '../../core/config/fail-static.js';
import type { Logger } from '../../core/ports.js';
import type { Clock } from '../clock.js';
import type { KubeClients } from './client.js';
import { describeApiError, httpStatusOf } from './client.js';
import { ResilientInformer, type ListWatchLike } from './informer.js';
import { configMapListWatch } from './list-watches.js';

export const LAST_APPLIED_SUFFIX = '-last-applied';

/** The store's name for config ConfigMap `configName` ("config" → "config-last-applied"). */
export function lastAppliedName(configName: string): string {
  return `${configName}${LAST_APPLIED_SUFFIX}`;
}

/** The two ListWatches a ConfigSource needs: the config ConfigMap and the store, each by name (field selector). */
export function configSourceListWatches(clients: KubeClients, namespace: string, configName: string): {
  readonly config: ListWatchLike<ConfigMapObject>; readonly store: ListWatchLike<ConfigMapObject>;
} {
  return { config: configMapListWatch(clients, namespace, configName), store: configMapListWatch(clients, namespace, lastAppliedName(configName)) };
}

export interface ConfigSourceOptions {
  /** From configSourceListWatches() (a fake in tests). */
  readonly listWatches: { readonly config: ListWatchLike<ConfigMapObject>; readonly store: ListWatchLike<ConfigMapObject> };
  readonly namespace: string;
  /** `--config`. */
  readonly configName: string;
  /** Called on any add/update/delete of the config ConfigMap or the store. */
  readonly onChange: (which: 'config' | 'store') => void;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * The informer over the namespace's ConfigMaps, exposing the config ConfigMap and the store.
 * Typical use (speaker): `start()`, await `whenSynced()` and the Service informer's sync, then on every
 * onChange / Service status change call `FailStaticConfig.decide(source.configMapInput(), source.stored(), held)`
 * from src/core/config/fail-static.ts.
 */
export class ConfigSource {
  private readonly config: ResilientInformer<ConfigMapObject>;
  private readonly store: ResilientInformer<ConfigMapObject>;
  private readonly namespace: string;
  readonly configName: string;
  readonly storeName: string;

  constructor(opts: ConfigSourceOptions) {
    this.namespace = opts.namespace;
    this.configName = opts.configName;
    this.storeName = lastAppliedName(opts.configName);
    const common = { clock: opts.clock, logger: opts.logger };
    this.config = new ResilientInformer<ConfigMapObject>({ ...common, name: 'configmap', listWatch: opts.listWatches.config, onChange: () => opts.onChange('config') });
    this.store = new ResilientInformer<ConfigMapObject>({ ...common, name: 'last-applied', listWatch: opts.listWatches.store, onChange: () => opts.onChange('store') });
  }

  start(): void { this.config.start(); this.store.start(); }
  async whenSynced(): Promise<void> { await Promise.all([this.config.whenSynced(), this.store.whenSynced()]); }
  async stop(): Promise<void> { await Promise.all([this.config.stop(), this.store.stop()]); }

  /** The config ConfigMap as cached, undefined when absent. */
  configMap(): ConfigMapObject | undefined {
    return this.config.get(this.configName, this.namespace);
  }

  /** The config ConfigMap as fail-static input. */
  configMapInput(): ConfigMapInput {
    return configMapInput(this.configMap());
  }

  /** The store's content, undefined when absent or never written. */
  stored(): StoredConfig | undefined {
    return storedConfigOf(this.store.get(this.storeName, this.namespace));
  }
}

export type StoreWriteResult = { readonly ok: true } | { readonly ok: false; readonly status: number | undefined; readonly error: string };

/** Writes the store (controller only): a GET then PUT of the object shipped in manifests/metallb.yaml (no create). */
export type LastAppliedWriter = (content: StoredConfig) => Promise<StoreWriteResult>;

export function createLastAppliedWriter(clients: KubeClients, namespace: string, configName: string): LastAppliedWriter {
  const name = lastAppliedName(configName);
  return async (content) => {
    const data: Record<string, string> = { source: content.source };
    if (content.text !== undefined) data['config'] = content.text;
    try {
      // Read-modify-write: keeps labels and kubectl's last-applied annotation (so re-applying the manifest stays
      // quiet and leaves data alone), and the resourceVersion makes a concurrent writer a 409, retried by the caller.
      const current = await clients.core.readNamespacedConfigMap({ name, namespace });
      await clients.core.replaceNamespacedConfigMap({ name, namespace, body: { ...current, data } });
      return { ok: true };
    } catch (err) {
      const status = httpStatusOf(err);
      const hint = status === 404 ? ` (ConfigMap ${namespace}/${name} is missing: apply manifests/metallb.yaml)` : '';
      return { ok: false, status, error: describeApiError(err) + hint };
    }
  };
}
