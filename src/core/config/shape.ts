/**
 * Shape validation with the JSON Schema (schema.ts) compiled by ajv, every error reported, each
 * turned into a ConfigError worded like yaml.v2's decode errors (`field x not found in type
 * config.peer`, ``cannot unmarshal !!str `90` into uint32``) and pointing at its YAML node.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { CONFIG_SCHEMA, type SchemaNode, resolveRef } from './schema.js';
import { validate as generatedValidate } from './shape-validator.generated.js';
import { findNode, pointerSegment } from './decode.js';
import { type YamlNode, deref } from '../yaml/nodes.js';
import { resolveScalar } from '../yaml/resolve.js';

/** A shape error before positions are attached. */
export interface ShapeIssue {
  readonly kind: 'unknown-key' | 'type-mismatch' | 'schema';
  readonly message: string;
  readonly value: string;
  readonly path: string;
  readonly node: YamlNode | undefined;
}

/** The schema compiled ahead of time by ajv (shape-codegen.ts). */
const validator = generatedValidate as unknown as ValidateFunction;

/** The `x-go-type` of the schema node describing the value at a JSON pointer of the document. */
function goTypeAt(instancePath: string): string {
  let node: SchemaNode | undefined = CONFIG_SCHEMA as unknown as SchemaNode;
  for (const raw of instancePath.split('/').slice(1)) {
    if (!node) break;
    const schema: SchemaNode = resolveRef(node);
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (schema.properties && Object.hasOwn(schema.properties, segment)) node = schema.properties[segment];
    else if (typeof schema.additionalProperties === 'object') node = schema.additionalProperties;
    else node = schema.items;
  }
  return (node ? resolveRef(node) : undefined)?.['x-go-type'] ?? 'value';
}

/** yaml.v2's short tag of a node (`!!str`, `!!int`, `!!map`…). */
export function yamlTagOf(node: YamlNode): string {
  const target = deref(node);
  if (target.kind === 'map') return '!!map';
  if (target.kind === 'seq') return '!!seq';
  if (target.kind === 'null') return '!!null';
  return resolveScalar(target).tag;
}

function describe(error: ErrorObject, root: YamlNode | undefined, strict: boolean): ShapeIssue {
  const goType = goTypeAt(error.instancePath);
  if (error.keyword === 'additionalProperties') {
    const key = String((error.params as { additionalProperty: string }).additionalProperty);
    const path = `${error.instancePath}/${pointerSegment(key)}`;
    return { kind: 'unknown-key', message: `field ${key} not found in type ${goType}`, value: key, path, node: findNode(root, path, strict)?.key };
  }
  const node = findNode(root, error.instancePath, strict)?.value;
  if (node && ['type', 'minimum', 'maximum'].includes(error.keyword)) {
    const target = deref(node);
    const text = target.kind === 'scalar' ? target.value : '';
    const shown = target.kind === 'scalar' ? ` \`${text}\`` : '';
    const message = `cannot unmarshal ${yamlTagOf(node)}${shown} into ${goType}`;
    return { kind: 'type-mismatch', message, value: text, path: error.instancePath, node };
  }
  const where = error.instancePath === '' ? 'config' : error.instancePath;
  return { kind: 'schema', message: `${where}: ${error.message ?? 'invalid'}`, value: '', path: error.instancePath, node };
}

/** Validates a decoded document; [] when its shape is valid. */
export function checkShape(value: unknown, root: YamlNode | undefined, strict: boolean): ShapeIssue[] {
  if (validator(value)) return [];
  return (validator.errors ?? []).map((e) => describe(e, root, strict));
}
