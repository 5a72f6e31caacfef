import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withIngress } from '../../../src/adapters/k8s/status-writer.js';

test('the status PUT body keeps the object (resourceVersion precondition), replaces only loadBalancer, drops managedFields', () => {
  const svc = {
    metadata: { name: 'web', namespace: 'ns', resourceVersion: '42', managedFields: [{ manager: 'kubectl' }] },
    spec: { type: 'LoadBalancer' },
    status: { conditions: [{ type: 'x' }], loadBalancer: { ingress: [{ ip: '192.168.1.9', ipMode: 'VIP' }] } },
  };
  const table = [
    { desc: 'one address', ingress: [{ ip: '192.168.1.230' }], want: { ingress: [{ ip: '192.168.1.230' }] } },
    { desc: 'dual-stack', ingress: [{ ip: '192.168.1.230' }, { ip: 'fc00::1' }], want: { ingress: [{ ip: '192.168.1.230' }, { ip: 'fc00::1' }] } },
    { desc: 'clear, as MetalLB writes loadBalancer: {}', ingress: [], want: {} },
  ];
  for (const c of table) {
    assert.deepEqual(withIngress(svc, c.ingress), {
      metadata: { name: 'web', namespace: 'ns', resourceVersion: '42' },
      spec: { type: 'LoadBalancer' },
      status: { conditions: [{ type: 'x' }], loadBalancer: c.want },
    }, c.desc);
  }
  assert.equal(svc.metadata.managedFields.length, 1, 'the cached object is not modified');
});
