/**
 * Translates the `layer2` vectors' endpoint notation (spec §0) into the Kubernetes objects the
 * speaker really reads: v1 Endpoints, or `discovery.k8s.io/v1` EndpointSlices whose endpoint node
 * is `nodeName` (the vectors' `hostname` is v1beta1's topology hostname, the same node).
 */
import { endpointsFromEndpoints, endpointsFromSlices, NO_ENDPOINTS, type EndpointsView } from '../../../src/core/service/endpoints.js';

interface VectorAddress { readonly ip: string; readonly node_name?: string | null }
export type VectorEndpoints =
  | { readonly type: 'endpoints'; readonly subsets: readonly { addresses: readonly VectorAddress[]; not_ready_addresses: readonly VectorAddress[] }[] }
  | { readonly type: 'slices'; readonly slices: readonly { endpoints: readonly { addresses: readonly string[]; hostname?: string | null; ready?: boolean | null }[] }[] }
  | { readonly type: 'none' };

function address(a: VectorAddress): Record<string, unknown> {
  return a.node_name ? { ip: a.ip, nodeName: a.node_name } : { ip: a.ip };
}

/** The Kubernetes object(s) a vector's `endpoints` stands for. */
export function kubernetesObjects(eps: VectorEndpoints): { kind: 'endpoints'; object: unknown } | { kind: 'slices'; objects: unknown[] } | { kind: 'none' } {
  switch (eps.type) {
    case 'endpoints':
      return {
        kind: 'endpoints',
        object: {
          metadata: { namespace: 'default', name: 'test' },
          subsets: eps.subsets.map((s) => ({ addresses: s.addresses.map(address), notReadyAddresses: s.not_ready_addresses.map(address) })),
        },
      };
    case 'slices':
      return {
        kind: 'slices',
        objects: eps.slices.map((s, i) => ({
          metadata: { namespace: 'default', name: `test-${i}`, labels: { 'kubernetes.io/service-name': 'test' } },
          addressType: 'IPv4',
          endpoints: s.endpoints.map((e) => ({
            addresses: e.addresses,
            ...(e.hostname ? { nodeName: e.hostname } : {}),
            conditions: e.ready === null || e.ready === undefined ? {} : { ready: e.ready },
          })),
        })),
      };
    case 'none':
      return { kind: 'none' };
  }
}

/** The view the speaker builds from a vector's endpoints. */
export function viewOfVector(eps: VectorEndpoints): EndpointsView {
  const objs = kubernetesObjects(eps);
  if (objs.kind === 'endpoints') return endpointsFromEndpoints(objs.object);
  if (objs.kind === 'slices') return endpointsFromSlices(objs.objects);
  return NO_ENDPOINTS;
}
