import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aliveFromKubernetes, parseLabelSelector } from '../../../src/core/speaker/membership.js';

const SPEAKER_LABELS = { app: 'metallb', component: 'speaker' };

function node(name: string, ready: string, extra: Record<string, unknown> = {}): unknown {
  return { metadata: { name, ...extra }, status: { conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: ready }] } };
}
function pod(nodeName: string, opts: { phase?: string; ready?: string; labels?: Record<string, string>; deleting?: boolean } = {}): unknown {
  return {
    metadata: { name: `speaker-${nodeName}`, namespace: 'metallb-system', labels: opts.labels ?? SPEAKER_LABELS, ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { nodeName },
    status: { phase: opts.phase ?? 'Running', conditions: [{ type: 'Ready', status: opts.ready ?? 'True' }] },
  };
}

test('alive = Node Ready AND its speaker Pod Running and Ready, neither being deleted', () => {
  const nodes = [
    node('n1', 'True'),
    node('n2', 'True'),
    node('n3', 'False'),
    node('n4', 'Unknown'),
    node('n5', 'True', { deletionTimestamp: '2026-01-01T00:00:00Z' }),
    node('n6', 'True'),
    node('n7', 'True'),
    node('n8', 'True'),
  ];
  const pods = [
    pod('n1'),
    pod('n2', { ready: 'False' }),
    pod('n3'),
    pod('n4'),
    pod('n5'),
    pod('n6', { phase: 'Pending' }),
    pod('n7', { deleting: true }),
    pod('nowhere'),
    // n8: no speaker pod at all.
  ];
  assert.deepEqual([...aliveFromKubernetes(nodes, pods)].sort(), ['n1']);
});

test('a Node tainted node.kubernetes.io/out-of-service is not alive, even while it still reports Ready', () => {
  const tainted = { ...(node('n2', 'True') as Record<string, unknown>), spec: { taints: [{ key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute' }] } };
  const other = { ...(node('n3', 'True') as Record<string, unknown>), spec: { taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] } };
  assert.deepEqual([...aliveFromKubernetes([node('n1', 'True'), tainted, other], [pod('n1'), pod('n2'), pod('n3')])].sort(), ['n1', 'n3']);
  // Malformed taints are ignored, not fatal.
  const odd = { ...(node('n4', 'True') as Record<string, unknown>), spec: { taints: [null, 'x', { key: 7 }] } };
  assert.deepEqual([...aliveFromKubernetes([odd], [pod('n4')])], ['n4']);
});

test('the label selector (--ml-labels) filters the Pods', () => {
  const nodes = [node('n1', 'True'), node('n2', 'True')];
  const pods = [pod('n1'), pod('n2', { labels: { app: 'metallb', component: 'controller' } })];
  assert.deepEqual([...aliveFromKubernetes(nodes, pods, 'app=metallb,component=speaker')], ['n1']);
  assert.deepEqual([...aliveFromKubernetes(nodes, pods)].sort(), ['n1', 'n2']);
  assert.deepEqual([...aliveFromKubernetes(nodes, pods, '')].sort(), ['n1', 'n2']);
  // A selector that does not parse matches nothing.
  assert.deepEqual([...aliveFromKubernetes(nodes, pods, 'app in metallb')], []);
});

test('malformed objects count as not alive, nothing throws', () => {
  const nodes: unknown[] = [null, 7, 'x', { metadata: { name: 'n1' } }, { metadata: { name: 'n2' }, status: { conditions: 'Ready' } }, node('n3', 'True')];
  const pods: unknown[] = [null, {}, { spec: { nodeName: 5 } }, { spec: { nodeName: 'n1' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }, pod('n3', { ready: 'true' })];
  assert.deepEqual([...aliveFromKubernetes(nodes, pods)], []);
  assert.deepEqual([...aliveFromKubernetes('nodes' as unknown as unknown[], null as unknown as unknown[])], []);
});

test('parseLabelSelector: Kubernetes selector text', () => {
  const cases: Array<[string, Record<string, string>, boolean]> = [
    ['app=metallb,component=speaker', SPEAKER_LABELS, true],
    ['app==metallb', SPEAKER_LABELS, true],
    ['app=metallb,component=controller', SPEAKER_LABELS, false],
    ['app!=metallb', SPEAKER_LABELS, false],
    ['tier!=x', SPEAKER_LABELS, true],
    ['component in (speaker, controller)', SPEAKER_LABELS, true],
    ['component notin (speaker)', SPEAKER_LABELS, false],
    ['tier notin (x)', SPEAKER_LABELS, true],
    ['component', SPEAKER_LABELS, true],
    ['!component', SPEAKER_LABELS, false],
    [' app = metallb ', SPEAKER_LABELS, true],
    ['example.com/role=speaker', { 'example.com/role': 'speaker' }, true],
  ];
  for (const [text, labels, want] of cases) {
    const sel = parseLabelSelector(text);
    assert.ok(sel.ok, text);
    assert.equal(sel.matches(labels), want, text);
  }
  for (const bad of ['app=metallb,', '=x', 'app in metallb', 'a b', 'app=me tallb', 'a=b=c']) {
    assert.equal(parseLabelSelector(bad).ok, false, bad);
  }
});
