/**
 * Enforces the dependency rule of docs/design/architecture.md by scanning import specifiers:
 * src/core/** is pure (no node I/O, timers, clock, cap or Kubernetes client), and only
 * composition roots (main.ts files, src/cli, src/lab, src/testing) may import src/adapters/**.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { repoRoot } from './conformance/vectors.js';

const srcDir = join(repoRoot, 'src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Import/export specifiers, static and dynamic. */
export function importsOf(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s+['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /^\s*import\s+['"]([^'"]+)['"]/gm];
  for (const re of patterns) for (const m of source.matchAll(re)) found.push(m[1]!);
  return found;
}

const FORBIDDEN_IN_CORE = /^(node:)?(fs|fs\/promises|net|dgram|http|https|http2|child_process|timers|timers\/promises|os|cluster|worker_threads|tls|dns)$|^cap$|^@kubernetes\/client-node/;
const FORBIDDEN_CALLS_IN_CORE = /\b(Date\.now|setTimeout|setInterval|setImmediate|process\.(env|exit|hrtime))\b/;

function isCompositionRoot(rel: string): boolean {
  const parts = rel.split(sep);
  return parts.at(-1) === 'main.ts' || ['cli', 'lab', 'testing'].includes(parts[1] ?? '');
}

test('src/core is pure: no I/O modules, timers or wall clock', () => {
  const offenders: string[] = [];
  for (const file of tsFiles(join(srcDir, 'core'))) {
    const source = readFileSync(file, 'utf8');
    for (const spec of importsOf(source)) if (FORBIDDEN_IN_CORE.test(spec)) offenders.push(`${relative(repoRoot, file)} imports ${spec}`);
    const code = source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    const call = FORBIDDEN_CALLS_IN_CORE.exec(code);
    if (call) offenders.push(`${relative(repoRoot, file)} uses ${call[1]}`);
  }
  assert.deepEqual(offenders, []);
});

test('only composition roots import src/adapters', () => {
  const offenders: string[] = [];
  for (const file of tsFiles(srcDir)) {
    const rel = relative(srcDir, file);
    if (rel.startsWith(`adapters${sep}`) || isCompositionRoot(`src${sep}${rel}`)) continue;
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (spec.includes('/adapters/')) offenders.push(`src/${rel} imports ${spec}`);
    }
  }
  assert.deepEqual(offenders, []);
});

test('the scanner sees static, dynamic and side-effect imports', () => {
  const sample = `import a from 'node:fs';\nconst k = await import('@kubernetes/client-node');\nimport './x.js';\nexport { y } from "../adapters/k8s/z.js";`;
  assert.deepEqual(importsOf(sample).sort(), ['../adapters/k8s/z.js', './x.js', '@kubernetes/client-node', 'node:fs'].sort());
});
