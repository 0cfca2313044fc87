/**
 * The audit log's domain: what an entry holds, who may see it, and how one is built from a key
 * change, as pure functions. Nothing here does I/O; the store is the AuditLog port
 * (lambda/store/dynamodb-audit-log.ts), and AuditRecorder writes without failing the action.
 *
 * An entry never holds a credential or its hash: changes are taken only from AUDITED_FIELDS, and
 * every string in an entry goes through redactKeys, so a key pasted into a name, a tag or a user
 * agent is masked to its display prefix.
 */
import { isIP } from 'node:net';
import type { Environment } from '../keys/environments';
import { randomBase62, redactKeys } from '../keys/key-format';
import type { ApiKeyRecord } from '../keys/key-record';

export const AUDIT_ACTIONS = [
  'create',
  'update',
  'disable',
  'enable',
  'regenerate',
  'revoke',
  /** createSecret stored a new credential in the key's secret. */
  'rotation.started',
  /** finishSecret (or the sweep finishing it) made the new credential current; the old one is in grace. */
  'rotation.cutover',
  /** The sweep (or an emergency finishSecret) retired the old credential. */
  'rotation.retired',
  /** A rotation step failed, or the sweep repaired a stuck or abandoned rotation. */
  'rotation.failed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who did it: a key (through the API), a deploy (the provisioner) or the rotation. */
export type AuditActor = { readonly type: 'key'; readonly keyId: string } | { readonly type: 'deploy' } | { readonly type: 'rotation' };
export const DEPLOY_ACTOR: AuditActor = { type: 'deploy' };
export const ROTATION_ACTOR: AuditActor = { type: 'rotation' };

/** The only fields an entry shows changes of: a key's configuration, never its credentials. */
export const AUDITED_FIELDS = ['name', 'permissions', 'rateLimit', 'enabled', 'expiresAt', 'tags'] as const;
export type AuditedField = (typeof AUDITED_FIELDS)[number];
/** `from` is null on create, and for a field that was unset (e.g. no expiry). */
export interface FieldChange {
  readonly from: unknown;
  readonly to: unknown;
}
export type AuditChanges = Partial<Record<AuditedField, FieldChange>>;

export interface AuditEntry {
  /** `aud_` + 20 base62 characters. */
  readonly id: string;
  /** ISO-8601. */
  readonly at: string;
  readonly tenant: string;
  readonly keyId: string;
  readonly action: AuditAction;
  readonly actor: AuditActor;
  readonly changes?: AuditChanges;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  readonly detail?: string;
}

/** Whom an entry is visible to: the environment and customer of its key (neither ever changes). */
export interface AuditTarget {
  readonly environment: Environment;
  readonly customerId?: string;
}

/** Where a request came from, for entries made through the API. */
export interface RequestOrigin {
  readonly sourceIp?: string;
  readonly userAgent?: string;
}

export interface AuditQuery {
  /** Only this key's entries (one Query on its own partition). */
  readonly keyId?: string;
  readonly limit: number;
  /** Continue after this position (the previous page's `next`). */
  readonly after?: string;
  /** Entries the reader may see; the others are skipped. @default all */
  readonly visible?: (target: AuditTarget) => boolean;
}

export interface AuditPage {
  readonly entries: AuditEntry[];
  /** Where the next page starts, when there may be one. May come with fewer than `limit` entries. */
  readonly next?: string;
}

/** The audit log's store. */
export interface AuditLog {
  /** Stores the entry in both views (tenant and key). Idempotent: the same entry written twice is one entry. */
  append(entry: AuditEntry, target: AuditTarget): Promise<void>;
  /** Newest first. */
  list(tenant: string, query: AuditQuery): Promise<AuditPage>;
}

/** Entries are kept this long, then DynamoDB's TTL removes them. */
export const AUDIT_RETENTION_DAYS = 400;

const ENTRY_ID = /^aud_[0-9A-Za-z]{20}$/;
const MAX_USER_AGENT = 512;
const MAX_DETAIL = 1000;

export function newAuditEntryId(): string {
  return `aud_${randomBase62(20)}`;
}

export function isAuditEntryId(value: string): boolean {
  return ENTRY_ID.test(value);
}

export interface EntryInput {
  readonly tenant: string;
  readonly keyId: string;
  readonly action: AuditAction;
  readonly actor: AuditActor;
  readonly changes?: AuditChanges;
  readonly origin?: RequestOrigin;
  readonly detail?: string;
}

/**
 * Builds an entry, redacted: every string (changes included) through redactKeys, the user agent
 * and detail cut to a bounded length, a source IP kept only if it is an IP address.
 */
export function auditEntry(input: EntryInput, now: Date, id: string = newAuditEntryId()): AuditEntry {
  const changes = input.changes && Object.keys(input.changes).length > 0 ? (redactDeep(pickAudited(input.changes)) as AuditChanges) : undefined;
  const sourceIp = input.origin?.sourceIp && isIP(input.origin.sourceIp) ? input.origin.sourceIp : undefined;
  const userAgent = input.origin?.userAgent ? cut(redactKeys(input.origin.userAgent), MAX_USER_AGENT) : undefined;
  const detail = input.detail ? cut(redactKeys(input.detail), MAX_DETAIL) : undefined;
  return {
    id,
    at: now.toISOString(),
    tenant: redactKeys(input.tenant),
    keyId: redactKeys(input.keyId),
    action: input.action,
    actor: input.actor.type === 'key' ? { type: 'key', keyId: redactKeys(input.actor.keyId) } : { type: input.actor.type },
    ...(changes ? { changes } : {}),
    ...(sourceIp ? { sourceIp } : {}),
    ...(userAgent ? { userAgent } : {}),
    ...(detail ? { detail } : {}),
  };
}

/** The audited fields that differ between two versions of a key; on create (`before` absent) every one set. */
export function keyChanges(before: ApiKeyRecord | undefined, after: ApiKeyRecord): AuditChanges {
  const changes: Record<string, FieldChange> = {};
  for (const field of AUDITED_FIELDS) {
    const from = before ? (before[field] ?? null) : null;
    const to = after[field] ?? null;
    if (!before && to === null) continue;
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[field] = { from, to };
  }
  return changes;
}

/**
 * The management action a change of a key record is, or undefined when it is none (a change only
 * keyroll makes, like marking a key declared, or steps of a rotation, which rotation entries cover).
 */
export function keyChangeAction(before: ApiKeyRecord | undefined, after: ApiKeyRecord): AuditAction | undefined {
  if (!before) return 'create';
  if (after.revokedAt && !before.revokedAt) return 'revoke';
  if (after.revokedAt) return undefined;
  // A promotion moves lastRotationToken: that is a rotation's cutover, not a regeneration.
  if (after.credentialHash !== before.credentialHash && after.lastRotationToken === before.lastRotationToken) return 'regenerate';
  if (after.enabled !== before.enabled) return after.enabled ? 'enable' : 'disable';
  return Object.keys(keyChanges(before, after)).length > 0 ? 'update' : undefined;
}

/** The entry for a change of a key, or undefined when the change is no management action. */
export function keyChangeEntry(
  change: { readonly before?: ApiKeyRecord; readonly after: ApiKeyRecord; readonly actor: AuditActor; readonly origin?: RequestOrigin; readonly detail?: string },
  now: Date,
): { entry: AuditEntry; target: AuditTarget } | undefined {
  const { before, after } = change;
  const action = keyChangeAction(before, after);
  if (!action) return undefined;
  // A revocation changes `enabled` too; the action says all there is.
  const changes = action === 'revoke' || action === 'regenerate' ? undefined : keyChanges(before, after);
  const entry = auditEntry(
    { tenant: after.tenant, keyId: after.id, action, actor: change.actor, ...(changes ? { changes } : {}), ...(change.origin ? { origin: change.origin } : {}), ...(change.detail ? { detail: change.detail } : {}) },
    now,
  );
  return { entry, target: targetOf(after) };
}

export function targetOf(record: Pick<ApiKeyRecord, 'environment' | 'customerId'>): AuditTarget {
  return { environment: record.environment, ...(record.customerId ? { customerId: record.customerId } : {}) };
}

function pickAudited(changes: AuditChanges): AuditChanges {
  const picked: Record<string, FieldChange> = {};
  for (const field of AUDITED_FIELDS) {
    const change = changes[field];
    if (change) picked[field] = { from: change.from ?? null, to: change.to ?? null };
  }
  return picked;
}

function redactDeep(value: unknown): unknown {
  if (typeof value === 'string') return redactKeys(value);
  if (Array.isArray(value)) return value.map(redactDeep);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)]));
  return value;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
