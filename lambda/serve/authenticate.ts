/**
 * Request authentication for routes: check the presented key (see key-check.ts), leave the key and
 * its rate-limit decision on the context, refuse with the precise error, and count the request
 * for usage with the status it was answered with, by key and by the credential presented.
 */
import type { Context, Handler, MiddlewareHandler } from 'hono';
import { errors, ERROR_STATUS } from '../errors';
import type { UsageRecorder } from '../usage/usage-recorder';
import type { ServeEnv } from './context';
import { classifyError } from './error-response';
import { checkKey, type KeyCheck, type KeyCheckDeps } from './key-check';
import { presentedKey } from './presented-key';
import { sourceAddress } from './request-origin';

export interface AuthDeps extends KeyCheckDeps {
  readonly usage: UsageRecorder;
  readonly extraKeyHeaders: readonly string[];
  /** Proxies in front of the service that append to X-Forwarded-For (KEYROLL_TRUSTED_PROXY_HOPS). @default 0 */
  readonly trustedProxyHops?: number;
}

/** As middleware, for route groups (management). */
export function authenticate(deps: AuthDeps, permission?: string): MiddlewareHandler<ServeEnv> {
  return async (c, next) => {
    const check = await checkRequestKey(deps, c, permission);
    let status: number = ERROR_STATUS.INTERNAL_ERROR;
    try {
      await next();
      status = c.res.status;
    } catch (error) {
      status = thrownStatus(error);
      throw error;
    } finally {
      deps.usage.recordUse(check.key, check.credentialHash, status, sourceAddress(c, deps.trustedProxyHops));
    }
  };
}

/**
 * As a handler wrapper, for single hot routes: no middleware chain, and no promise at all when the
 * key and its quota are cached, which keeps authentication's cost a small fraction of a request.
 * No closures are created per request: under tsx and esbuild's keepNames each one costs a
 * defineProperty call, which showed up in the benchmark's profile.
 */
export function withKey(deps: AuthDeps, permission: string | undefined, handler: Handler<ServeEnv>): Handler<ServeEnv> {
  return (c, next) => {
    const check = checkRequestKey(deps, c, permission);
    return check instanceof Promise ? check.then((passed) => runHandler(deps, handler, c, next, passed)) : runHandler(deps, handler, c, next, check);
  };
}

function runHandler(deps: AuthDeps, handler: Handler<ServeEnv>, c: Context<ServeEnv>, next: Parameters<Handler<ServeEnv>>[1], check: Passed) {
  let result: Response | Promise<Response>;
  try {
    result = handler(c, next) as Response | Promise<Response>;
  } catch (error) {
    countRequest(deps, c, check, thrownStatus(error));
    throw error;
  }
  if (!(result instanceof Promise)) {
    countRequest(deps, c, check, result.status);
    return result;
  }
  return result.then(
    (response) => {
      countRequest(deps, c, check, response.status);
      return response;
    },
    (error: unknown) => {
      countRequest(deps, c, check, thrownStatus(error));
      throw error;
    },
  );
}

function countRequest(deps: AuthDeps, c: Context<ServeEnv>, check: Passed, status: number): void {
  deps.usage.recordUse(check.key, check.credentialHash, status, sourceAddress(c, deps.trustedProxyHops));
}

/** The status the app's error handler answers a thrown value with (see app.ts onError). */
function thrownStatus(error: unknown): number {
  return classifyError(error).error.status;
}

type Passed = Extract<KeyCheck, { ok: true }>;

function checkRequestKey(deps: AuthDeps, c: Context<ServeEnv>, permission?: string): Passed | Promise<Passed> {
  const check = checkKey(deps, presentedKey(c, deps.extraKeyHeaders), permission);
  return check instanceof Promise ? check.then((settled) => admit(deps, c, settled, permission)) : admit(deps, c, check, permission);
}

function admit(deps: AuthDeps, c: Context<ServeEnv>, check: KeyCheck, permission?: string): Passed {
  // Routes answer through `respond`, which adds the X-RateLimit-* headers from `rateLimit`.
  if (check.decision) c.set('rateLimit', check.decision);
  if (check.ok) {
    c.set('key', check.key);
    return check;
  }
  // A known key that is refused still counts as used, with the status it is refused with; so does
  // a credential the key no longer accepts, which is also an alert.
  const refusal = check.code === 'INSUFFICIENT_PERMISSIONS' && permission ? errors.insufficientPermissions(permission) : errors.verification(check.code);
  deps.usage.recordRefusal(check, refusal.status, sourceAddress(c, deps.trustedProxyHops));
  throw refusal;
}
