/** The API's view of a key: everything a manager may see, never a credential or its hash. */
import { keyCredentials } from '../keys/key-credentials';
import { type ApiKeyRecord, keyStatus } from '../keys/key-record';

/**
 * @param credentialLastUsed each credential's last use, by hash (`credentialHashes` says which to
 * read). Only the view of one key reads them; without it, `credentials[]` carry no `lastUsedAt`,
 * so lists and the answers to changes cost no read per credential.
 */
export function keyView(record: ApiKeyRecord, nowMs: number = Date.now(), credentialLastUsed?: ReadonlyMap<string, string>) {
  const graceUntil = record.graceCredentials
    .map((grace) => grace.validUntil)
    .filter((until) => Date.parse(until) > nowMs)
    .sort()
    .at(-1);
  return {
    id: record.id,
    tenant: record.tenant,
    name: record.name,
    environment: record.environment,
    status: keyStatus(record, nowMs),
    enabled: record.enabled,
    permissions: record.permissions,
    customerId: record.customerId ?? null,
    rateLimit: record.rateLimit,
    expiresAt: record.expiresAt ?? null,
    tags: record.tags,
    start: record.start,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    lastUsedAt: record.lastUsedAt ?? null,
    requestCount: record.requestCount,
    errorCount: record.errorCount,
    revokedAt: record.revokedAt ?? null,
    /** Until when the previous credential still works after a regeneration with grace. */
    previousCredentialValidUntil: graceUntil ?? null,
    /** The same, under its name from before credentials had one word. @deprecated use previousCredentialValidUntil */
    previousSecretValidUntil: graceUntil ?? null,
    /** The credentials that open the key now: current, pending (during a rotation), in grace. */
    credentials: keyCredentials(record, nowMs).map((credential) => ({
      start: credential.start ?? null,
      state: credential.state,
      ...(credential.validUntil ? { validUntil: credential.validUntil } : {}),
      ...(credentialLastUsed?.get(credential.hash) ? { lastUsedAt: credentialLastUsed.get(credential.hash) } : {}),
    })),
    /** Set for keys declared as code: regenerating them starts a rotation of this secret. */
    declared: record.declared
      ? { name: record.declared.name, secretArn: record.declared.secretArn, ...(record.declared.consumers !== undefined ? { consumers: record.declared.consumers } : {}) }
      : null,
  };
}

/** The hashes whose last use the view of one key shows. */
export function credentialHashes(record: ApiKeyRecord, nowMs: number): string[] {
  return keyCredentials(record, nowMs).map((credential) => credential.hash);
}
