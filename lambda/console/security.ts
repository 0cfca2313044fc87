/**
 * The console's browser-facing defences: response headers (a strict Content-Security-Policy with
 * no inline script or style, no caching, no framing, no referrer to other sites) and the CSRF check on every
 * state change (the Origin must be this service's, and the session's token must come along).
 * https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { ServeEnv } from '../serve/context';
import { sameToken } from './console-sessions';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Every console response, pages and assets alike: nothing here may be kept by a cache or a proxy. */
export function securityHeaders(): MiddlewareHandler<ServeEnv> {
  return async (c, next) => {
    await next();
    const headers = c.res.headers;
    headers.set('content-security-policy', CONTENT_SECURITY_POLICY);
    headers.set('cache-control', 'no-store');
    headers.set('x-content-type-options', 'nosniff');
    // Not `no-referrer`: Chromium then sends `Origin: null` on the console's own form posts, which
    // the CSRF check must refuse. `same-origin` sends nothing to other sites.
    headers.set('referrer-policy', 'same-origin');
    headers.set('x-frame-options', 'DENY');
    headers.set('cross-origin-opener-policy', 'same-origin');
  };
}

/** The origin the browser sees this service at. */
export function ownOrigin(c: Context): string {
  return new URL(c.req.url).origin;
}

/**
 * A state change comes from this origin: its Origin header (every browser sends one on POST from
 * a page; fetch too), or failing that Sec-Fetch-Site. Neither: refused, as a request no page of
 * ours would make.
 */
export function fromOwnOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  if (origin) return origin === ownOrigin(c);
  return c.req.header('sec-fetch-site') === 'same-origin';
}

/** The session's token, sent as the form field `_csrf` or the `x-csrf-token` header. */
export function hasCsrfToken(sent: string | undefined, expected: string): boolean {
  return typeof sent === 'string' && sent.length > 0 && sameToken(sent, expected);
}

export function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:';
}
