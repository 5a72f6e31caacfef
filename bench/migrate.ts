/**
 * `migrate` on a large ConfigMap payload (1,000 pools, half layer 2, half BGP with two advertisements
 * each; 100 peers; 10 community aliases): CPU time of the whole pipeline (decode, MetalLB's validation,
 * conversion, YAML) against `parseConfig` of the same payload in the same run — the ratio is what the
 * conversion and the YAML writer add to validation. Process CPU time (user + system, GC included).
 */
import { parseConfig } from '../src/core/config/parse.js';
import { migrate } from '../src/core/migrate/migrate.js';
import { validateLegacy } from '../src/core/migrate/validator.js';
import type { BenchResult } from './types.js';

const POOLS = 1_000;
const PEERS = 100;
const ROUNDS = 5;

function payload(): string {
  const lines = ['bgp-communities:'];
  for (let i = 0; i < 10; i++) lines.push(`  alias-${i}: 64512:${i}`);
  lines.push('peers:');
  for (let i = 0; i < PEERS; i++) {
    lines.push(`- my-asn: 64512`, `  peer-asn: ${64600 + i}`, `  peer-address: 10.255.${i >> 8}.${i & 255}`, '  hold-time: 120s', '  password: secret');
  }
  lines.push('address-pools:');
  for (let i = 0; i < POOLS; i++) {
    const net = `10.${i >> 8}.${i & 255}`;
    if (i % 2 === 0) {
      lines.push(`- name: Pool_${i}`, '  protocol: layer2', '  addresses:', `  - ${net}.0/25`, `  - ${net}.200-${net}.250`);
    } else {
      lines.push(`- name: pool-${i}`, '  protocol: bgp', '  auto-assign: false', '  addresses:', `  - ${net}.0/24`, '  bgp-advertisements:');
      lines.push('  - aggregation-length: 32', `    localpref: ${i}`, '    communities: [alias-1, "65000:1"]', '  - aggregation-length: 24');
    }
  }
  return `${lines.join('\n')}\n`;
}

function cpuMs(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

export async function run(): Promise<BenchResult[]> {
  const text = payload();
  const migrateMs: number[] = [];
  const parseMs: number[] = [];
  let objects = 0;
  for (let r = 0; r < ROUNDS; r++) {
    parseMs.push(cpuMs(() => {
      if (!parseConfig(text).ok) throw new Error('bench payload does not parse');
    }));
    migrateMs.push(cpuMs(() => {
      const outcome = migrate({ text, onlyData: true, passwordSecrets: false }, validateLegacy);
      if (!outcome.ok) throw new Error(`bench payload does not migrate: ${JSON.stringify(outcome.errors[0])}`);
      objects = outcome.objects.length;
    }));
  }
  return [
    {
      name: `migrate ${POOLS} pools + ${PEERS} peers (${objects} objects), median of ${ROUNDS}`,
      value: Math.round(median(migrateMs)),
      unit: 'ms CPU',
      reference: { name: 'parseConfig of the same payload', value: Math.round(median(parseMs)) },
    },
  ];
}
