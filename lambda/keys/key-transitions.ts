/**
 * Pure state changes of a key: create, update, regenerate, revoke. Each takes the clock as a value
 * and returns a new record (or throws a KeyrollError), so the rules are testable without I/O.
 */
import { errors } from '../errors';
import { ENVIRONMENT_TAGS } from './environments';
import { displayStart, randomBase62 } from './key-format';
import type { CreateKeyInput, UpdateKeyInput } from './key-input';
import { type ApiKeyRecord, DEFAULT_RATE_LIMIT, type GraceCredential } from './key-record';
import { hashCredential } from './credential-hash';

/**
 * Previous credentials a key keeps in grace at once. Bounds the record (DynamoDB items stop at 400 KB)
 * and how many credentials can open one key; a regeneration with grace beyond it is refused, never
 * silently cutting short a grace someone relies on.
 */
export const MAX_GRACE_CREDENTIALS = 3;

export function newKeyId(): string {
  return `key_${randomBase62(20)}`;
}

export function createRecord(
  tenant: string,
  input: CreateKeyInput,
  key: string,
  now: Date,
  id: string = newKeyId(),
): ApiKeyRecord {
  assertFutureExpiry(input.expiresAt, now);
  const at = now.toISOString();
  return {
    id,
    tenant,
    name: input.name,
    environment: input.environment,
    permissions: [...input.permissions],
    ...(input.customerId ? { customerId: input.customerId } : {}),
    rateLimit: input.rateLimit ?? DEFAULT_RATE_LIMIT,
    ...(input.expiresAt ? { expiresAt: new Date(input.expiresAt).toISOString() } : {}),
    enabled: true,
    tags: [...(input.tags ?? [])],
    createdAt: at,
    updatedAt: at,
    requestCount: 0,
    errorCount: 0,
    start: displayStart(key),
    credentialHash: hashCredential(key),
    graceCredentials: [],
    version: 1,
  };
}

export function applyUpdate(record: ApiKeyRecord, input: UpdateKeyInput, now: Date): ApiKeyRecord {
  assertNotRevoked(record);
  if (input.expiresAt) assertFutureExpiry(input.expiresAt, now);
  const { expiresAt, ...rest } = input;
  const next: ApiKeyRecord = {
    ...record,
    ...stripUndefined(rest),
    updatedAt: now.toISOString(),
    version: record.version + 1,
  };
  if (expiresAt === null) {
    const { expiresAt: _removed, ...withoutExpiry } = next;
    return withoutExpiry;
  }
  return expiresAt === undefined ? next : { ...next, expiresAt: new Date(expiresAt).toISOString() };
}

/**
 * Replaces the key's credential with `newKey`. The old credential stays valid for `graceSeconds`
 * (0 = stops at once); credentials whose grace has already run out are dropped.
 */
export function regenerateCredential(record: ApiKeyRecord, newKey: string, graceSeconds: number, now: Date): ApiKeyRecord {
  assertNotRevoked(record);
  if (!newKey.startsWith(`kr_${ENVIRONMENT_TAGS[record.environment]}_`)) {
    throw new Error(`regenerateCredential: new key is not a ${record.environment} key`);
  }
  const at = now.toISOString();
  const stillInGrace = record.graceCredentials.filter((grace) => grace.validUntil > at);
  if (graceSeconds > 0 && stillInGrace.length >= MAX_GRACE_CREDENTIALS) {
    throw errors.graceLimit(record.id, MAX_GRACE_CREDENTIALS, stillInGrace.map((grace) => grace.validUntil).sort()[0]);
  }
  const retiring: GraceCredential[] =
    graceSeconds > 0
      ? [{ hash: record.credentialHash, validUntil: new Date(now.getTime() + graceSeconds * 1000).toISOString() }]
      : [];
  return {
    ...record,
    start: displayStart(newKey),
    credentialHash: hashCredential(newKey),
    graceCredentials: [...stillInGrace, ...retiring],
    updatedAt: at,
    version: record.version + 1,
  };
}

/** Revocation is permanent and immediate: every credential, including those in grace, stops working. */
export function revoke(record: ApiKeyRecord, now: Date): ApiKeyRecord {
  assertNotRevoked(record);
  const at = now.toISOString();
  return { ...record, enabled: false, graceCredentials: [], revokedAt: at, updatedAt: at, version: record.version + 1 };
}

function assertNotRevoked(record: ApiKeyRecord): void {
  if (record.revokedAt) throw errors.keyRevoked(record.id);
}

function assertFutureExpiry(expiresAt: string | undefined, now: Date): void {
  if (expiresAt && Date.parse(expiresAt) <= now.getTime()) {
    throw errors.validation('expiresAt', 'is in the past', 'Give a future ISO-8601 date-time, or omit it for a key that never expires.');
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
