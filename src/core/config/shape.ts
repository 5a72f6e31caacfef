/**
 * Shape validation with the JSON Schema (schema.ts) compiled by ajv, every error reported, each
 * turned into a ConfigError worded like yaml.v2's decode errors (`field x not found in type
 * config.peer`, ``cannot unmarshal !!str `90` into uint32``) and pointing at its YAML node.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { CONFIG_SCHEMA } from './schema.js';
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

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
    ajv.addKeyword({ keyword: 'x-go-type', schemaType: 'string' });
    compiled = ajv.compile(CONFIG_SCHEMA);
  }
  return compiled;
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
  const goType = (error.parentSchema as { 'x-go-type'?: string } | undefined)?.['x-go-type'] ?? 'value';
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
  const validate = validator();
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => describe(e, root, strict));
}
