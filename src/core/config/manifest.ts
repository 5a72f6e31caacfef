/**
 * Extracts the config payload from a ConfigMap manifest (`data.config`, the only key MetalLB
 * reads) together with its TextOrigin, so payload errors point at lines of the manifest file.
 * A ConfigMap without `data.config` is a valid empty config, as in MetalLB.
 */
import { loadYaml } from '../yaml/load.js';
import { type MapNode, type ScalarNode, type YamlNode, LineIndex, deref } from '../yaml/nodes.js';
import { FILE_ORIGIN, type TextOrigin } from './source.js';
import type { ConfigError } from './types.js';

export interface ConfigPayload {
  /** The YAML payload (`""` when the ConfigMap has no `data.config`). */
  readonly text: string;
  readonly origin: TextOrigin;
  /** `metadata.name` / `metadata.namespace` of the ConfigMap, when the input was one. */
  readonly name?: string;
  readonly namespace?: string;
}

export type PayloadResult =
  | { readonly ok: true; readonly payload: ConfigPayload }
  | { readonly ok: false; readonly errors: readonly ConfigError[] };

function lookup(node: YamlNode | undefined, key: string): YamlNode | undefined {
  const map = node ? deref(node) : undefined;
  if (map?.kind !== 'map') return undefined;
  const entry = (map as MapNode).entries.find((e) => { const k = deref(e.key); return k.kind === 'scalar' && k.value === key; });
  return entry?.value;
}

function scalarText(node: YamlNode | undefined): string | undefined {
  const target = node ? deref(node) : undefined;
  return target?.kind === 'scalar' ? target.value : undefined;
}

/** True when the document's root mapping says `kind: ConfigMap`. */
function isConfigMap(root: YamlNode | undefined): boolean {
  return scalarText(lookup(root, 'kind')) === 'ConfigMap';
}

/** The ConfigMap named `config`, else the first ConfigMap, among the documents. */
function pickConfigMap(documents: readonly (YamlNode | undefined)[]): YamlNode | undefined {
  const configMaps = documents.filter(isConfigMap);
  return configMaps.find((d) => scalarText(lookup(lookup(d, 'metadata'), 'name')) === 'config') ?? configMaps[0];
}

/** Origin of a `data.config` scalar: line-exact for literal blocks (`|`), its start otherwise. */
function originOf(text: string, node: ScalarNode, index: LineIndex): TextOrigin {
  const start = index.at(node.start);
  if (text[node.start] !== '|') return { kind: 'fixed', position: start };
  const lines = text.slice(node.start).split('\n').slice(1);
  const firstContent = lines.find((l) => l.trim() !== '');
  const indent = firstContent ? firstContent.length - firstContent.trimStart().length : 0;
  return { kind: 'block', firstLine: start.line + 1, indent };
}

/**
 * Parses a ConfigMap manifest and returns its `data.config` payload. In a `---`-separated stream
 * the ConfigMap named `config` is used (else the first ConfigMap). Errors when the text is not
 * YAML, holds no ConfigMap, or `data`/`data.config` have the wrong type.
 */
export function parseConfigMapManifest(text: string): PayloadResult {
  const loaded = loadYaml(text);
  const index = new LineIndex(text);
  const fail = (message: string, node: YamlNode | undefined, kind = 'manifest'): PayloadResult => ({
    ok: false,
    errors: [{ kind, message, path: '', ...(node ? { position: index.at(node.start) } : {}) }],
  });
  if (!loaded.ok) {
    return { ok: false, errors: [{ kind: loaded.error.kind, message: loaded.error.message, path: '', position: index.at(loaded.error.offset) }] };
  }
  const root = pickConfigMap(loaded.documents);
  if (!root) return fail('not a ConfigMap manifest (kind: ConfigMap)', loaded.root);
  const metadata = lookup(root, 'metadata');
  const name = scalarText(lookup(metadata, 'name'));
  const namespace = scalarText(lookup(metadata, 'namespace'));
  const named = { ...(name !== undefined ? { name } : {}), ...(namespace !== undefined ? { namespace } : {}) };
  const data = lookup(root, 'data');
  if (data && !['map', 'null'].includes(deref(data).kind)) return fail('ConfigMap data must be a mapping', data);
  const config = lookup(data, 'config');
  if (config === undefined || deref(config).kind === 'null') {
    return { ok: true, payload: { text: '', origin: FILE_ORIGIN, ...named } };
  }
  const target = deref(config);
  if (target.kind !== 'scalar') return fail('ConfigMap data.config must be a string', config);
  return { ok: true, payload: { text: target.value, origin: originOf(text, target, index), ...named } };
}

/**
 * Reads what `metallb-ts validate` accepts: a ConfigMap manifest (its `data.config`) or a bare
 * payload (the whole text).
 */
export function readConfigSource(text: string): PayloadResult {
  const loaded = loadYaml(text);
  if (loaded.ok && pickConfigMap(loaded.documents)) return parseConfigMapManifest(text);
  return { ok: true, payload: { text, origin: FILE_ORIGIN } };
}
