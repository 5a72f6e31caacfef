import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXCLUDE_LB_LABEL, NodeExclusions, excludedFromLoadBalancers } from '../../../src/core/speaker/exclude-lb.js';

const node = (name: string, labels?: Record<string, string> | null): unknown => ({ metadata: { name, ...(labels === undefined ? {} : { labels }) } });

test('the label counts when present, whatever its value; its absence, other labels and malformed objects do not', () => {
  assert.equal(EXCLUDE_LB_LABEL, 'node.kubernetes.io/exclude-from-external-load-balancers');
  assert.equal(excludedFromLoadBalancers(node('a', { [EXCLUDE_LB_LABEL]: '' })), true, 'kubeadm sets it with an empty value');
  assert.equal(excludedFromLoadBalancers(node('a', { [EXCLUDE_LB_LABEL]: 'true' })), true);
  assert.equal(excludedFromLoadBalancers(node('a', { [EXCLUDE_LB_LABEL]: 'false' })), true, 'the key alone counts, as in Kubernetes');
  for (const n of [node('a'), node('a', null), node('a', { 'node-role.kubernetes.io/control-plane': '' }), node('a', { [`${EXCLUDE_LB_LABEL}x`]: '' }),
    null, undefined, 42, 'node', {}, { metadata: null }, { metadata: { labels: 'x' } }]) {
    assert.equal(excludedFromLoadBalancers(n), false, JSON.stringify(n));
  }
});

test('NodeExclusions tells each change once: labelled, unlabelled, deleted; unnamed objects are ignored', () => {
  const ex = new NodeExclusions();
  const seen: string[] = [];
  const off = ex.onChange((n, e) => seen.push(`${n}:${e}`));
  ex.setNode(node('a', { [EXCLUDE_LB_LABEL]: '' }));
  ex.setNode(node('a', { [EXCLUDE_LB_LABEL]: '', other: 'x' })); // still labelled: no news
  ex.setNode(node('b'));
  ex.setNode(node('c', { [EXCLUDE_LB_LABEL]: 'true' }));
  ex.setNode({ metadata: { labels: { [EXCLUDE_LB_LABEL]: '' } } });
  assert.deepEqual([...ex.excluded()].sort(), ['a', 'c']);
  ex.setNode(node('a', {}));
  ex.deleteNode(node('c'));
  ex.deleteNode(node('b')); // was not excluded: no news
  assert.deepEqual(seen, ['a:true', 'c:true', 'a:false', 'c:false']);
  assert.deepEqual([...ex.excluded()], []);
  off();
  ex.setNode(node('d', { [EXCLUDE_LB_LABEL]: '' }));
  assert.equal(seen.length, 4);
  assert.deepEqual([...ex.excluded()], ['d']);
});
