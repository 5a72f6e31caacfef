/**
 * The dashboard (manifests/grafana-dashboard.json) and the PrometheusRule (manifests/prometheus-operator.yaml) use
 * only metric names the components export (issue 13 §4), checked against a real scrape: a `metallb-ts controller`
 * and a `metallb-ts speaker` (gossip on, in a network namespace of this test's own, prefix `opm-`) started as
 * the manifests start them with a layer-2 pool in the config, their /metrics read, every `# TYPE` name collected.
 * Every queried metric must also have samples in that scrape (a metric registered but never set, such as v0.11's
 * `metallb_allocator_services_allocated_total`, draws an empty panel), except the ones that only get samples once a
 * Service is announced or a BGP peer configured (SAMPLED_ONCE_ANNOUNCING). `up` is Prometheus's own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getTestCluster, requirePrerequisite } from '../../src/testing/cluster/test-cluster.js';
import { repoRoot } from '../../src/testing/cluster/binaries.js';
import { run } from '../../src/testing/cluster/processes.js';
import { METALLB_NS, eventually, installMetallb, startController, startSpeaker, type ControllerProcess } from '../../src/testing/metallb/process.js';
import { adminClients, deleteConfig, layer2Config, putConfig } from '../../src/testing/metallb/kube.js';
import { ruleGroups } from './prometheus-rule.js';

const NETNS = `${process.env['METALLB_TS_METRICS_TEST_PREFIX'] ?? 'opm-'}scrape`;
const PROMETHEUS_OWN = new Set(['up']);
/**
 * Labelled speaker metrics that have no sample until the speaker announces a Service (`{service,protocol,node,ip}`,
 * layer 2's `{ip}` counters) or has a BGP peer (`{peer}`); this scrape has neither, so their `# TYPE` line is the proof.
 */
const SAMPLED_ONCE_ANNOUNCING = /^metallb_(speaker_announced|layer2_[a-z_]+|bgp_[a-z_]+)$/;
const POOL = 'opm-pool';

/** PromQL's aggregation operators and functions (names that are never metrics here). */
const PROMQL_CALLS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk',
  'quantile', 'limitk', 'limit_ratio', 'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'absent', 'absent_over_time', 'changes',
  'resets', 'clamp_min', 'clamp_max', 'abs', 'ceil', 'floor', 'round', 'scalar', 'vector', 'time', 'timestamp', 'histogram_quantile',
  'label_replace', 'label_join', 'max_over_time', 'min_over_time', 'avg_over_time', 'sum_over_time', 'count_over_time', 'last_over_time']);
const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset']);

/**
 * Metric names a PromQL expression reads: identifiers outside label matchers `{…}`, ranges `[…]` and grouping
 * lists `by (…)`, that are not aggregation operators, functions or keywords.
 */
export function metricNames(expr: string): string[] {
  const text = expr.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, '{}').replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out = new Set<string>();
  for (const m of text.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = m[0];
    const before = text[m.index - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue; // a number's exponent or unit, e.g. 1e3
    if (PROMQL_CALLS.has(name) || PROMQL_KEYWORDS.has(name)) continue;
    out.add(name);
  }
  return [...out].sort();
}

function typeNames(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}

/** Names that have at least one sample line (`name{labels} value` or `name value`) in a text exposition. */
function sampledNames(text: string): Set<string> {
  return new Set([...text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)].map((m) => m[1]!));
}

test('metric names: sample names are read from an exposition', () => {
  const text = '# HELP a_total x\n# TYPE a_total counter\na_total{ip="192.0.2.1"} 3\n# TYPE b gauge\nc 1\n';
  assert.deepEqual([...typeNames(text)].sort(), ['a_total', 'b']);
  assert.deepEqual([...sampledNames(text)].sort(), ['a_total', 'c']);
  assert.ok(SAMPLED_ONCE_ANNOUNCING.test('metallb_bgp_session_up') && !SAMPLED_ONCE_ANNOUNCING.test('metallb_allocator_services_allocated_total'));
});

test('metric names: PromQL names are found', () => {
  assert.deepEqual(metricNames('count by (ip) (max by (ip, node) (metallb_speaker_announced{protocol="layer2"}) == 1) > 1'), ['metallb_speaker_announced']);
  assert.deepEqual(metricNames('sum by (peer) (rate(metallb_bgp_updates_total[5m])) / up{job="x"}'), ['metallb_bgp_updates_total', 'up']);
  assert.deepEqual(metricNames('max by (pool) (a_in_use) / max by (pool) (a_total) > 0.9 and on (pool) b'), ['a_in_use', 'a_total', 'b']);
});

test('dashboard and alert queries use only metric names a real controller and speaker export', { timeout: 600_000 }, async (t) => {
  if (!requirePrerequisite(t, process.getuid?.() === 0, 'needs root for a network namespace')) return;
  const cluster = await getTestCluster();
  await installMetallb(cluster);
  const k = await adminClients(cluster);
  const before = await k.core.readNamespacedConfigMap({ namespace: METALLB_NS, name: 'config' }).catch(() => undefined);
  const procs: ControllerProcess[] = [];
  let relay: number | undefined;
  await run('ip', ['netns', 'del', NETNS]);
  try {
    await putConfig(k, layer2Config([{ name: POOL, addresses: ['192.0.2.248/29'] }]));
    const added = await run('ip', ['netns', 'add', NETNS]);
    assert.equal(added.code, 0, added.stderr);
    await run('ip', ['-n', NETNS, 'link', 'set', 'lo', 'up']);
    relay = await cluster.exposeInNetns([NETNS]);
    const controller = await startController(await cluster.kubeconfigFor(METALLB_NS, 'controller'));
    procs.push(controller);
    const speaker = await startSpeaker(await cluster.kubeconfigFor(METALLB_NS, 'speaker'), { nodeName: 'opm-node', netns: NETNS, host: '127.0.0.1' });
    procs.push(speaker);
    await controller.waitReady(120_000);
    await speaker.waitForLog((l) => l['event'] === 'memberlistStarted', 120_000);
    await eventually(async () => (await controller.metrics()).includes(`metallb_allocator_addresses_total{pool="${POOL}"} 8`), 60_000, 'the controller exports its pool');
    const texts = [await controller.metrics(), await speaker.metrics()];
    const exported = new Set(texts.flatMap((t) => [...typeNames(t)]));
    const sampled = new Set(texts.flatMap((t) => [...sampledNames(t)]));
    for (const name of ['metallb_allocator_addresses_total', 'metallb_speaker_announced', 'metallb_bgp_session_up', 'metallb_speaker_memberlist_members', 'metallb_speaker_memberlist_receive_buffer_drops_total', 'metallb_speaker_startup_check_failed']) {
      assert.ok(exported.has(name), `the scrape exports ${name} (${[...exported].filter((n) => n.startsWith('metallb')).join(', ')})`);
    }
    const dashboard = JSON.parse(readFileSync(join(repoRoot(), 'manifests', 'grafana-dashboard.json'), 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
    const queries = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((q) => ({ where: `dashboard panel "${p.title}"`, expr: q.expr }))),
      ...ruleGroups().flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert ?? r.record}`, expr: r.expr }))),
    ];
    assert.ok(queries.length > 15, `${queries.length} queries`);
    const unknown = queries.flatMap((q) => metricNames(q.expr).filter((n) => !exported.has(n) && !PROMETHEUS_OWN.has(n)).map((n) => `${q.where}: ${n}`));
    assert.deepEqual(unknown, [], 'every queried metric is exported');
    const empty = queries.flatMap((q) => metricNames(q.expr)
      .filter((n) => !sampled.has(n) && !PROMETHEUS_OWN.has(n) && !SAMPLED_ONCE_ANNOUNCING.test(n)).map((n) => `${q.where}: ${n}`));
    assert.deepEqual(empty, [], 'every queried metric has samples (or gets them once a Service is announced or a peer configured)');
  } finally {
    for (const p of procs) await p.stop();
    if (relay !== undefined) { try { process.kill(relay, 'SIGTERM'); } catch { /* gone */ } }
    await run('ip', ['netns', 'del', NETNS]);
    if (before !== undefined) await putConfig(k, before.data?.['config']); else await deleteConfig(k);
  }
});
