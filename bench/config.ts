/**
 * Config parsing bench: parseConfig (decode + schema + MetalLB semantics) on 1,000 pools and 100
 * peers (goal < 100 ms), against a same-run reference of plain js-yaml `load` plus `JSON.parse` of
 * the same document; and `metallb-ts validate` on every example as a whole process, against a bare
 * `node -e ""` start in the same run.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { parseConfig } from '../src/core/config/parse.js';
import { decodeRawConfig } from '../src/core/config/raw.js';
import type { BenchResult } from './types.js';

const POOLS = 1000;
const PEERS = 100;
const ROUNDS = 15;
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** 1,000 pools (CIDRs, ranges, IPv6, BGP with advertisements) and 100 peers with selectors. */
export function bigPayload(): string {
  const lines: string[] = ['bgp-communities:', '  no-export: 65535:65281', 'peers:'];
  for (let i = 0; i < PEERS; i++) {
    lines.push(
      `- my-asn: ${64500 + i}`, `  peer-asn: 64512`, `  peer-address: 192.0.2.${i + 1}`, `  hold-time: 90s`,
      `  node-selectors:`, `  - match-labels:`, `      kubernetes.io/hostname: node-${i}`,
    );
  }
  lines.push('address-pools:');
  for (let i = 0; i < POOLS; i++) {
    const a = Math.floor(i / 200);
    const b = i % 200;
    const kind = i % 4;
    lines.push(`- name: pool-${i}`, `  protocol: ${kind === 3 ? 'bgp' : 'layer2'}`, '  addresses:');
    if (kind === 0) lines.push(`  - 10.${a}.${b}.0/24`);
    else if (kind === 1) lines.push(`  - 10.${a}.${b}.10-10.${a}.${b}.200`);
    else if (kind === 2) lines.push(`  - 2001:db8:${i.toString(16)}::/64`);
    else lines.push(`  - 10.${a}.${b}.0/24`, '  bgp-advertisements:', '  - aggregation-length: 32', '    communities: [no-export, "64512:1"]');
  }
  return `${lines.join('\n')}\n`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** CPU time (user + system) of `fn`: fairer than wall time on the shared, loaded CI machine. */
function timeMs(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

function processMs(args: string[]): number {
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const start = performance.now();
    const result = spawnSync(process.execPath, args, { cwd: repoRoot, encoding: 'utf8' });
    times.push(performance.now() - start);
    if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return median(times);
}

export async function run(): Promise<BenchResult[]> {
  const text = bigPayload();
  const json = JSON.stringify(load(text));
  const parse: number[] = [];
  const decode: number[] = [];
  const reference: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    parse.push(timeMs(() => {
      const result = parseConfig(text);
      if (!result.ok || result.config.pools.length !== POOLS) throw new Error('bench payload does not parse');
    }));
    decode.push(timeMs(() => decodeRawConfig(text, { strict: true })));
    reference.push(timeMs(() => {
      load(text);
      JSON.parse(json);
    }));
  }
  const ref = { name: 'js-yaml load + JSON.parse of the same document', value: round2(median(reference)) };
  const main = join('dist', 'src', 'cli', 'main.js');
  const examples = readdirSync(join(repoRoot, 'examples')).filter((f) => f.endsWith('.yaml'));
  const validateRuns = examples.map((f) => processMs([main, 'validate', join('examples', f)]));
  const nodeStart = processMs(['-e', '']);
  return [
    {
      name: `parseConfig ${POOLS} pools + ${PEERS} peers (${text.split('\n').length} lines), median of ${ROUNDS}`,
      value: round2(median(parse)),
      unit: 'ms CPU',
      reference: ref,
      note: 'goal < 100 ms',
    },
    { name: 'of which decode + JSON Schema (decodeRawConfig)', value: round2(median(decode)), unit: 'ms CPU', reference: ref },
    {
      name: `metallb-ts validate, whole process, median over ${examples.length} examples × 5`,
      value: Math.round(median(validateRuns)),
      unit: 'ms wall per run',
      reference: { name: 'node -e "" start', value: Math.round(nodeStart) },
    },
  ];
}
