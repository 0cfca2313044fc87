/**
 * What the provisioner must do to make a declared key real, decided from the spec, the secret and
 * the key record alone. Pure, so every case is testable without AWS.
 */
import type { UpdateKeyInput } from '../keys/key-input';
import { type ApiKeyRecord, acceptsCredential } from '../keys/key-record';
import { hashCredential } from '../keys/credential-hash';
import { consumerId, uniqueConsumers } from '../handout/consumers/consumer-ref';
import type { ConsumerRef } from '../handout/consumers/consumer-writer';
import { isProvisioned, type KeyRef } from '../handout/key-ref';
import type { KeySecretValue, KeySpec } from './key-spec';

/**
 * Why there is no key to keep, so a new one is issued. `key-not-provisioned`: the secret names a key
 * the provisioner's record does not say it issued for this declaration (the secret was reused or
 * edited); that key is left alone.
 */
export type IssueReason = 'secret-empty' | 'key-not-provisioned' | 'key-not-found' | 'key-revoked';
/** What changed that a key cannot change in place, so a replacement is issued and the old key revoked. */
export type ReplaceReason = 'tenant-changed' | 'environment-changed' | 'customer-changed';

export type KeyPlan =
  /** The secret's key stays: same id, same plaintext; `changes` is its configuration drift, if any. */
  | { readonly kind: 'keep'; readonly key: ApiKeyRecord; readonly apiKey: string; readonly changes?: UpdateKeyInput }
  /** The key stays but the secret no longer opens it (regenerated elsewhere): it gets a new secret. */
  | { readonly kind: 'regenerate'; readonly key: ApiKeyRecord; readonly changes?: UpdateKeyInput }
  | { readonly kind: 'issue'; readonly reason: IssueReason }
  | { readonly kind: 'replace'; readonly reason: ReplaceReason; readonly previous: ApiKeyRecord; readonly previousApiKey: string };

export interface KeyFound {
  /** What the key's secret holds, if anything. */
  readonly secret?: KeySecretValue;
  /** The record the secret's keyId names, if it exists (read only for a key in `provisioned`). */
  readonly key?: ApiKeyRecord;
  /** The keys the provisioner's own records say it issued for this declaration (current and pending). */
  readonly provisioned: readonly KeyRef[];
}

export interface PlanOptions {
  readonly nowMs: number;
}

/**
 * Keeps the key the secret holds whenever it can, because consumers already have it, but only a key
 * the provisioner itself issued for this declaration: the secret says which key it holds, and the
 * secret is no proof of ownership.
 */
export function planKey(spec: KeySpec, found: KeyFound, options: PlanOptions): KeyPlan {
  const { secret, key } = found;
  if (!secret) return { kind: 'issue', reason: 'secret-empty' };
  if (!isProvisioned(secretRef(secret), found.provisioned)) return { kind: 'issue', reason: 'key-not-provisioned' };
  if (!key) return { kind: 'issue', reason: 'key-not-found' };
  if (key.revokedAt) return { kind: 'issue', reason: 'key-revoked' };
  const immutable = immutableChange(spec, key);
  if (immutable) return { kind: 'replace', reason: immutable, previous: key, previousApiKey: secret.apiKey };
  const changes = configurationChanges(spec, key);
  if (!acceptsCredential(key, hashCredential(secret.apiKey), options.nowMs)) return { kind: 'regenerate', key, ...(changes ? { changes } : {}) };
  return { kind: 'keep', key, apiKey: secret.apiKey, ...(changes ? { changes } : {}) };
}

/** The key a secret names. */
export function secretRef(secret: KeySecretValue): KeyRef {
  return { tenant: secret.tenant, keyId: secret.keyId };
}

/** What a key cannot change in place. */
export function immutableChange(spec: KeySpec, key: ApiKeyRecord): ReplaceReason | undefined {
  if (key.tenant !== spec.tenant) return 'tenant-changed';
  if (key.environment !== spec.environment) return 'environment-changed';
  if ((key.customerId ?? undefined) !== (spec.customerId ?? undefined)) return 'customer-changed';
  return undefined;
}

/**
 * The update that makes the key's configuration match the spec, or undefined when it already does.
 * `enabled` is never part of it: a key a human disabled through the API stays disabled.
 */
export function configurationChanges(spec: KeySpec, key: ApiKeyRecord): UpdateKeyInput | undefined {
  const changes: { -readonly [K in keyof UpdateKeyInput]: UpdateKeyInput[K] } = {};
  if (key.name !== spec.name) changes.name = spec.name;
  if (!sameList(key.permissions, spec.permissions)) changes.permissions = [...spec.permissions];
  if (key.rateLimit.limit !== spec.rateLimit.limit || key.rateLimit.windowSeconds !== spec.rateLimit.windowSeconds) {
    changes.rateLimit = { ...spec.rateLimit };
  }
  if (!sameInstant(key.expiresAt, spec.expiresAt)) changes.expiresAt = spec.expiresAt ?? null;
  if (!sameList(key.tags, spec.tags)) changes.tags = [...spec.tags];
  return Object.keys(changes).length > 0 ? changes : undefined;
}

/** Consumers an earlier apply wrote the key into that the spec no longer declares, each once. */
export function staleConsumers(previous: readonly ConsumerRef[] | undefined, spec: KeySpec): ConsumerRef[] {
  const declared = new Set(spec.consumers.map(consumerId));
  return uniqueConsumers(previous ?? []).filter((consumer) => !declared.has(consumerId(consumer)));
}

/** Order matters for permissions and tags as the API returns them, so order is compared too. */
function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** The record keeps expiry normalised to UTC; the spec may give any offset. */
function sameInstant(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Date.parse(a) === Date.parse(b);
}
