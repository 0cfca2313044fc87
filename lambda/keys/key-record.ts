/** The stored shape of an API key, and the status derived from it. */
import type { Environment } from './environments';

export interface RateLimit {
  /** Requests allowed per window. */
  readonly limit: number;
  readonly windowSeconds: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { limit: 6000, windowSeconds: 60 };

/** A credential replaced by regeneration or rotation that keeps working until `validUntil` (the grace). */
export interface GraceCredential {
  readonly hash: string;
  readonly validUntil: string;
  /** Display prefix, for the API's list of credentials; absent on credentials replaced before keyroll kept it. */
  readonly start?: string;
}

/**
 * The credential of a rotation under way: it opens the key like the current one (so consumers can
 * be moved to it before the cutover) until the rotation promotes or drops it.
 */
export interface PendingCredential {
  readonly hash: string;
  readonly start: string;
  readonly createdAt: string;
  /** The rotation's Secrets Manager ClientRequestToken (the new secret version's id). */
  readonly rotationToken: string;
}

/** The declared spec a key was issued for, and the Secrets Manager secret that holds its credential. */
export interface DeclaredKey {
  readonly secretArn: string;
  /** The spec's name (`keyroll/<tenant>/<name>` is the secret). */
  readonly name: string;
  /**
   * How many consumers the spec declares (reference rules included). A key with consumers is
   * rotated when regenerated, so none is left holding a dead credential.
   * @default unknown (keys declared before it was recorded): treated as having consumers
   */
  readonly consumers?: number;
}

export interface ApiKeyRecord {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  readonly environment: Environment;
  readonly permissions: readonly string[];
  readonly customerId?: string;
  readonly rateLimit: RateLimit;
  /** ISO-8601; absent when the key never expires. */
  readonly expiresAt?: string;
  readonly enabled: boolean;
  readonly tags: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly lastUsedAt?: string;
  readonly requestCount: number;
  readonly errorCount: number;
  readonly revokedAt?: string;
  /** Display prefix of the current credential, e.g. `kr_live_Ab3d`. */
  readonly start: string;
  /** SHA-256 of the current credential. */
  readonly credentialHash: string;
  readonly graceCredentials: readonly GraceCredential[];
  /** At most one, while a rotation is under way. */
  readonly pendingCredential?: PendingCredential;
  /** The token of the last rotation promoted: tells a retried promotion from one never registered. */
  readonly lastRotationToken?: string;
  /**
   * Set by internal callers (the provisioner) on keys issued for a declared spec, never through the
   * HTTP API: regenerating such a key starts a rotation of its secret instead.
   */
  readonly declared?: DeclaredKey;
  /** Bumped by every configuration or credential change; guards conditional writes. */
  readonly version: number;
}

export type KeyStatus = 'active' | 'inactive' | 'expired' | 'revoked';

/** Revoked beats everything (permanent), then expired, then disabled. */
export function keyStatus(key: ApiKeyRecord, nowMs: number): KeyStatus {
  if (key.revokedAt) return 'revoked';
  if (key.expiresAt && Date.parse(key.expiresAt) <= nowMs) return 'expired';
  if (!key.enabled) return 'inactive';
  return 'active';
}

/** Whether a credential with this hash currently opens the key: the current one, the pending one, or one still in grace. */
export function acceptsCredential(key: ApiKeyRecord, credentialHash: string, nowMs: number): boolean {
  if (key.credentialHash === credentialHash || key.pendingCredential?.hash === credentialHash) return true;
  return key.graceCredentials.some((grace) => grace.hash === credentialHash && Date.parse(grace.validUntil) > nowMs);
}
