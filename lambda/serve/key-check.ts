/**
 * The per-request decision shared by every authenticated route and `/v1/verify`: verify the key,
 * take one request from its rate limit, check the permission. Synchronous whenever the key record
 * and rate-limit quota are already on this instance, which is the hot path.
 */
import type { VerificationCode } from '../errors';
import type { ApiKeyRecord } from '../keys/key-record';
import { hasPermission } from '../keys/permissions';
import type { RateLimitDecision, RateLimiter } from '../rate-limit/rate-limiter';
import type { KeyVerifier, Verification } from '../verify/key-verifier';

/** `credentialHash` comes with `key`: which of the key's credentials was presented (see Verification). */
export type KeyCheck =
  | { readonly ok: true; readonly key: ApiKeyRecord; readonly credentialHash: string; readonly decision: RateLimitDecision }
  | {
      readonly ok: false;
      readonly code: VerificationCode;
      /** Set when the key was identified (disabled, expired, rate-limited, lacking a permission). */
      readonly key?: ApiKeyRecord;
      readonly credentialHash?: string;
      readonly decision?: RateLimitDecision;
      /** Set when the credential is one the key no longer accepts (see Verification). */
      readonly retiredFrom?: ApiKeyRecord;
    };

export interface KeyCheckDeps {
  readonly verifier: KeyVerifier;
  readonly rateLimiter: RateLimiter;
}

export function checkKey(deps: KeyCheckDeps, presented: string | undefined, permission?: string): KeyCheck | Promise<KeyCheck> {
  const verification = deps.verifier.verify(presented);
  return verification instanceof Promise
    ? verification.then((settled) => limit(deps, settled, permission))
    : limit(deps, verification, permission);
}

function limit(deps: KeyCheckDeps, verification: Verification, permission: string | undefined): KeyCheck | Promise<KeyCheck> {
  if (!verification.ok) return verification;
  const { key, credentialHash } = verification;
  const decision = deps.rateLimiter.consume(key.id, key.rateLimit);
  return decision instanceof Promise
    ? decision.then((settled) => authorize(key, credentialHash, settled, permission))
    : authorize(key, credentialHash, decision, permission);
}

function authorize(key: ApiKeyRecord, credentialHash: string, decision: RateLimitDecision, permission: string | undefined): KeyCheck {
  if (!decision.allowed) return { ok: false, code: 'RATE_LIMIT_EXCEEDED', key, credentialHash, decision };
  if (permission && !hasPermission(key.permissions, permission)) return { ok: false, code: 'INSUFFICIENT_PERMISSIONS', key, credentialHash, decision };
  return { ok: true, key, credentialHash, decision };
}
