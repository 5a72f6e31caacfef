/** The ahead-of-time ajv validator is current with the schema, and behaves like a fresh ajv compile. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { generateShapeValidatorSource } from '../../../src/core/config/shape-codegen.js';
import { CONFIG_SCHEMA } from '../../../src/core/config/schema.js';
import { validate as generated } from '../../../src/core/config/shape-validator.generated.js';
import { repoRoot } from '../../conformance/vectors.js';

test('shape-validator.generated.ts is what shape-codegen.ts generates from the schema', () => {
  const file = readFileSync(join(repoRoot, 'src', 'core', 'config', 'shape-validator.generated.ts'), 'utf8');
  assert.equal(file, generateShapeValidatorSource(), 'stale: regenerate as described in src/core/config/shape-codegen.ts');
});

test('the generated validator agrees with ajv compiling the schema now', () => {
  const ajv = new Ajv({ allErrors: true, strict: true });
  ajv.addKeyword({ keyword: 'x-go-type', schemaType: 'string' });
  const fresh = ajv.compile(CONFIG_SCHEMA);
  const validate = generated as unknown as typeof fresh;
  const documents: unknown[] = [
    {},
    { peers: [{ 'my-asn': 1, 'peer-asn': 2, 'peer-address': '1.2.3.4', 'node-selectors': [{ 'match-labels': { a: 'b' } }] }] },
    { peers: [{ 'my-asn': '1', bogus: 1 }], 'address-pools': 'x' },
    { 'address-pools': [{ name: 'p', addresses: ['1.2.3.0/24', 5], 'bgp-advertisements': [{ localpref: 4294967296 }] }] },
    { 'bfd-profiles': [{ name: 'b', 'echo-mode': 'yes' }], 'bgp-communities': { a: 1 } },
    'a string',
  ];
  for (const doc of documents) {
    const want = fresh(doc);
    assert.equal(validate(doc), want, JSON.stringify(doc));
    const summary = (errors: typeof fresh.errors) => (errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`).sort();
    assert.deepEqual(summary(validate.errors), summary(fresh.errors), JSON.stringify(doc));
  }
});
