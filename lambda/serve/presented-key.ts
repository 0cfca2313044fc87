/** Where a caller may put its key: `x-api-key`, `Authorization: Bearer`, or configured extra headers. */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Context } from 'hono';

/** Extra header names accepted besides `x-api-key` and `Authorization`. @default ['x-tlm-key'] */
export const DEFAULT_EXTRA_KEY_HEADERS = ['x-tlm-key'];

export function presentedKey(c: Context, extraHeaders: readonly string[]): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming?.headers) return presentedKeyIn(incoming.headers, extraHeaders);
  return presentedKeyFrom((name) => c.req.raw.headers.get(name) ?? undefined, extraHeaders);
}

/**
 * On Node, from Node's own parsed headers: building a WHATWG `Headers` for every request costs
 * more than verifying the key. (Elsewhere, Lambda, the request's `Headers` are already built.)
 */
export function presentedKeyIn(headers: IncomingHttpHeaders, extraHeaders: readonly string[]): string | undefined {
  // The common case first, with nothing allocated: a single x-api-key header.
  const direct = headers['x-api-key'];
  if (typeof direct === 'string' && direct) return direct.trim();
  return presentedKeyFrom((name) => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }, extraHeaders);
}

function presentedKeyFrom(header: (name: string) => string | undefined, extraHeaders: readonly string[]): string | undefined {
  const direct = header('x-api-key');
  if (direct) return direct.trim();
  const authorization = header('authorization');
  if (authorization) {
    // RFC 6750 §2.1: the scheme is case-insensitive.
    const match = /^bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  for (const name of extraHeaders) {
    const value = header(name);
    if (value) return value.trim();
  }
  return undefined;
}
