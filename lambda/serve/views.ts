/** The API's view of a key: everything a manager may see, never a secret or its hash. */
import { type ApiKeyRecord, keyStatus } from '../keys/key-record';

export function keyView(record: ApiKeyRecord, nowMs: number = Date.now()) {
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
    /** Until when the previous secret still works after a regeneration with grace. */
    previousSecretValidUntil: graceUntil ?? null,
  };
}
