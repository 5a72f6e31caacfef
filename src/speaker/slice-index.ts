/**
 * EndpointSlices grouped by the Service they belong to (label `kubernetes.io/service-name`, same namespace), kept
 * up to date from informer add/update/delete callbacks, so a Service's slices are found without scanning every
 * slice of the cluster. Pure bookkeeping.
 */
import { nsNameOf, type EndpointSliceObject } from '../core/k8s/objects.js';
import { serviceKeyOfSlice } from '../core/service/endpoints.js';

export class SliceIndex {
  /** service `ns/name` → slice `ns/name` → slice. */
  private readonly byService = new Map<string, Map<string, EndpointSliceObject>>();
  /** slice `ns/name` → the service it is filed under. */
  private readonly serviceOf = new Map<string, string>();

  /**
   * Applies one informer change; returns the Services whose slices changed (a relabelled slice moves from one
   * Service to another: both are returned).
   */
  apply(kind: 'add' | 'update' | 'delete', slice: EndpointSliceObject): string[] {
    const sliceKey = nsNameOf(slice);
    const before = this.serviceOf.get(sliceKey);
    const after = kind === 'delete' ? undefined : serviceKeyOfSlice(slice);
    if (before !== undefined && before !== after) {
      const slices = this.byService.get(before);
      slices?.delete(sliceKey);
      if (slices?.size === 0) this.byService.delete(before);
      this.serviceOf.delete(sliceKey);
    }
    if (after !== undefined) {
      let slices = this.byService.get(after);
      if (!slices) { slices = new Map(); this.byService.set(after, slices); }
      slices.set(sliceKey, slice);
      this.serviceOf.set(sliceKey, after);
    }
    return [...new Set([before, after].filter((s): s is string => s !== undefined))];
  }

  /** The slices of Service `ns/name` (empty when it has none). */
  slicesOf(service: string): EndpointSliceObject[] {
    return [...(this.byService.get(service)?.values() ?? [])];
  }
}
