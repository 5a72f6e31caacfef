/**
 * `metallb_allocator_addresses_total` as scraped (issue 8, fault 3): the value in the exposition text, parsed as a
 * float, equals the float64 of MetalLB's integer count for every pool size, including IPv6 pools larger than 2^53
 * and the MaxInt64 cap. Compared as floats, never as text (Go and JS print large floats differently).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { Controller } from '../../src/controller/controller.js';
import { createAllocatorMetrics } from '../../src/adapters/metrics/registry.js';
import { parseConfig } from '../../src/core/config/parse.js';
import { NOOP_LOGGER } from '../../src/core/ports.js';
import { loadVectors, runVectorSuite } from '../conformance/vectors.js';

const MAX_INT64 = 2n ** 63n - 1n;

/** Scrapes the gauge for `pool` through a fresh registry, as /metrics serves it. */
async function scrapedTotal(cidrs: readonly string[], avoidBuggyIps: boolean): Promise<number> {
  const text = `address-pools:\n- name: p\n  protocol: layer2\n  addresses: [${cidrs.join(', ')}]\n${avoidBuggyIps ? '  avoid-buggy-ips: true\n' : ''}`;
  const parsed = parseConfig(text);
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors));
  const controller = new Controller({ logger: NOOP_LOGGER });
  assert.equal(controller.setConfig(parsed.config).kind, 'applied');
  const registry = new Registry();
  createAllocatorMetrics(registry).setPoolStats(controller.poolStats());
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith('metallb_allocator_addresses_total{pool="p"} '));
  assert.ok(line, 'a sample for pool p');
  return Number.parseFloat(line.split(' ').at(-1)!);
}

/** MetalLB's count as float64 (spec §2 poolCount): sum of 2^(bits-len); MaxInt64 when bits-len ≥ 62 or on overflow. */
function metallbFloat(cidrs: readonly string[]): number {
  let sum = 0n;
  for (const c of cidrs) {
    const [ip, len] = c.split('/');
    const hostBits = (ip!.includes(':') ? 128 : 32) - Number(len);
    if (hostBits >= 62) return Number(MAX_INT64);
    sum += 2n ** BigInt(hostBits);
  }
  return Number(sum > MAX_INT64 ? MAX_INT64 : sum);
}

interface PoolCountVector { readonly id: string; readonly cidrs: readonly string[]; readonly avoid_buggy_ips: boolean; readonly expect_count: number | string }

test('allocator_pool_count vectors, checked at the scraped metric', async () => {
  const vectors = loadVectors()['allocator_pool_count'] as PoolCountVector[];
  const scraped = new Map<string, number>();
  for (const v of vectors) scraped.set(v.id, await scrapedTotal(v.cidrs, v.avoid_buggy_ips));
  runVectorSuite('allocator_pool_count (metric)', vectors, (v) => v.id, (v) => {
    const want = Number(BigInt(v.expect_count));
    const got = scraped.get(v.id);
    return got === want ? { match: true } : { match: false, diff: `scraped ${got}, MetalLB float64 ${want}` };
  });
});

test('every pool size: IPv4 /32../0, IPv6 /128../0 (2^53 and beyond, the MaxInt64 cap)', async () => {
  const cases: string[][] = [];
  for (let len = 32; len >= 0; len -= 4) cases.push([len >= 8 ? `10.0.0.0/${len}` : '0.0.0.0/' + len]);
  for (const len of [128, 100, 76, 75, 72, 71, 70, 69, 68, 67, 66, 65, 64, 32, 0]) cases.push([len === 0 ? '::/0' : `2001:db8::/${len}`]);
  cases.push(['2001:db8:0:3::/68']); // the reproduction: 2^60
  cases.push(['2001:db8:0:3::/68', '2001:db8:0:4::/68', '2001:db8:0:5::/128']); // 2^61 + 1: not a float64, rounds
  cases.push(['2001:db8:0:3::/67', '2001:db8:0:4::/67', '2001:db8:0:5::/67', '2001:db8:0:6::/67']); // 2^63: overflow → MaxInt64
  for (const cidrs of cases) {
    const valid = parseConfig(`address-pools:\n- name: p\n  protocol: layer2\n  addresses: [${cidrs.join(', ')}]\n`);
    assert.ok(valid.ok, cidrs.join(','));
    assert.equal(await scrapedTotal(cidrs, false), metallbFloat(cidrs), cidrs.join(','));
  }
  assert.equal(await scrapedTotal(['2001:db8:0:3::/68'], false), 1152921504606846976);
  assert.equal(await scrapedTotal(['::/0'], false), 9223372036854775807, 'MaxInt64 as a float64 (2^63)');
});
