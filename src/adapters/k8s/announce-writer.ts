/**
 * Writes a speaker's announce annotation (src/core/speaker/announce-annotation.ts) with a JSON merge patch of
 * `metadata.annotations` on the Service (RBAC: `services` `patch`, narrowed by the ValidatingAdmissionPolicy
 * `metallb-speaker-announce-only` of manifests/metallb.yaml to annotations under announce.metallb.universe.tf/).
 * A merge patch touches only the keys it names and carries no resourceVersion, so it can neither overwrite
 * the controller's status (a write to the main resource never changes status) nor another node's key, and it
 * never conflicts. fieldManager `metallb-speaker-<node>` makes each node's key visible in managedFields.
 */
import type { AnnotationPatch } from '../../core/speaker/announce-annotation.js';
import type { KubeClients } from './client.js';
import { describeApiError, httpStatusOf } from './client.js';

export type AnnounceWriteResult =
  | { readonly ok: true }
  /** `gone`: the Service no longer exists (404), nothing to retry. */
  | { readonly ok: false; readonly gone: boolean; readonly error: string };

export type AnnounceWriter = (namespace: string, name: string, patch: AnnotationPatch) => Promise<AnnounceWriteResult>;

/** fieldManager of one node's speaker (at most 128 characters, as the apiserver requires). */
export function speakerFieldManager(node: string): string {
  return `metallb-speaker-${node}`.slice(0, 128);
}

export function createAnnounceWriter(clients: KubeClients, node: string): AnnounceWriter {
  const mergePatch = clients.k8s.setHeaderOptions('Content-Type', clients.k8s.PatchStrategy.MergePatch);
  const fieldManager = speakerFieldManager(node);
  return async (namespace, name, patch) => {
    try {
      await clients.core.patchNamespacedService({ namespace, name, fieldManager, body: { metadata: { annotations: patch } } }, mergePatch);
      return { ok: true };
    } catch (err) {
      const status = httpStatusOf(err);
      return { ok: false, gone: status === 404, error: describeApiError(err) };
    }
  };
}

/**
 * Writes annotations on the speaker's own Pod with a JSON merge patch (RBAC: `pods` `patch` in the speaker's
 * namespace, Role pod-lister, narrowed by the same admission policy to memberlist.metallb.universe.tf/ keys):
 * the speakers its membership has alive (src/core/speaker/members-annotation.ts).
 */
export function createPodAnnotationWriter(clients: KubeClients, node: string): AnnounceWriter {
  const mergePatch = clients.k8s.setHeaderOptions('Content-Type', clients.k8s.PatchStrategy.MergePatch);
  const fieldManager = speakerFieldManager(node);
  return async (namespace, name, patch) => {
    try {
      await clients.core.patchNamespacedPod({ namespace, name, fieldManager, body: { metadata: { annotations: patch } } }, mergePatch);
      return { ok: true };
    } catch (err) {
      const status = httpStatusOf(err);
      return { ok: false, gone: status === 404, error: describeApiError(err) };
    }
  };
}
