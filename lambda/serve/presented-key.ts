/** Where a caller may put its key: `x-api-key`, `Authorization: Bearer`, or configured extra headers. */

/** Extra header names accepted besides `x-api-key` and `Authorization`. @default ['x-tlm-key'] */
export const DEFAULT_EXTRA_KEY_HEADERS = ['x-tlm-key'];

export function presentedKey(headers: Headers, extraHeaders: readonly string[]): string | undefined {
  const direct = headers.get('x-api-key');
  if (direct) return direct.trim();
  const authorization = headers.get('authorization');
  if (authorization) {
    // RFC 6750 §2.1: the scheme is case-insensitive.
    const match = /^bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  for (const name of extraHeaders) {
    const value = headers.get(name);
    if (value) return value.trim();
  }
  return undefined;
}
