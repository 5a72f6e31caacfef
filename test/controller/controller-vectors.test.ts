/**
 * MetalLB's controller tests (TestControllerMutation v0.11 + v0.12, TestControllerConfig,
 * TestDeleteRecyclesIP) replayed against our Controller. Mutation cases run twice: each on a
 * fresh synced controller (status, warning, exact events), and all together in shuffled order
 * against ONE controller, as upstream does (each case must be a pure function of its input).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadVectors, runVectorSuite, type VectorOutcome } from '../conformance/vectors.js';
import { Controller, type BalancerResult, type ConfigDecision } from '../../src/controller/controller.js';
import type { ServiceLike } from '../../src/core/service/view.js';
import { NOOP_LOGGER, type SyncState } from '../../src/core/ports.js';
import { configFromVector, type VectorPool } from '../helpers/vector-pools.js';
import { prng } from '../helpers/prng.js';

interface VectorService {
  readonly type: string;
  readonly external_traffic_policy: string;
  readonly load_balancer_ip: string;
  readonly annotations: Record<string, string>;
  readonly cluster_ip?: string;
  readonly cluster_ips?: readonly string[];
  readonly status_ingress: readonly { ip?: string; hostname?: string }[];
}

interface Expect {
  readonly status_update?: readonly { ip?: string; hostname?: string }[] | null;
  readonly warning_event?: boolean;
  readonly events_fresh_controller?: readonly { type: string; reason: string; message: string }[];
  readonly sync_state?: SyncState;
  readonly event?: { type: string; reason: string; message: string };
}

interface ConvergeVector {
  readonly id: string;
  readonly kind: 'controller_converge';
  readonly service_key: string;
  readonly config_pools: Record<string, VectorPool>;
  readonly cases: readonly { name: string; input_service: VectorService | null; expect: Expect }[];
}

interface SequenceVector {
  readonly id: string;
  readonly kind: 'controller_sequence';
  readonly steps: readonly {
    op: 'set_config' | 'mark_synced' | 'set_balancer';
    pools?: Record<string, VectorPool> | null;
    key?: string;
    service?: VectorService | null;
    expect?: Expect;
  }[];
}

type Vector = ConvergeVector | SequenceVector;

/** A Service object as the apiserver would hold it. */
export function serviceFrom(v: VectorService | null): ServiceLike | undefined {
  if (v === null) return undefined;
  return {
    metadata: { namespace: 'default', name: 'test', annotations: v.annotations },
    spec: {
      type: v.type,
      externalTrafficPolicy: v.external_traffic_policy,
      loadBalancerIP: v.load_balancer_ip,
      ...(v.cluster_ip !== undefined ? { clusterIP: v.cluster_ip } : {}),
      ...(v.cluster_ips !== undefined ? { clusterIPs: v.cluster_ips, clusterIP: v.cluster_ips[0] ?? '' } : {}),
    },
    status: { loadBalancer: { ingress: v.status_ingress } },
  };
}

/** How the adapter maps a config decision to a sync state (v0.11 TestControllerConfig semantics). */
function decisionState(d: ConfigDecision): SyncState {
  return d.kind === 'applied' ? 'reprocessAll' : 'error';
}

function compareResult(r: BalancerResult, want: Expect, exactEvents: boolean): string[] {
  const diffs: string[] = [];
  if (want.status_update !== undefined) {
    const got = r.status === undefined ? null : r.status;
    if (JSON.stringify(got) !== JSON.stringify(want.status_update)) diffs.push(`status ${JSON.stringify(got)}, want ${JSON.stringify(want.status_update)}`);
  }
  const warned = r.events.some((e) => e.type === 'Warning');
  if (want.warning_event !== undefined && warned !== want.warning_event) diffs.push(`warning ${warned}, want ${want.warning_event}`);
  if (exactEvents && want.events_fresh_controller !== undefined && JSON.stringify(r.events) !== JSON.stringify(want.events_fresh_controller)) {
    diffs.push(`events ${JSON.stringify(r.events)}, want ${JSON.stringify(want.events_fresh_controller)}`);
  }
  if (want.event !== undefined && !r.events.some((e) => JSON.stringify(e) === JSON.stringify(want.event))) {
    diffs.push(`events ${JSON.stringify(r.events)} lack ${JSON.stringify(want.event)}`);
  }
  if (want.sync_state !== undefined && r.state !== want.sync_state) diffs.push(`state ${r.state}, want ${want.sync_state}`);
  return diffs;
}

function syncedController(pools: Record<string, VectorPool>): Controller {
  const c = new Controller({ logger: NOOP_LOGGER });
  assert.equal(c.setConfig(configFromVector(pools)).kind, 'applied');
  c.markSynced();
  return c;
}

/** Deterministic shuffle (mulberry32) so a failure reproduces. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const rand = prng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function checkConverge(v: ConvergeVector): VectorOutcome {
  const diffs: string[] = [];
  for (const c of v.cases) {
    const r = syncedController(v.config_pools).setBalancer(v.service_key, serviceFrom(c.input_service));
    for (const d of compareResult(r, c.expect, true)) diffs.push(`fresh "${c.name}": ${d}`);
  }
  const shared = syncedController(v.config_pools);
  for (let round = 0; round < 20; round++) {
    for (const c of shuffled(v.cases, round + 1)) {
      const r = shared.setBalancer(v.service_key, serviceFrom(c.input_service));
      for (const d of compareResult(r, c.expect, false)) diffs.push(`shared round ${round} "${c.name}": ${d}`);
    }
  }
  return diffs.length === 0 ? { match: true } : { match: false, diff: [...new Set(diffs)].slice(0, 10).join('\n') };
}

function checkSequence(v: SequenceVector): VectorOutcome {
  const c = new Controller({ logger: NOOP_LOGGER });
  const diffs: string[] = [];
  v.steps.forEach((step, i) => {
    if (step.op === 'mark_synced') {
      c.markSynced();
    } else if (step.op === 'set_config') {
      const state = decisionState(c.setConfig(step.pools == null ? undefined : configFromVector(step.pools)));
      if (step.expect?.sync_state !== undefined && state !== step.expect.sync_state) diffs.push(`step ${i + 1}: state ${state}, want ${step.expect.sync_state}`);
    } else {
      const r = c.setBalancer(step.key!, serviceFrom(step.service ?? null));
      for (const d of compareResult(r, step.expect ?? {}, false)) diffs.push(`step ${i + 1}: ${d}`);
    }
  });
  return diffs.length === 0 ? { match: true } : { match: false, diff: diffs.join('\n') };
}

test('controller vectors', () => {
  const vectors = loadVectors()['controller'] as Vector[];
  const counts = runVectorSuite('controller', vectors, (v) => v.id, (v) =>
    v.kind === 'controller_converge' ? checkConverge(v) : checkSequence(v),
  );
  assert.equal(counts.vectors, 4);
});
