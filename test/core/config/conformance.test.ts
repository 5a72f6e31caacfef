/**
 * Every `config_parse` and `config_parse_derived` vector against parseConfig, compared with the
 * v0.12.1 expectation (our chosen version): verdict, parsed values, and for failures the error's
 * kind, offending value and peer/pool number — never the raw text. `config_validate` vectors are
 * MetalLB v0.12's mode-specific validators, which metallb-ts deliberately does not apply: each
 * must be accepted by us, and the ones upstream rejects are listed deviations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadVectors, runVectorSuite, type VectorOutcome } from '../../conformance/vectors.js';
import { parseConfig } from '../../../src/core/config/parse.js';
import { classifyExpected, vectorForm } from './vector-form.js';

interface ParseVector {
  readonly id: string;
  readonly yaml: string;
  readonly expect: Readonly<Record<string, { ok: boolean; config?: unknown; error?: string; error_prefix?: string }>>;
}

const CHOSEN = 'v0.12.1';

function checkParseVector(v: ParseVector): VectorOutcome {
  const want = v.expect[CHOSEN];
  if (!want) return { match: false, diff: `no ${CHOSEN} expectation` };
  const got = parseConfig(v.yaml);
  if (want.ok) {
    if (!got.ok) return { match: false, diff: `want ok, got errors ${JSON.stringify(got.errors)}` };
    try {
      assert.deepStrictEqual(vectorForm(got.config), want.config);
      return { match: true };
    } catch (err) {
      return { match: false, diff: (err as Error).message };
    }
  }
  if (got.ok) return { match: false, diff: `want error ${want.error ?? want.error_prefix}, got ok` };
  const expected = classifyExpected(want.error ?? want.error_prefix ?? '');
  if (!expected) return { match: false, diff: `test cannot classify ${want.error ?? want.error_prefix}` };
  const first = got.errors[0]!;
  const problems: string[] = [];
  if (!expected.kinds.has(first.kind)) problems.push(`kind ${first.kind} not in ${[...expected.kinds].join('|')}`);
  if (expected.value !== undefined && first.value !== expected.value) problems.push(`value ${first.value} != ${expected.value}`);
  if (expected.pathPrefix !== undefined && !`${first.path}/`.startsWith(`${expected.pathPrefix}/`)) {
    problems.push(`path ${first.path} not under ${expected.pathPrefix}`);
  }
  if (!first.position) problems.push('error has no position');
  return problems.length === 0 ? { match: true } : { match: false, diff: `${problems.join('; ')} (${first.message})` };
}

for (const section of ['config_parse', 'config_parse_derived']) {
  test(`${section} vectors (${CHOSEN})`, () => {
    const vectors = loadVectors()[section] as ParseVector[];
    assert.ok(vectors.length > 0);
    const counts = runVectorSuite(section, vectors, (v) => v.id, checkParseVector);
    assert.equal(counts.vectors, vectors.length);
  });
}

interface ValidateVector {
  readonly id: string;
  readonly validator: string;
  readonly expect: { readonly ok: boolean; readonly error?: string };
}

test('config_validate vectors: MetalLB v0.12 mode-specific validators are not applied', () => {
  const vectors = loadVectors()['config_validate'] as ValidateVector[];
  assert.ok(vectors.length > 0);
  for (const v of vectors) assert.ok(['DiscardFRROnly', 'DiscardNativeOnly'].includes(v.validator), v.id);
  // Our verdict for every one of them is "accepted": there is no native-only or FRR-only stage.
  runVectorSuite('config_validate', vectors, (v) => v.id, (v) =>
    v.expect.ok ? { match: true } : { match: false, diff: `upstream ${v.validator} rejects: ${v.expect.error ?? ''}` },
  );
});
