/**
 * The memberlist Secret, created at controller start-up as MetalLB v0.11 does (`CreateMlSecret`): when a Secret
 * with that name already exists it is kept whatever its content (e.g. `openssl rand -base64 128` from the v0.11
 * install docs); otherwise 16 random bytes, base64 without padding (Go's RawStdEncoding: 22 characters), under
 * key `secretkey`, owned by the controller Deployment so it is garbage-collected with it.
 * The RBAC allows reading only that name, so existence is checked with a GET by name.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../core/ports.js';
import type { KubeClients } from './client.js';
import { describeApiError, httpStatusOf } from './client.js';

export interface MemberlistSecretOptions {
  readonly namespace: string;
  readonly secretName: string;
  readonly deploymentName: string;
}

export type EnsureSecretResult =
  | { readonly ok: true; readonly created: boolean }
  | { readonly ok: false; readonly error: string };

/** 16 random bytes as unpadded standard base64 (22 characters). */
export function newMemberlistKey(): string {
  return randomBytes(16).toString('base64').replace(/=+$/, '');
}

/** Creates the Secret unless it exists; a failure here is fatal at start-up (exit 1), as in v0.11. */
export async function ensureMemberlistSecret(clients: KubeClients, options: MemberlistSecretOptions, logger: Logger): Promise<EnsureSecretResult> {
  const { namespace, secretName, deploymentName } = options;
  try {
    await clients.core.readNamespacedSecret({ namespace, name: secretName });
    return { ok: true, created: false };
  } catch (err) {
    if (httpStatusOf(err) !== 404) return { ok: false, error: `failed to get secret ${namespace}/${secretName}: ${describeApiError(err)}` };
  }
  let uid: string | undefined;
  try {
    const deployment = await clients.apps.readNamespacedDeployment({ namespace, name: deploymentName });
    uid = deployment.metadata?.uid;
  } catch (err) {
    return { ok: false, error: `failed to get deployment ${namespace}/${deploymentName}: ${describeApiError(err)}` };
  }
  if (!uid) return { ok: false, error: `deployment ${namespace}/${deploymentName} has no uid` };
  try {
    await clients.core.createNamespacedSecret({
      namespace,
      body: {
        apiVersion: 'v1', kind: 'Secret',
        metadata: {
          name: secretName, namespace,
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName, uid }],
        },
        data: { secretkey: Buffer.from(newMemberlistKey()).toString('base64') },
      },
    });
  } catch (err) {
    // Another controller (or a human) created it between our list and create: that one is kept.
    if (httpStatusOf(err) === 409) return { ok: true, created: false };
    return { ok: false, error: `failed to create secret: ${describeApiError(err)}` };
  }
  logger.info({ event: 'createdMemberlistSecret', secret: `${namespace}/${secretName}`, msg: 'created the memberlist secret' });
  return { ok: true, created: true };
}
