/**
 * Pure state changes of a key: create, update, regenerate, revoke, and the credential steps of a
 * rotation (add a pending credential, promote it, drop it, retire a grace credential). Each takes
 * the clock as a value and returns a new record (or throws a KeyrollError), so the rules are
 * testable without I/O. The rotation steps return the record itself, unchanged, when a retry finds
 * its work already done: the caller then writes nothing.
 */
import { errors } from '../errors';
import { ENVIRONMENT_TAGS } from './environments';
import { displayStart, parseKey, randomBase62 } from './key-format';
import type { CreateKeyInput, UpdateKeyInput } from './key-input';
import { type ApiKeyRecord, DEFAULT_RATE_LIMIT, type DeclaredKey, type GraceCredential } from './key-record';
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

/** What only internal callers set on a new key, never the HTTP API. */
export interface CreateRecordOptions {
  /** The declared spec the key is issued for (the provisioner). @default not declared */
  readonly declared?: DeclaredKey;
}

export function createRecord(
  tenant: string,
  input: CreateKeyInput,
  key: string,
  now: Date,
  id: string = newKeyId(),
  options: CreateRecordOptions = {},
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
    ...(options.declared ? { declared: declaredOf(options.declared) } : {}),
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
  // The rotation's cutover would push this new credential into grace behind the pending one.
  if (record.pendingCredential) throw errors.rotationInProgress(record.id, pendingDetail(record.pendingCredential));
  const at = now.toISOString();
  const stillInGrace = graceStillValid(record, at);
  if (graceSeconds > 0 && stillInGrace.length >= MAX_GRACE_CREDENTIALS) {
    throw errors.graceLimit(record.id, MAX_GRACE_CREDENTIALS, firstGraceEnd(stillInGrace));
  }
  const retiring: GraceCredential[] =
    graceSeconds > 0
      ? [{ hash: record.credentialHash, validUntil: new Date(now.getTime() + graceSeconds * 1000).toISOString(), start: record.start }]
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

/** Revocation is permanent and immediate: every credential, including those pending or in grace, stops working. */
export function revoke(record: ApiKeyRecord, now: Date): ApiKeyRecord {
  assertNotRevoked(record);
  const at = now.toISOString();
  const { pendingCredential: _dropped, ...rest } = record;
  return { ...rest, enabled: false, graceCredentials: [], revokedAt: at, updatedAt: at, version: record.version + 1 };
}

/** Only the declaration's own fields, whatever object carried them. */
function declaredOf(declared: DeclaredKey): DeclaredKey {
  return { secretArn: declared.secretArn, name: declared.name, ...(declared.consumers !== undefined ? { consumers: declared.consumers } : {}) };
}

/** Records the declared spec of a key issued before keys carried it (or whose secret was replaced). */
export function markDeclared(record: ApiKeyRecord, declared: DeclaredKey, now: Date): ApiKeyRecord {
  assertNotRevoked(record);
  if (record.declared?.secretArn === declared.secretArn && record.declared.name === declared.name && record.declared.consumers === declared.consumers) return record;
  return { ...record, declared: declaredOf(declared), updatedAt: now.toISOString(), version: record.version + 1 };
}

/**
 * setSecret: `credential` opens the key beside the current one until the rotation `rotationToken`
 * promotes or drops it. A retry with the same token and credential changes nothing; another
 * rotation's pending credential is refused (ROTATION_IN_PROGRESS), as is a full grace list: the
 * cutover must have room to keep the current credential working.
 */
export function addPendingCredential(record: ApiKeyRecord, credential: string, rotationToken: string, now: Date): ApiKeyRecord {
  assertNotRevoked(record);
  const parsed = parseKey(credential);
  if (!parsed || parsed.environment !== record.environment) {
    throw errors.validation('credential', `is not a well-formed ${record.environment} key`, `Generate it with generateKey('${record.environment}').`);
  }
  const hash = hashCredential(credential);
  const pending = record.pendingCredential;
  if (pending?.rotationToken === rotationToken) {
    if (pending.hash === hash) return record;
    throw errors.credentialConflict(record.id, `rotation \`${rotationToken}\` already added another pending credential (${pending.start}…)`);
  }
  // A retry that arrives after its own cutover: the work is done.
  if (record.lastRotationToken === rotationToken && record.credentialHash === hash) return record;
  if (pending) throw errors.rotationInProgress(record.id, pendingDetail(pending));
  if (record.credentialHash === hash || record.graceCredentials.some((grace) => grace.hash === hash)) {
    throw errors.credentialConflict(record.id, 'it is already one of the key\'s credentials');
  }
  const at = now.toISOString();
  const stillInGrace = graceStillValid(record, at);
  if (stillInGrace.length >= MAX_GRACE_CREDENTIALS) throw errors.graceLimitForRotation(record.id, MAX_GRACE_CREDENTIALS, firstGraceEnd(stillInGrace));
  return {
    ...record,
    pendingCredential: { hash, start: parsed.start, createdAt: at, rotationToken },
    updatedAt: at,
    version: record.version + 1,
  };
}

/**
 * finishSecret (the cutover): the pending credential of `rotationToken` becomes current, and the
 * current one stays in grace until `graceUntil` (none if that is not after `now`). A retry after
 * the cutover changes nothing; a token with no pending credential (never added, or dropped by a
 * repair) is NO_PENDING_CREDENTIAL.
 */
export function promotePendingCredential(record: ApiKeyRecord, rotationToken: string, graceUntil: Date | string, now: Date): ApiKeyRecord {
  const pending = record.pendingCredential;
  if (pending?.rotationToken !== rotationToken) {
    if (record.lastRotationToken === rotationToken && !record.revokedAt) return record;
    assertNotRevoked(record);
    throw errors.noPendingCredential(record.id, rotationToken);
  }
  const until = new Date(graceUntil);
  if (Number.isNaN(until.getTime())) throw errors.validation('graceUntil', 'is not a date', 'Give an ISO-8601 date-time or a Date.');
  const at = now.toISOString();
  const stillInGrace = graceStillValid(record, at);
  const keepsGrace = until.getTime() > now.getTime();
  // addPendingCredential left room; only a grace added since (nothing adds one now) could take it.
  if (keepsGrace && stillInGrace.length >= MAX_GRACE_CREDENTIALS) {
    throw errors.graceLimitForRotation(record.id, MAX_GRACE_CREDENTIALS, firstGraceEnd(stillInGrace));
  }
  const { pendingCredential: _promoted, ...rest } = record;
  const retiring: GraceCredential[] = keepsGrace ? [{ hash: record.credentialHash, validUntil: until.toISOString(), start: record.start }] : [];
  return {
    ...rest,
    start: pending.start,
    credentialHash: pending.hash,
    graceCredentials: [...stillInGrace, ...retiring],
    lastRotationToken: rotationToken,
    updatedAt: at,
    version: record.version + 1,
  };
}

/** Repair of a failed rotation: its pending credential stops opening the key. Otherwise a no-op. */
export function dropPendingCredential(record: ApiKeyRecord, rotationToken: string, now: Date): ApiKeyRecord {
  if (record.pendingCredential?.rotationToken !== rotationToken) return record;
  const { pendingCredential: _dropped, ...rest } = record;
  return { ...rest, updatedAt: now.toISOString(), version: record.version + 1 };
}

/** The sweep: the grace credential with this hash stops opening the key before its grace ends. A no-op when it is not in grace. */
export function retireGraceCredential(record: ApiKeyRecord, credentialHash: string, now: Date): ApiKeyRecord {
  if (!record.graceCredentials.some((grace) => grace.hash === credentialHash)) return record;
  return {
    ...record,
    graceCredentials: record.graceCredentials.filter((grace) => grace.hash !== credentialHash),
    updatedAt: now.toISOString(),
    version: record.version + 1,
  };
}

function graceStillValid(record: ApiKeyRecord, at: string): GraceCredential[] {
  return record.graceCredentials.filter((grace) => grace.validUntil > at);
}

function firstGraceEnd(graces: readonly GraceCredential[]): string {
  return graces.map((grace) => grace.validUntil).sort()[0];
}

function pendingDetail(pending: { start: string; rotationToken: string; createdAt: string }): string {
  return `pending credential ${pending.start}… of version \`${pending.rotationToken}\`, since ${pending.createdAt}`;
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
