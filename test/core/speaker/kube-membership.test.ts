import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubernetesMembership } from '../../../src/core/speaker/kube-membership.js';

function node(name: string, ready: boolean): unknown {
  return { metadata: { name }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } };
}
function pod(nodeName: string, ready: boolean, extra: Record<string, unknown> = {}): unknown {
  return {
    metadata: { namespace: 'metallb-system', name: `speaker-${nodeName}`, labels: { app: 'metallb', component: 'speaker' } },
    spec: { nodeName },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], ...extra },
  };
}

test('KubernetesMembership follows Node and Pod events and notifies only on a change of the alive set', () => {
  const m = new KubernetesMembership('app=metallb,component=speaker');
  let changes = 0;
  const off = m.onChange(() => changes++);
  m.setNode(node('n1', true));
  m.setNode(node('n2', true));
  assert.deepEqual([...m.alive()], []);
  assert.equal(changes, 0);
  m.setPod(pod('n1', true));
  m.setPod(pod('n2', true));
  assert.deepEqual([...m.alive()].sort(), ['n1', 'n2']);
  assert.equal(changes, 2);
  // Status churn without a readiness flip: no notification.
  m.setPod(pod('n1', true, { podIP: '192.0.2.1' }));
  assert.equal(changes, 2);
  m.setNode(node('n2', false));
  assert.deepEqual([...m.alive()], ['n1']);
  assert.equal(changes, 3);
  m.deletePod(pod('n1', true));
  assert.deepEqual([...m.alive()], []);
  assert.equal(changes, 4);
  m.deleteNode({ metadata: { name: 'unknown' } });
  m.setNode(null);
  m.setPod({ metadata: {} });
  assert.equal(changes, 4);
  m.replace([node('n1', true), node('n3', true), 'garbage'], [pod('n1', true), pod('n3', true), null]);
  assert.deepEqual([...m.alive()].sort(), ['n1', 'n3']);
  assert.equal(changes, 5);
  off();
  m.deleteNode(node('n3', true));
  assert.deepEqual([...m.alive()], ['n1']);
  assert.equal(changes, 5);
});
