/**
 * Writes a Service's `status.loadBalancer.ingress` through the `services/status` subresource with a PUT
 * (UpdateStatus, the only write MetalLB's RBAC grants on Services: `services/status` `update`). The body is the
 * Service the decision was made on, so its resourceVersion makes the apiserver refuse the write (409) if the
 * Service changed meanwhile; the key is then retried on the newer object instead of overwriting it. The status
 * subresource ignores spec changes, so spec and annotations are never written. Shared by controller and speaker.
 */
import type { V1Service } from '@kubernetes/client-node';
import type { Ingress } from '../../core/service/view.js';
import type { KubeClients } from './client.js';
import { describeApiError, httpStatusOf } from './client.js';

export type StatusWriteResult =
  | { readonly ok: true; readonly service: unknown }
  | { readonly ok: false; readonly status: number | undefined; readonly error: string };

/**
 * The function the controller's reconciler calls: `service` is the object as last seen (a V1Service from the
 * informer), `ingress` the exact entries to write ([] clears the status, as MetalLB's `loadBalancer: {}`).
 */
export type ServiceStatusWriter = (service: object, ingress: readonly Ingress[]) => Promise<StatusWriteResult>;

/**
 * The PUT body: the Service with only status.loadBalancer replaced. `managedFields` is left out (an update without
 * it keeps the stored ones), which roughly halves what is sent and what the apiserver decodes.
 */
export function withIngress(service: object, ingress: readonly Ingress[]): Record<string, unknown> {
  const svc = service as { metadata?: Record<string, unknown> | null; status?: Record<string, unknown> | null };
  const entries = ingress.map((e) => (e.ip !== undefined ? { ip: e.ip } : { hostname: e.hostname }));
  const { managedFields: _dropped, ...metadata } = svc.metadata ?? {};
  return { ...svc, metadata, status: { ...(svc.status ?? {}), loadBalancer: entries.length > 0 ? { ingress: entries } : {} } };
}

/** A ServiceStatusWriter over client-node's CoreV1Api. */
export function createStatusWriter(clients: KubeClients): ServiceStatusWriter {
  return async (service, ingress) => {
    const body = withIngress(service, ingress) as V1Service;
    const name = body.metadata?.name ?? '';
    const namespace = body.metadata?.namespace ?? '';
    try {
      return { ok: true, service: await clients.core.replaceNamespacedServiceStatus({ name, namespace, body }) };
    } catch (err) {
      return { ok: false, status: httpStatusOf(err), error: describeApiError(err) };
    }
  };
}
