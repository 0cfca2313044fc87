/** The provisioner's calls to the key manager and the key store, each failure a KEY_CHANGE_FAILED that names what was being done. */
import type { Logger } from '@aws-lambda-powertools/logger';
import { isKeyrollError } from '../errors';
import type { KeyRef } from '../handout/key-ref';
import type { ApiKeyRecord } from '../keys/key-record';
import type { KeyManager } from '../manage/key-manager';
import { isProvisionError, provisionErrors } from './errors';

/** Revokes a key this declaration no longer uses; one already gone or revoked is fine. */
export async function revokeKey(manager: Pick<KeyManager, 'revoke'>, ref: KeyRef, log: Logger): Promise<void> {
  try {
    await manager.revoke(ref.tenant, ref.keyId);
    log.info('key revoked', { keyId: ref.keyId, keyTenant: ref.tenant });
  } catch (error) {
    if (isKeyrollError(error) && error.code === 'NOT_FOUND') return;
    throw provisionErrors.keyChangeFailed(`Revoking key ${ref.keyId} of tenant \`${ref.tenant}\``, error);
  }
}

/**
 * Keeps a replaced key working until `until` and no longer: it expires then (see
 * superseded-keys.ts), and a later run revokes it. One already gone or revoked is left so.
 */
export async function drainKey(manager: Pick<KeyManager, 'update'>, key: ApiKeyRecord, until: string, referenceRules: readonly string[], log: Logger): Promise<void> {
  try {
    if (!key.expiresAt || Date.parse(key.expiresAt) !== Date.parse(until)) await manager.update(key.tenant, key.id, { expiresAt: until });
    log.info('the replaced key keeps working until reference rules have let go of it from their get_secret cache', { keyId: key.id, until, referenceRules: [...referenceRules] });
  } catch (error) {
    if (isKeyrollError(error) && (error.code === 'NOT_FOUND' || error.code === 'KEY_REVOKED')) return;
    throw provisionErrors.keyChangeFailed(`Keeping replaced key ${key.id} of tenant \`${key.tenant}\` working until ${until}`, error);
  }
}

/** Key manager and store calls, with their failure named. */
export async function keyCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isProvisionError(error)) throw error;
    throw provisionErrors.keyChangeFailed(what, error);
  }
}
