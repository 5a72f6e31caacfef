/**
 * Loads MetalLB's conformance vectors (../shared/spec/conformance/metallb-vectors.json) and the
 * project's machine-readable list of deliberate deviations (deviations.json beside this file's
 * source). `runVectorSuite` enforces the contract every vector suite shares: an unlisted mismatch
 * fails, a listed vector that now matches fails (stale entry), and the run prints
 * "N vectors, M deviations" for its section.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root, whether running from test/ sources or dist/test. */
export const repoRoot = [resolve(here, '..', '..'), resolve(here, '..', '..', '..')].find((dir) =>
  existsSync(join(dir, 'package.json')),
)!;

/** Path of the shared vectors; override with METALLB_TS_VECTORS. */
export const vectorsPath =
  process.env['METALLB_TS_VECTORS'] ?? resolve(repoRoot, '..', 'shared', 'spec', 'conformance', 'metallb-vectors.json');

/** The whole vectors document (untyped: each suite narrows what it reads). */
export function loadVectors(): Record<string, unknown> {
  if (!existsSync(vectorsPath)) {
    throw new Error(`conformance vectors not found at ${vectorsPath} (shared/ must sit beside the repo)`);
  }
  return JSON.parse(readFileSync(vectorsPath, 'utf8')) as Record<string, unknown>;
}

/** One deliberate deviation from MetalLB, explained for users in docs/compatibility.md. */
export interface Deviation {
  readonly section: string;
  readonly id: string;
  readonly reason: string;
}

/** All deviations, from test/conformance/deviations.json. */
export function loadDeviations(): Deviation[] {
  const file = join(repoRoot, 'test', 'conformance', 'deviations.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { deviations: Deviation[] };
  return doc.deviations;
}

/** Outcome of checking one vector: matched, or a mismatch with a human-readable difference. */
export type VectorOutcome = { readonly match: true } | { readonly match: false; readonly diff: string };

/**
 * Checks every vector of `section` (ids from `idOf`) with `check`, then asserts the deviation
 * contract. Returns the counts so the caller can print or assert more.
 */
export function runVectorSuite<V>(
  section: string,
  vectors: readonly V[],
  idOf: (v: V) => string,
  check: (v: V) => VectorOutcome,
): { vectors: number; deviations: number } {
  const listed = new Map(loadDeviations().filter((d) => d.section === section).map((d) => [d.id, d]));
  const unlisted: string[] = [];
  const stale: string[] = [];
  const seen = new Set<string>();
  for (const vector of vectors) {
    const id = idOf(vector);
    seen.add(id);
    let outcome: VectorOutcome;
    try {
      outcome = check(vector);
    } catch (err) {
      outcome = { match: false, diff: `threw: ${(err as Error).stack ?? String(err)}` };
    }
    if (outcome.match && listed.has(id)) stale.push(id);
    if (!outcome.match && !listed.has(id)) unlisted.push(`${id}: ${outcome.diff}`);
  }
  const unknown = [...listed.keys()].filter((id) => !seen.has(id));
  console.log(`${section}: ${vectors.length} vectors, ${listed.size} deviations`);
  assert.deepEqual(unlisted, [], `unlisted mismatches in ${section}`);
  assert.deepEqual(stale, [], `stale deviation entries in ${section} (the vector now matches)`);
  assert.deepEqual(unknown, [], `deviation entries in ${section} name no vector`);
  return { vectors: vectors.length, deviations: listed.size };
}
