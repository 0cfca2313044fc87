/**
 * Turns anything thrown while serving into `{"error": {"code", "message"}}` with the right status.
 * Client mistakes are 4xx with a fix in the message; only our own failures are 5xx, and no stack
 * trace or presented key ever reaches the response.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { errors, isKeyrollError, type KeyrollError } from '../errors';
import type { ServeEnv } from './context';
import { respond } from './respond';

export function errorResponse(c: Context<ServeEnv>, error: KeyrollError, headers?: Record<string, string>): Response {
  const answer = errorAnswer(error, headers);
  return respond(c, answer.body, answer.status, answer.headers);
}

/** The status, body and headers (besides content-type and X-RateLimit-*) every error is answered with. */
export function errorAnswer(error: KeyrollError, headers?: Record<string, string>) {
  const extra: Record<string, string> = { ...headers };
  // Only a few refusals carry it (e.g. the unknown-key budget); a rate-limited key's comes from its decision.
  if (error.retryAfterSeconds !== undefined) extra['retry-after'] = String(error.retryAfterSeconds);
  if (error.status === 401) extra['www-authenticate'] = authenticateChallenge(error.code);
  return { status: error.status, body: { error: { code: error.code, message: error.message } }, headers: extra };
}

/**
 * RFC 9110 §11.6.1: a 401 names how to authenticate. keyroll takes the key as a bearer token (or in
 * `x-api-key`); RFC 6750 §3 adds `error="invalid_token"` when a key was sent but cannot be used.
 */
function authenticateChallenge(code: string): string {
  return code === 'MISSING_API_KEY' ? 'Bearer realm="keyroll"' : 'Bearer realm="keyroll", error="invalid_token"';
}

/** Maps a thrown value to a KeyrollError, and says whether it is ours to log as a fault. */
export function classifyError(error: unknown): { error: KeyrollError; fault: boolean } {
  // A 5xx with Retry-After is load shed on purpose (its source reports it, throttled), not a fault
  // to log per request: a flood of made-up keys must not become a flood of log lines.
  if (isKeyrollError(error)) return { error, fault: error.status >= 500 && error.retryAfterSeconds === undefined };
  if (error instanceof HTTPException) {
    // Hono raises these for malformed requests it rejects itself.
    return { error: errors.validation('request', `was rejected (${error.status})`, 'Check the method, headers and body.'), fault: false };
  }
  if (isStoreUnavailable(error)) return { error: errors.serviceUnavailable(), fault: true };
  return { error: errors.internal(), fault: true };
}

const TRANSIENT_AWS_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'TransactionConflictException',
]);

function isStoreUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  return (
    TRANSIENT_AWS_ERRORS.has(error.name) ||
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'ETIMEDOUT' ||
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 503
  );
}
