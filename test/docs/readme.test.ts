/**
 * The README's command examples run verbatim. Every ```sh block is executed with bash from the repo
 * root, `metallb-ts` and the test cluster's `kubectl` on PATH and KUBECONFIG pointing at the shared test
 * cluster. A comment line before a block changes that:
 *   <!-- doctest: skip: REASON -->   not run (machine setup, the lab, the test command itself)
 *   <!-- doctest: exit N -->         the block must exit with N (default 0)
 * Blocks run in README order, so later examples may rely on earlier ones (apply, then get).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../conformance/vectors.js';
import { getTestCluster } from '../../src/testing/cluster/test-cluster.js';

export interface DocBlock {
  readonly line: number;
  readonly code: string;
  readonly skip?: string;
  readonly exit: number;
}

/** Extracts the ```sh blocks of a Markdown text with their doctest directives. */
export function shellBlocks(markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```sh') continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== '```'; i++) body.push(lines[i]!);
    const before = start > 0 ? lines[start - 1]!.trim() : '';
    const directive = /^<!-- doctest: .* -->$/.test(before) ? before : '';
    const skip = /^<!-- doctest: skip: (.+) -->$/.exec(directive)?.[1];
    const exit = Number(/^<!-- doctest: exit (\d+) -->$/.exec(directive)?.[1] ?? 0);
    blocks.push({ line: start + 1, code: body.join('\n'), exit, ...(skip ? { skip } : {}) });
  }
  return blocks;
}

test('shellBlocks reads blocks and directives', () => {
  const md = ['x', '<!-- doctest: skip: needs root -->', '```sh', 'a', '```', '', '<!-- doctest: exit 1 -->', '```sh', 'b', 'c', '```', '```sh', 'd', '```'].join('\n');
  assert.deepEqual(shellBlocks(md), [
    { line: 3, code: 'a', exit: 0, skip: 'needs root' },
    { line: 8, code: 'b\nc', exit: 1 },
    { line: 12, code: 'd', exit: 0 },
  ]);
});

test('every README command example runs as documented', async () => {
  const blocks = shellBlocks(readFileSync(join(repoRoot, 'README.md'), 'utf8'));
  const runnable = blocks.filter((b) => !b.skip);
  assert.ok(runnable.length >= 4, `expected at least 4 runnable README examples, found ${runnable.length}`);
  const cluster = await getTestCluster();
  const bin = mkdtempSync(join(tmpdir(), 'mlts-doctest-'));
  const shim = join(bin, 'metallb-ts');
  writeFileSync(shim, `#!/bin/sh\nexec node ${JSON.stringify(join(repoRoot, 'dist', 'src', 'cli', 'main.js'))} "$@"\n`);
  chmodSync(shim, 0o755);
  symlinkSync(cluster.kubectlPath, join(bin, 'kubectl'));
  const env = { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, KUBECONFIG: cluster.adminKubeconfig };
  for (const block of runnable) {
    const result = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', block.code], { cwd: repoRoot, env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(
      result.status,
      block.exit,
      `README.md:${block.line} exited ${result.status}, want ${block.exit}\n$ ${block.code}\n${result.stdout}\n${result.stderr}`,
    );
  }
});
