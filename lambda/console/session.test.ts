import { Hono } from 'hono';
import type { ApiKeyRecord } from '../keys/key-record';
import { fromOwnOrigin, hasCsrfToken } from './security';
import { keyRefusal, setSessionCookie } from './session';

const key: ApiKeyRecord = {
  id: 'key_aaaaaaaaaaaaaaaaaaaa',
  tenant: 'acme',
  name: 'manager',
  environment: 'production',
  permissions: ['keys:manage'],
  rateLimit: { limit: 10, windowSeconds: 60 },
  enabled: true,
  tags: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  requestCount: 0,
  errorCount: 0,
  start: 'kr_live_abcd',
  credentialHash: 'current',
  graceCredentials: [{ hash: 'old', validUntil: '2026-01-02T00:00:00.000Z' }],
  version: 1,
};
const now = Date.parse('2026-01-01T12:00:00Z');

describe('keyRefusal: a session ends when its key may no longer manage keys here', () => {
  test('an active manager, signed in with its current or a grace credential, may', () => {
    expect(keyRefusal(key, 'current', 'production', now)).toBeUndefined();
    expect(keyRefusal(key, 'old', 'production', now)).toBeUndefined();
  });
  test.each([
    [{ ...key, enabled: false }, 'current', 'disabled'],
    [{ ...key, revokedAt: '2026-01-01T01:00:00.000Z' }, 'current', 'revoked'],
    [{ ...key, expiresAt: '2026-01-01T11:00:00.000Z' }, 'current', 'expired'],
    [key, 'old-and-retired', 'regenerated'],
    [{ ...key, permissions: ['telemetry:write'] }, 'current', 'keys:manage'],
    [{ ...key, environment: 'staging' as const }, 'current', 'staging key'],
  ])('refused: %#', (record, credential, reason) => {
    expect(keyRefusal(record, credential, 'production', now)).toContain(reason);
  });
  test('a grace credential past its validity no longer signs in', () => {
    expect(keyRefusal(key, 'old', 'production', Date.parse('2026-01-03T00:00:00Z'))).toContain('regenerated');
  });
});

describe('the session cookie', () => {
  const app = new Hono().get('/console/x', (c) => {
    setSessionCookie(c, 'session-id');
    return c.body(null, 204);
  });
  test('https: __Host- prefixed, Secure, HttpOnly, SameSite=Strict, Path=/', async () => {
    const cookie = (await app.request('https://keys.example.com/console/x')).headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^__Host-keyroll-console=session-id;/);
    expect(cookie).toContain('Secure');
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/;');
  });
  test('http (local): HttpOnly, SameSite=Strict, Path=/console, not Secure', async () => {
    const cookie = (await app.request('http://127.0.0.1:8787/console/x')).headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^keyroll-console=session-id;/);
    expect(cookie).not.toContain('Secure');
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('Path=/console');
  });
});

describe('CSRF', () => {
  const app = new Hono().post('/console/x', (c) => c.text(String(fromOwnOrigin(c))));
  const post = async (headers: Record<string, string>) => (await app.request('http://127.0.0.1:8787/console/x', { method: 'POST', headers })).text();
  test('the Origin must be this service, or Sec-Fetch-Site same-origin without one', async () => {
    expect(await post({ origin: 'http://127.0.0.1:8787' })).toBe('true');
    expect(await post({ origin: 'http://127.0.0.1:8788' })).toBe('false');
    expect(await post({ origin: 'null' })).toBe('false');
    expect(await post({ 'sec-fetch-site': 'same-origin' })).toBe('true');
    expect(await post({ 'sec-fetch-site': 'cross-site' })).toBe('false');
    expect(await post({})).toBe('false');
  });
  test('the token must be the session’s', () => {
    expect(hasCsrfToken('abc', 'abc')).toBe(true);
    expect(hasCsrfToken('abd', 'abc')).toBe(false);
    expect(hasCsrfToken('', 'abc')).toBe(false);
    expect(hasCsrfToken(undefined, 'abc')).toBe(false);
  });
});
