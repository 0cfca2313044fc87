/** X-RateLimit-* and Retry-After headers from a rate-limit decision. */
import type { RateLimitDecision } from '../rate-limit/rate-limiter';

export function applyRateLimitHeaders(headers: Headers, decision: RateLimitDecision): void {
  headers.set('X-RateLimit-Limit', String(decision.limit));
  headers.set('X-RateLimit-Remaining', String(decision.remaining));
  headers.set('X-RateLimit-Reset', String(decision.reset));
  if (!decision.allowed) headers.set('Retry-After', String(decision.retryAfterSeconds ?? 1));
}
