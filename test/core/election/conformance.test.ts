/**
 * MetalLB's `layer2` and `layer2_cluster_policy` vectors against the speaker's decision
 * (decideService: endpoints → eligibility → hashring owner → reason per node).
 *
 * What applies as is: the usable-node (eligibility) vectors, and in every election vector which
 * nodes may announce and that nothing is announced without a ready endpoint. What does not: the
 * winner among several eligible nodes, which MetalLB takes from a sha256 order and metallb-ts from
 * a hashring (documented deviation). The election vectors are therefore compared in full (reason
 * per node), and those whose winner differs are listed in deviations.json; the parts that apply
 * are asserted separately for every vector, listed or not, so a listing cannot hide them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadVectors, runVectorSuite, type VectorOutcome } from '../../conformance/vectors.js';
import { parseConfig } from '../../../src/core/config/parse.js';
import type { Config } from '../../../src/core/config/types.js';
import { eligibleNodes, trafficPolicyOf } from '../../../src/core/election/index.js';
import { decideService } from '../../../src/core/speaker/decide.js';
import type { ServiceLike } from '../../../src/core/service/service-like.js';
import { NO_ENDPOINTS, type EndpointsView } from '../../../src/core/service/endpoints.js';
import { viewOfVector, type VectorEndpoints } from './vector-input.js';

interface UsableNodesVector {
  readonly id: string;
  readonly kind: 'usable_nodes';
  readonly endpoints: VectorEndpoints;
  readonly usable_speakers: readonly string[];
  readonly expect_sorted: readonly string[];
}
interface ElectionService {
  readonly lb_ip: string;
  readonly external_traffic_policy: string;
  readonly endpoints: VectorEndpoints;
  readonly expect: Readonly<Record<string, string>>;
  readonly expect_announcing_node: string | null;
}
interface ElectionVector {
  readonly id: string;
  readonly kind: 'election';
  readonly usable_speakers: readonly string[];
  readonly services: readonly ElectionService[];
}
type Layer2Vector = UsableNodesVector | ElectionVector;

function config(cidr: string): Config {
  const parsed = parseConfig(`address-pools:\n- name: default\n  protocol: layer2\n  addresses: [${cidr}]\n`);
  assert.ok(parsed.ok);
  return parsed.config;
}
const CONFIG = config('10.20.30.0/24');

function service(lbIp: string, policy: string): ServiceLike {
  return {
    metadata: { namespace: 'default', name: 'test' },
    spec: { type: 'LoadBalancer', externalTrafficPolicy: policy },
    status: { loadBalancer: { ingress: [{ ip: lbIp }] } },
  };
}

/** Each node's reason for one service: "" when it announces (the vectors' notation). */
function reasonsByNode(lbIp: string, policy: string, eps: EndpointsView, speakers: readonly string[]): Record<string, string> {
  const alive = new Set(speakers);
  const out: Record<string, string> = {};
  for (const node of speakers) {
    const { decision } = decideService({
      name: 'default/test', service: service(lbIp, policy), endpoints: eps, config: CONFIG, myNode: node, alive, current: undefined,
    });
    out[node] = decision.kind === 'announce' ? '' : decision.kind === 'withdraw' ? decision.reason : decision.kind;
  }
  return out;
}

function checkLayer2(v: Layer2Vector): VectorOutcome {
  if (v.kind === 'usable_nodes') {
    const got = eligibleNodes('Local', viewOfVector(v.endpoints), new Set(v.usable_speakers));
    return JSON.stringify(got) === JSON.stringify(v.expect_sorted)
      ? { match: true }
      : { match: false, diff: `eligible ${JSON.stringify(got)}, want ${JSON.stringify(v.expect_sorted)}` };
  }
  const diffs: string[] = [];
  for (const s of v.services) {
    const got = reasonsByNode(s.lb_ip, s.external_traffic_policy, viewOfVector(s.endpoints), v.usable_speakers);
    if (JSON.stringify(got) !== JSON.stringify(s.expect)) diffs.push(`${s.lb_ip}: got ${JSON.stringify(got)}, want ${JSON.stringify(s.expect)}`);
  }
  return diffs.length === 0 ? { match: true } : { match: false, diff: diffs.join('; ') };
}

const layer2 = (): Layer2Vector[] => loadVectors()['layer2'] as Layer2Vector[];

test('layer2 vectors: eligibility and reasons per node (winner among several: listed deviations)', () => {
  const vectors = layer2();
  assert.equal(vectors.length, 33);
  runVectorSuite('layer2', vectors, (v) => v.id, checkLayer2);
});

test('layer2 election vectors: the parts that do not depend on the hash hold for every vector', () => {
  let checked = 0;
  for (const v of layer2()) {
    if (v.kind !== 'election') continue;
    for (const s of v.services) {
      const eps = viewOfVector(s.endpoints);
      const eligible = eligibleNodes(trafficPolicyOf(s.external_traffic_policy), eps, new Set(v.usable_speakers));
      const got = reasonsByNode(s.lb_ip, s.external_traffic_policy, eps, v.usable_speakers);
      const announcers = Object.keys(got).filter((n) => got[n] === '');
      // Every node that does not announce says notOwner, as upstream.
      for (const n of v.usable_speakers) if (got[n] !== '') assert.equal(got[n], 'notOwner', `${v.id} ${s.lb_ip} ${n}`);
      if (s.expect_announcing_node === null) {
        assert.deepEqual(announcers, [], `${v.id} ${s.lb_ip}: nobody may announce`);
      } else {
        assert.equal(announcers.length, 1, `${v.id} ${s.lb_ip}: exactly one announcer`);
        assert.ok(eligible.includes(announcers[0]!), `${v.id} ${s.lb_ip}: the announcer is eligible`);
        // Upstream's winner must be eligible here too; with one eligible node it must be ours.
        assert.ok(eligible.includes(s.expect_announcing_node), `${v.id} ${s.lb_ip}: upstream's winner is eligible`);
        if (eligible.length === 1) assert.equal(announcers[0], s.expect_announcing_node, `${v.id} ${s.lb_ip}`);
      }
      checked++;
    }
  }
  assert.equal(checked, 32);
});

interface ClusterPolicyVector {
  readonly id: string;
  readonly setup: { readonly usable_speakers: readonly string[] };
  readonly cases: readonly { readonly lb_ip: string; readonly winner: string }[];
}

/** A Cluster Service's endpoints: one ready endpoint on `node` (eps1/eps2 of TestClusterPolicy). */
function readyOn(node: string): EndpointsView {
  return { ...NO_ENDPOINTS, present: true, anyReady: true, readyNodes: new Set([node]), anyHealthy: true, healthyNodes: new Set([node]) };
}

test('layer2_cluster_policy: the upstream assertions hold with the hashring owner', () => {
  const v = loadVectors()['layer2_cluster_policy'] as ClusterPolicyVector;
  const speakers = v.setup.usable_speakers;
  const wins = new Map<string, number>();
  for (const c of v.cases) {
    // svc1 with its endpoint on iris1, svc2 on iris2, same IP: the same single node announces both.
    const a = reasonsByNode(c.lb_ip, 'Cluster', readyOn('iris1'), speakers);
    const b = reasonsByNode(c.lb_ip, 'Cluster', readyOn('iris2'), speakers);
    assert.deepEqual(a, b, c.lb_ip);
    const announcers = speakers.filter((n) => a[n] === '');
    assert.equal(announcers.length, 1, c.lb_ip);
    wins.set(announcers[0]!, (wins.get(announcers[0]!) ?? 0) + 1);
  }
  assert.equal(v.cases.length, 255);
  for (const n of speakers) assert.ok((wins.get(n) ?? 0) > 0, `${n} wins at least one IP`);
});

test('layer2_cluster_policy vectors: the sha256 winners (a listed deviation: hashring elects)', () => {
  const vectors = [loadVectors()['layer2_cluster_policy'] as ClusterPolicyVector];
  runVectorSuite('layer2_cluster_policy', vectors, (v) => v.id, (v) => {
    const differ = v.cases.filter((c) => reasonsByNode(c.lb_ip, 'Cluster', readyOn('iris1'), v.setup.usable_speakers)[c.winner] !== '');
    return differ.length === 0 ? { match: true } : { match: false, diff: `${differ.length} of ${v.cases.length} winners differ` };
  });
});

/**
 * Spec §5.1 step 4 (derived, no upstream vector): with memberlist disabled (`--ml-bindaddr` or
 * `--ml-labels` empty) MetalLB's speaker list is nil, so a Cluster Service has no candidate and is
 * never announced (upstream #2005, #2425), while a Local one is announced by its endpoint nodes.
 * metallb-ts always has a membership (from Kubernetes until gossip lands): the Cluster case is a
 * listed deviation, the Local case matches.
 */
interface MembershipVector {
  readonly id: string;
  readonly policy: 'Local' | 'Cluster';
  readonly endpointsOn: readonly string[];
  /** Upstream, memberlist disabled: reason per node. */
  readonly expect: Readonly<Record<string, string>>;
}
const MEMBERLIST_DISABLED: readonly MembershipVector[] = [
  {
    id: 'layer2/memberlist-disabled/Cluster policy: never announced (upstream #2005)',
    policy: 'Cluster',
    endpointsOn: ['iris1'],
    expect: { iris1: 'notOwner', iris2: 'notOwner' },
  },
  {
    id: 'layer2/memberlist-disabled/Local policy: the endpoint node announces',
    policy: 'Local',
    endpointsOn: ['iris1'],
    expect: { iris1: '', iris2: 'notOwner' },
  },
];

test('layer2_membership: memberlist disabled (spec §5.1 step 4; Cluster is a listed deviation, upstream #2005)', () => {
  runVectorSuite('layer2_membership', MEMBERLIST_DISABLED, (v) => v.id, (v) => {
    const eps: EndpointsView = { ...NO_ENDPOINTS, present: true, anyReady: true, readyNodes: new Set(v.endpointsOn), anyHealthy: true, healthyNodes: new Set(v.endpointsOn) };
    // Both speakers run; metallb-ts's membership reports them alive whatever the memberlist flags.
    const got = reasonsByNode('10.20.30.1', v.policy, eps, ['iris1', 'iris2']);
    return JSON.stringify(got) === JSON.stringify(v.expect) ? { match: true } : { match: false, diff: `got ${JSON.stringify(got)}, upstream ${JSON.stringify(v.expect)}` };
  });
});
