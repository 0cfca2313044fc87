/**
 * JSON responses that carry the caller's X-RateLimit-* headers. Headers go in as a plain record:
 * on Node that keeps the response on @hono/node-server's fast path, where mutating `c.res.headers`
 * afterwards would force a full WHATWG Response for every request.
 */
import type { Context } from 'hono';
import type { RateLimitDecision } from '../rate-limit/rate-limiter';
import type { ServeEnv } from './context';

/** @param headers extra headers (e.g. `location`, `www-authenticate`), merged into the one record. */
export function respond(c: Context<ServeEnv>, body: unknown, status = 200, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), { status, headers: jsonHeaders(c.get('rateLimit'), headers) });
}

/** The headers of a JSON answer to a caller with `decision` (none before its key was checked). */
export function jsonHeaders(decision: RateLimitDecision | undefined, headers?: Record<string, string>): Record<string, string> {
  const all: Record<string, string> = { 'content-type': 'application/json', ...headers };
  if (decision) addRateLimitHeaders(all, decision);
  return all;
}

/**
 * For management routes: bodies may hold a key shown once, or a tenant's key inventory, and no
 * proxy or browser should keep them. (The hot routes skip the header: every header costs.)
 */
export function respondPrivately(c: Context<ServeEnv>, body: unknown, status = 200, headers?: Record<string, string>): Response {
  return respond(c, body, status, { 'cache-control': 'no-store', ...headers });
}

export function addRateLimitHeaders(headers: Record<string, string>, decision: RateLimitDecision): void {
  headers['x-ratelimit-limit'] = String(decision.limit);
  headers['x-ratelimit-remaining'] = String(decision.remaining);
  headers['x-ratelimit-reset'] = String(decision.reset);
  if (!decision.allowed) headers['retry-after'] = String(decision.retryAfterSeconds ?? 1);
}
