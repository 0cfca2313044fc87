/**
 * Request authentication: find the presented key, verify it, take one request from its rate limit,
 * check the permission the route needs, and count the request (and whether it failed) for usage.
 */
import type { MiddlewareHandler } from 'hono';
import { errors } from '../errors';
import { hasPermission } from '../keys/permissions';
import type { RateLimiter } from '../rate-limit/rate-limiter';
import type { UsageRecorder } from '../usage/usage-recorder';
import type { KeyVerifier } from '../verify/key-verifier';
import type { ServeEnv } from './context';
import { headerReader, presentedKey } from './presented-key';

export interface AuthDeps {
  readonly verifier: KeyVerifier;
  readonly rateLimiter: RateLimiter;
  readonly usage: UsageRecorder;
  readonly extraKeyHeaders: readonly string[];
}

export function authenticate(deps: AuthDeps, permission?: string): MiddlewareHandler<ServeEnv> {
  return async (c, next) => {
    const pendingVerification = deps.verifier.verify(presentedKey(headerReader(c), deps.extraKeyHeaders));
    const verification = pendingVerification instanceof Promise ? await pendingVerification : pendingVerification;
    if (!verification.ok) {
      // A known key that is disabled or expired still counts as used, and as an error.
      if (verification.key) deps.usage.record(verification.key.tenant, verification.key.id, true);
      throw errors.verification(verification.code);
    }
    const key = verification.key;
    const pendingDecision = deps.rateLimiter.consume(key.id, key.rateLimit);
    const decision = pendingDecision instanceof Promise ? await pendingDecision : pendingDecision;
    c.set('rateLimit', decision);
    c.set('key', key);
    let failed = true;
    try {
      if (!decision.allowed) throw errors.verification('RATE_LIMIT_EXCEEDED');
      if (permission && !hasPermission(key.permissions, permission)) throw errors.insufficientPermissions(permission);
      // Routes answer through `respond`, which adds the X-RateLimit-* headers from `rateLimit`.
      await next();
      failed = c.res.status >= 400;
    } finally {
      deps.usage.record(key.tenant, key.id, failed);
    }
  };
}
