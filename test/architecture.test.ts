/**
 * Enforces the dependency rule of docs/design/architecture.md by scanning import specifiers:
 * src/core/** is pure (no node I/O, timers, clock, cap or Kubernetes client), and only
 * composition roots (main.ts files, src/cli, src/lab, src/testing) may import src/adapters/**.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
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

/** Repo-relative paths (posix, `.ts`) of the relative imports of every .ts file under `dir`. */
function relativeImports(dir: string): Array<{ from: string; to: string }> {
  const edges: Array<{ from: string; to: string }> = [];
  for (const file of tsFiles(dir)) {
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const to = relative(repoRoot, resolve(dirname(file), spec)).split(sep).join('/').replace(/\.js$/, '.ts');
      edges.push({ from: relative(repoRoot, file).split(sep).join('/'), to });
    }
  }
  return edges;
}

/** Import edges matching `forbidden(from, to)`, worded for the assertion message. */
function offendingEdges(dir: string, forbidden: (from: string, to: string) => boolean): string[] {
  return relativeImports(dir).filter((e) => forbidden(e.from, e.to)).map((e) => `${e.from} imports ${e.to}`);
}

const componentOf = (path: string): string | undefined => /^src\/(controller|speaker|cli)\//.exec(path)?.[1];

test('controller and speaker never import each other or src/cli', () => {
  const offenders = offendingEdges(srcDir, (from, to) => {
    const a = componentOf(from);
    const b = componentOf(to);
    return (a === 'controller' || a === 'speaker') && b !== undefined && b !== a;
  });
  assert.deepEqual(offenders, []);
});

test('only src/cli imports a component main.ts', () => {
  const offenders = offendingEdges(srcDir, (from, to) => /^src\/[^/]+\/main\.ts$/.test(to) && !from.startsWith('src/cli/'));
  assert.deepEqual(offenders, []);
});

test('src/core imports nothing from controller, speaker or cli', () => {
  assert.deepEqual(offendingEdges(join(srcDir, 'core'), (_from, to) => componentOf(to) !== undefined), []);
});

test('bench imports nothing from test/', () => {
  assert.deepEqual(offendingEdges(join(repoRoot, 'bench'), (_from, to) => to.startsWith('test/')), []);
});

test('the edge scanner resolves relative imports to repo paths', () => {
  const edges = relativeImports(join(srcDir, 'controller'));
  assert.ok(edges.some((e) => e.from === 'src/controller/main.ts' && e.to === 'src/controller/reconciler.ts'), JSON.stringify(edges.slice(0, 3)));
});

test('the scanner sees static, dynamic and side-effect imports', () => {
  const sample = `import a from 'node:fs';\nconst k = await import('@kubernetes/client-node');\nimport './x.js';\nexport { y } from "../adapters/k8s/z.js";`;
  assert.deepEqual(importsOf(sample).sort(), ['../adapters/k8s/z.js', './x.js', '@kubernetes/client-node', 'node:fs'].sort());
});
