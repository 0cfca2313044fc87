/** The stored shape of an API key, and the status derived from it. */
import type { Environment } from './environments';

export interface RateLimit {
  /** Requests allowed per window. */
  readonly limit: number;
  readonly windowSeconds: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { limit: 6000, windowSeconds: 60 };

/** A credential replaced by regeneration that keeps working until `validUntil` (the grace). */
export interface GraceCredential {
  readonly hash: string;
  readonly validUntil: string;
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
  /** Bumped by every configuration or secret change; guards conditional writes. */
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

/** Whether a credential with this hash currently opens the key: the current one, or one still in grace. */
export function acceptsCredential(key: ApiKeyRecord, credentialHash: string, nowMs: number): boolean {
  if (key.credentialHash === credentialHash) return true;
  return key.graceCredentials.some((grace) => grace.hash === credentialHash && Date.parse(grace.validUntil) > nowMs);
}
