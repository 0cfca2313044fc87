/**
 * `POST /v1/verify {key, permission?}`: lets other services check a key without holding one. A
 * verification is a use of the key: it counts towards the key's rate limit and usage. Its usage
 * status is the one the key would be refused with on an authenticated route (401, 403, 429), or
 * 200 when valid: the answer is always 200, but a refused key is what the usage series must show.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { ERROR_STATUS, type VerificationCode } from '../../errors';
import type { ApiKeyRecord } from '../../keys/key-record';
import { PERMISSION_PATTERN } from '../../keys/permissions';
import type { RateLimitDecision } from '../../rate-limit/rate-limiter';
import { parseInput } from '../../validation';
import type { ServeEnv } from '../context';
import { respond } from '../respond';
import type { ServeDeps } from '../deps';
import { checkKey } from '../key-check';
import { limitBody, readJson } from '../json-body';

const verifyInputSchema = z.strictObject(
  {
    key: z.string('must be the API key to check, as a string').min(1, 'must not be empty').max(256, 'is too long to be a keyroll key'),
    permission: z.string().regex(PERMISSION_PATTERN, 'must look like `resource:action`, e.g. `telemetry:write`').optional(),
  },
  { error: 'must be a JSON object like {"key": "kr_live_…", "permission": "telemetry:write"}' },
);

export function verifyRoutes(deps: ServeDeps): Hono<ServeEnv> {
  const routes = new Hono<ServeEnv>();
  routes.post('/v1/verify', limitBody(4096), async (c) => {
    const input = parseInput(verifyInputSchema, await readJson(c), 'body');
    const check = await checkKey(deps, input.key, input.permission);
    // No source: the caller is the service verifying the key, not whoever holds it.
    if (check.ok) deps.usage.recordUse(check.key, check.credentialHash, 200);
    else deps.usage.recordRefusal(check, ERROR_STATUS[check.code]);
    return respond(c, answer(check.ok ? 'VALID' : check.code, check.key, check.decision));
  });
  return routes;
}

function answer(code: VerificationCode | 'VALID', key?: ApiKeyRecord, decision?: RateLimitDecision) {
  return {
    valid: code === 'VALID',
    code,
    keyId: key?.id ?? null,
    tenant: key?.tenant ?? null,
    environment: key?.environment ?? null,
    permissions: key?.permissions ?? [],
    customerId: key?.customerId ?? null,
    rateLimit: decision ? { limit: decision.limit, remaining: decision.remaining, reset: decision.reset } : null,
  };
}
