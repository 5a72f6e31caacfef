/**
 * MetalLB's allocator test tables (v0.11 single-IP and v0.12 multi-IP API) and TestPoolCount,
 * replayed step by step against our Allocator through the shared vector runner.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadVectors, runVectorSuite, type VectorOutcome } from '../../conformance/vectors.js';
import { Allocator, formatAllocError, poolCount, type AllocResult, type ErrorStyle, type FamilyRequest } from '../../../src/core/allocator/index.js';
import { formatIp, parseIp, type IpAddr } from '../../../src/core/ip/index.js';
import { poolsFromVector, cidrOf, type VectorPool } from '../../helpers/vector-pools.js';

interface Step {
  readonly desc: string;
  readonly op: 'assign' | 'unassign' | 'allocate_from_pool' | 'allocate' | 'set_pools' | 'check_metrics';
  readonly svc?: string;
  readonly ips?: readonly string[];
  readonly family?: FamilyRequest;
  readonly pool?: string;
  readonly pools?: Record<string, VectorPool>;
  readonly ports?: readonly { proto: string; port: number }[];
  readonly sharing_key?: string;
  readonly backend_key?: string;
  readonly expect?: {
    readonly ok?: boolean;
    readonly error?: string;
    readonly svc_ips_after?: readonly string[];
    readonly state_unchanged?: boolean;
    readonly ips_exact?: readonly string[];
    readonly each_ip_in?: readonly string[];
    readonly ip_count?: number;
    readonly pool_of?: Record<string, string>;
    readonly addresses_in_use_total?: Record<string, number>;
    readonly addresses_total?: Record<string, number>;
  };
}

interface Sequence {
  readonly id: string;
  readonly api: 'v0.11.0' | 'v0.12.1';
  readonly initial_pools: Record<string, VectorPool>;
  readonly steps: readonly Step[];
}

function ip(text: string): IpAddr {
  const parsed = parseIp(text);
  if (parsed === undefined) throw new Error(`bad IP in vector: ${text}`);
  return parsed;
}

function snapshot(alloc: Allocator): string {
  return JSON.stringify([...alloc.allocations()].map(([svc, a]) => [svc, a.pool, a.ips.map(formatIp), a.ports, a.sharingKey, a.backendKey]));
}

/** Checks one step; returns a difference text or undefined. */
function checkStep(alloc: Allocator, step: Step, style: ErrorStyle): string | undefined {
  const want = step.expect ?? {};
  const svc = step.svc ?? '';
  const ports = step.ports ?? [];
  const sk = step.sharing_key ?? '';
  const bk = step.backend_key ?? '';
  const before = snapshot(alloc);
  let result: AllocResult | undefined;
  switch (step.op) {
    case 'assign': result = alloc.assign(svc, (step.ips ?? []).map(ip), ports, sk, bk); break;
    case 'unassign': alloc.unassign(svc); break;
    case 'allocate_from_pool': result = alloc.allocateFromPool(svc, step.family!, step.pool!, ports, sk, bk); break;
    case 'allocate': result = alloc.allocate(svc, step.family!, ports, sk, bk); break;
    case 'set_pools': {
      const r = alloc.setPools(poolsFromVector(step.pools!));
      result = r.ok ? { ok: true, ips: [] } : { ok: false, error: r.error };
      break;
    }
    case 'check_metrics': break;
  }
  const diffs: string[] = [];
  if (result !== undefined && want.ok !== undefined && result.ok !== want.ok) diffs.push(`ok ${result.ok}, want ${want.ok}`);
  if (result !== undefined && !result.ok && want.error !== undefined) {
    const got = formatAllocError(result.error, style);
    if (got !== want.error) diffs.push(`error ${JSON.stringify(got)}, want ${JSON.stringify(want.error)}`);
  }
  if (want.svc_ips_after !== undefined) {
    const got = (alloc.allocationOf(svc)?.ips ?? []).map(formatIp);
    if (JSON.stringify(got) !== JSON.stringify(want.svc_ips_after)) diffs.push(`ips after ${JSON.stringify(got)}, want ${JSON.stringify(want.svc_ips_after)}`);
  }
  if (want.state_unchanged && snapshot(alloc) !== before) diffs.push('state changed');
  const got = result?.ok ? result.ips.map(formatIp) : [];
  if (result?.ok && want.ips_exact !== undefined && JSON.stringify(got) !== JSON.stringify(want.ips_exact)) diffs.push(`ips ${JSON.stringify(got)}, want exactly ${JSON.stringify(want.ips_exact)}`);
  if (result?.ok && want.each_ip_in !== undefined && !got.every((g) => want.each_ip_in!.includes(g))) diffs.push(`ips ${JSON.stringify(got)} not all in ${JSON.stringify(want.each_ip_in)}`);
  if (result?.ok && want.ip_count !== undefined && got.length !== want.ip_count) diffs.push(`ip count ${got.length}, want ${want.ip_count}`);
  for (const [s, pool] of Object.entries(want.pool_of ?? {})) {
    if (alloc.poolOf(s) !== pool) diffs.push(`pool of ${s} ${alloc.poolOf(s)}, want ${pool}`);
  }
  const usage = alloc.poolUsage();
  for (const [pool, n] of Object.entries(want.addresses_in_use_total ?? {})) {
    if (usage.get(pool)?.inUse !== n) diffs.push(`in use in ${pool} ${usage.get(pool)?.inUse}, want ${n}`);
  }
  for (const [pool, n] of Object.entries(want.addresses_total ?? {})) {
    if (usage.get(pool)?.capacity !== BigInt(n)) diffs.push(`capacity of ${pool} ${usage.get(pool)?.capacity}, want ${n}`);
  }
  return diffs.length > 0 ? diffs.join('; ') : undefined;
}

function runSequence(seq: Sequence): VectorOutcome {
  const alloc = new Allocator();
  const initial = alloc.setPools(poolsFromVector(seq.initial_pools));
  if (!initial.ok) return { match: false, diff: 'initial pools refused' };
  const style: ErrorStyle = seq.api === 'v0.11.0' ? 'v0.11' : 'v0.12';
  const diffs: string[] = [];
  seq.steps.forEach((step, i) => {
    const diff = checkStep(alloc, step, style);
    if (diff !== undefined) diffs.push(`step ${i + 1} (${step.desc}): ${diff}`);
  });
  return diffs.length === 0 ? { match: true } : { match: false, diff: diffs.join('\n') };
}

test('allocator vectors (v0.11 and v0.12 API)', () => {
  const sequences = loadVectors()['allocator'] as Sequence[];
  const counts = runVectorSuite('allocator', sequences, (s) => s.id, runSequence);
  assert.equal(counts.vectors, 14);
});

interface PoolCountVector {
  readonly id: string;
  readonly cidrs: readonly string[];
  readonly avoid_buggy_ips: boolean;
  readonly expect_count: number | string;
}

test('allocator_pool_count vectors', () => {
  const vectors = loadVectors()['allocator_pool_count'] as PoolCountVector[];
  runVectorSuite('allocator_pool_count', vectors, (v) => v.id, (v) => {
    const got = poolCount({ cidrs: v.cidrs.map(cidrOf), avoidBuggyIps: v.avoid_buggy_ips });
    return got === BigInt(v.expect_count) ? { match: true } : { match: false, diff: `count ${got}, want ${v.expect_count}` };
  });
});
