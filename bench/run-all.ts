/**
 * Runs every bench module in this folder (each exports `run(): Promise<BenchResult[]>`) and writes
 * one Markdown report, `bench/report.md`, with each figure, its same-run reference and their ratio.
 * Usage: `npm run bench` (all) or `npm run bench -- allocator config` (a subset by file name); issue 9's
 * layer-2 speaker figures: `npm run bench -- layer2 speaker lab-curl` (root; METALLB_TS_LAB_PREFIX and
 * METALLB_TS_LAB_DIR keep their namespaces apart from other runs). BENCH_REPORT=path writes the report there.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import os from 'node:os';
import type { BenchModule, BenchResult } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const NOT_BENCHES = new Set(['run-all.js', 'types.js']);

function ratioText(r: BenchResult): string {
  if (!r.reference || r.reference.value === 0) return '';
  return (r.value / r.reference.value).toFixed(3);
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  const files = readdirSync(here)
    .filter((f) => f.endsWith('.js') && !NOT_BENCHES.has(f) && !f.includes('-helper'))
    .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.js$/, '')))
    .sort();
  const rows: string[] = [];
  let failed = 0;
  for (const file of files) {
    const name = file.replace(/\.js$/, '');
    process.stdout.write(`bench ${name}…\n`);
    try {
      const mod = (await import(pathToFileURL(join(here, file)).href)) as BenchModule;
      for (const r of await mod.run()) {
        const ref = r.reference ? `${r.reference.name}: ${r.reference.value}` : '';
        rows.push(`| ${name} | ${r.name} | ${r.value} ${r.unit} | ${ref} | ${ratioText(r)} | ${r.note ?? ''} |`);
        console.log(`  ${r.name}: ${r.value} ${r.unit}${ref ? ` (ref ${ref}, ratio ${ratioText(r)})` : ''}`);
      }
    } catch (err) {
      failed++;
      rows.push(`| ${name} | FAILED | | | | ${String((err as Error).message).replace(/\|/g, '/')} |`);
      console.error(`  FAILED: ${(err as Error).stack ?? String(err)}`);
    }
  }
  const report = [
    `# metallb-ts bench report`,
    ``,
    `${new Date().toISOString()} · ${os.cpus().length} cores · ${Math.round(os.totalmem() / 2 ** 30)} GiB · Node ${process.version} · load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`,
    ``,
    `\`npm run bench${wanted.length ? ` -- ${wanted.join(' ')}` : ''}\``,
    ``,
    `| bench | figure | value | same-run reference | ratio | note |`,
    `|---|---|---|---|---|---|`,
    ...rows,
    ``,
  ].join('\n');
  const out = resolve(process.env['BENCH_REPORT'] ?? join(repoRoot, 'bench', 'report.md'));
  writeFileSync(out, report);
  console.log(`report written to ${out}`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
