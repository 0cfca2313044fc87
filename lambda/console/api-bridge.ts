/**
 * How the console acts: it calls the API's own routes in-process (api-keys, usage, audit,
 * alerts), with the session's management key standing in for a pasted one. Every rule the API
 * applies (tenant, customer, environment ladder, no escalation, known permissions, rate limit,
 * audit, usage) is therefore applied by the same code, and the console has no authorization of its
 * own to drift.
 *
 * The routes authenticate through a verifier that knows only per-call tokens: random, held in
 * memory for the one call, never sent to a browser or over a network. The record behind a token
 * is the one the console has just re-read from the store.
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { ApiKeyRecord } from '../keys/key-record';
import type { ServeEnv } from '../serve/context';
import type { ServeDeps } from '../serve/deps';
import { classifyError, errorResponse } from '../serve/error-response';
import { alertRoutes } from '../serve/routes/alerts';
import { apiKeyRoutes } from '../serve/routes/api-keys';
import { auditRoutes } from '../serve/routes/audit';
import { keyUsageRoutes } from '../serve/routes/key-usage';
import type { KeyVerifier, Verification } from '../verify/key-verifier';

export interface ApiAnswer<T = any> {
  readonly status: number;
  readonly ok: boolean;
  readonly body: T;
}

/** The caller as the console re-read it, and the credential that signed in. */
export interface BridgeCaller {
  readonly key: ApiKeyRecord;
  readonly credentialHash: string;
}

export class ApiBridge {
  private readonly callers = new Map<string, BridgeCaller>();
  private readonly app: Hono<ServeEnv>;

  constructor(deps: ServeDeps) {
    const verifier: Pick<KeyVerifier, 'verify'> = {
      verify: (presented): Verification => {
        const caller = presented ? this.callers.get(presented) : undefined;
        return caller ? { ok: true, key: caller.key, credentialHash: caller.credentialHash } : { ok: false, code: 'INVALID_API_KEY' };
      },
    };
    const bridged: ServeDeps = { ...deps, verifier: verifier as KeyVerifier, extraKeyHeaders: [] };
    const app = new Hono<ServeEnv>();
    app.route('/', apiKeyRoutes(bridged));
    app.route('/', keyUsageRoutes(bridged));
    app.route('/', auditRoutes(bridged));
    app.route('/', alertRoutes(bridged));
    app.onError((thrown, c) => {
      const { error, fault } = classifyError(thrown);
      if (fault) deps.logger.error('console request failed', { error: thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown) });
      return errorResponse(c, error);
    });
    this.app = app;
  }

  /**
   * Calls an API route as `caller`, from the browser's request `c`: its User-Agent, forwarding
   * header and peer address go along, so the audit log names the browser, not the console.
   */
  async call<T = any>(c: Context<ServeEnv>, caller: BridgeCaller, method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const token = randomBytes(24).toString('base64url');
    this.callers.set(token, caller);
    try {
      const headers: Record<string, string> = { 'x-api-key': token };
      const userAgent = c.req.header('user-agent');
      if (userAgent) headers['user-agent'] = userAgent;
      const forwarded = c.req.header('x-forwarded-for');
      if (forwarded) headers['x-forwarded-for'] = forwarded;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const request = new Request(`http://console.internal${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const response = await this.app.fetch(request, peerOnly(c.env));
      const text = await response.text();
      return { status: response.status, ok: response.ok, body: text ? JSON.parse(text) : undefined };
    } finally {
      this.callers.delete(token);
    }
  }
}

/**
 * The outer request's bindings, reduced to where it came from: on Node the socket's address (its
 * `incoming.headers` would otherwise be read instead of this call's), on Lambda the request context.
 */
function peerOnly(env: unknown): unknown {
  const bindings = env as { incoming?: { socket?: { remoteAddress?: string } }; requestContext?: unknown } | undefined;
  return {
    ...(bindings?.incoming?.socket ? { incoming: { socket: { remoteAddress: bindings.incoming.socket.remoteAddress } } } : {}),
    ...(bindings?.requestContext ? { requestContext: bindings.requestContext } : {}),
  };
}
