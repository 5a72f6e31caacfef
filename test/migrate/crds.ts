/**
 * Test helpers for the real apiserver: install MetalLB's CRDs (shared/metallb-crds, v0.16.1; idempotent,
 * left installed for others) and reduce a read-back object to what the migration wrote, dropping
 * server-set fields and exactly the defaults the CRD schemas declare.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import type { TestCluster } from '../../src/testing/cluster/test-cluster.js';

/** `<repoRoot>/../shared/metallb-crds` (tests run from dist/test/migrate). */
export const crdDir = join(fileURLToPath(new URL('.', import.meta.url)), '../../../../shared/metallb-crds');

interface CrdDoc {
  spec: {
    names: { kind: string };
    versions: { name: string; schema: { openAPIV3Schema: { properties: { spec?: { properties?: Record<string, { default?: unknown }> } } } } }[];
  };
}

/** kind → top-level spec field → the default the CRD (served storage version) declares. */
export function crdSpecDefaults(): Map<string, Map<string, unknown>> {
  const defaults = new Map<string, Map<string, unknown>>();
  for (const file of readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))) {
    const crd = load(readFileSync(join(crdDir, file), 'utf8')) as CrdDoc;
    const fields = new Map<string, unknown>();
    for (const version of crd.spec.versions) {
      for (const [field, schema] of Object.entries(version.schema.openAPIV3Schema.properties.spec?.properties ?? {})) {
        if (schema.default !== undefined) fields.set(field, schema.default);
      }
    }
    defaults.set(crd.spec.names.kind, fields);
  }
  return defaults;
}

/** Applies the CRDs and waits until they are served. */
export async function installCrds(cluster: TestCluster): Promise<void> {
  await cluster.kubectl(['apply', '-f', crdDir]);
  await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', crdDir]);
}

type Json = Record<string, unknown>;

/**
 * The read-back object reduced to the fields the migration controls: metadata name/namespace, no
 * status, and CRD defaults removed where the written object did not set them.
 */
export function withoutServerFields(readBack: Json, written: Json, defaults: Map<string, Map<string, unknown>>): Json {
  const { metadata, status: _status, ...rest } = readBack;
  const meta = metadata as Json;
  const reduced: Json = { ...rest, metadata: { name: meta['name'], namespace: meta['namespace'] } };
  const spec = reduced['spec'] as Json | undefined;
  const writtenSpec = (written['spec'] ?? {}) as Json;
  const kindDefaults = defaults.get(String(readBack['kind'])) ?? new Map<string, unknown>();
  if (spec) {
    const kept: Json = {};
    for (const [field, value] of Object.entries(spec)) {
      const isDefault = kindDefaults.has(field) && JSON.stringify(kindDefaults.get(field)) === JSON.stringify(value);
      if (!(field in writtenSpec) && isDefault) continue;
      kept[field] = value;
    }
    reduced['spec'] = kept;
  }
  return reduced;
}
