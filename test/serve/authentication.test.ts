/** Every verification outcome over HTTP, against DynamoDB on the emulator. */
import { generateKey } from '../../lambda/keys/key-format';
import { type Harness, startHarness } from '../support/service-harness';

let harness: Harness;
let telemetryKey: string;

beforeAll(async () => {
  harness = await startHarness();
  telemetryKey = (await harness.issue('acme', { permissions: ['telemetry:write'] })).key;
});
afterAll(() => harness.stop());

const errorCode = (response: { body: any }) => response.body?.error?.code;

describe('authentication', () => {
  it('answers whoami with the calling key, read from x-api-key, Bearer or x-tlm-key', async () => {
    const { id, key } = await harness.issue('acme', { permissions: ['customers:read'], customerId: 'cust-1' });
    const variants: Record<string, string>[] = [{ 'x-api-key': key }, { authorization: `Bearer ${key}` }, { authorization: `bearer ${key}` }, { 'x-tlm-key': key }];
    for (const headers of variants) {
      const response = await harness.call('GET', '/v1/whoami', { headers });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        keyId: id,
        tenant: 'acme',
        environment: 'production',
        permissions: ['customers:read'],
        customerId: 'cust-1',
      });
    }
  });

  it('MISSING_API_KEY without a key, or with a non-Bearer Authorization', async () => {
    const variants: Record<string, string>[] = [{}, { authorization: `Basic ${telemetryKey}` }];
    for (const headers of variants) {
      const response = await harness.call('GET', '/v1/whoami', { headers });
      expect(response.status).toBe(401);
      expect(errorCode(response)).toBe('MISSING_API_KEY');
      expect(response.body.error.message).toMatch(/x-api-key/);
    }
  });

  it('INVALID_API_KEY for malformed, unknown and revoked keys', async () => {
    const unknown = generateKey('production');
    const { id, key: revoked } = await harness.issue('acme', { permissions: ['telemetry:write'] });
    await harness.manager.revoke('acme', id);
    for (const key of ['not-a-key', `${telemetryKey.slice(0, -1)}x`, unknown, revoked]) {
      const response = await harness.call('GET', '/v1/whoami', { key });
      expect(response.status).toBe(401);
      expect(errorCode(response)).toBe('INVALID_API_KEY');
      expect(response.text).not.toContain(key);
    }
  });

  it('KEY_EXPIRED once expiresAt has passed', async () => {
    const { key } = await harness.issue('acme', { permissions: ['telemetry:write'], expiresAt: new Date(Date.now() + 1200).toISOString() });
    expect((await harness.call('GET', '/v1/whoami', { key })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    const response = await harness.call('GET', '/v1/whoami', { key });
    expect(response.status).toBe(401);
    expect(errorCode(response)).toBe('KEY_EXPIRED');
  });

  it('KEY_DISABLED while disabled, and works again once re-enabled', async () => {
    const { id, key } = await harness.issue('acme', { permissions: ['telemetry:write'] });
    // A manager changes only keys whose permissions it holds itself.
    const admin = (await harness.issue('acme', { permissions: ['keys:manage', 'telemetry:write'] })).key;
    const path = `/v1/tenants/acme/api-keys/${id}`;
    expect((await harness.call('PATCH', path, { key: admin, body: { enabled: false } })).status).toBe(200);
    const disabled = await harness.call('GET', '/v1/whoami', { key });
    expect(disabled.status).toBe(401);
    expect(errorCode(disabled)).toBe('KEY_DISABLED');
    expect((await harness.call('PATCH', path, { key: admin, body: { enabled: true } })).status).toBe(200);
    expect((await harness.call('GET', '/v1/whoami', { key })).status).toBe(200);
  });

  it('ENVIRONMENT_MISMATCH for a staging or development key on the production service', async () => {
    const staging = (await harness.manager.create('acme', { name: 's', environment: 'staging', permissions: ['telemetry:write'] })).key;
    for (const key of [staging, generateKey('development')]) {
      const response = await harness.call('GET', '/v1/whoami', { key });
      expect(response.status).toBe(401);
      expect(errorCode(response)).toBe('ENVIRONMENT_MISMATCH');
    }
  });

  it('INSUFFICIENT_PERMISSIONS for a key without the route permission, with rate-limit headers', async () => {
    const { key } = await harness.issue('acme', { permissions: ['customers:read'] });
    const response = await harness.call('POST', '/v1/telemetry', { key, body: { deviceId: 'd1' } });
    expect(response.status).toBe(403);
    expect(errorCode(response)).toBe('INSUFFICIENT_PERMISSIONS');
    expect(response.body.error.message).toContain('telemetry:write');
    expect(response.headers.get('x-ratelimit-limit')).toBe('6000');
  });

  it('sends X-RateLimit-* on every authenticated response, then 429 with Retry-After', async () => {
    const { key } = await harness.issue('acme', { permissions: ['telemetry:write'], rateLimit: { limit: 3, windowSeconds: 60 } });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await harness.call('GET', '/v1/whoami', { key });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ratelimit-limit')).toBe('3');
      const reset = Number(response.headers.get('x-ratelimit-reset'));
      expect(reset).toBeGreaterThan(Date.now() / 1000 - 1);
      // Capacity comes back between W and W + W/N (N = 10 slices): at most 66 s here, plus rounding.
      expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 67);
      remaining.push(response.headers.get('x-ratelimit-remaining')!);
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const limited = await harness.call('GET', '/v1/whoami', { key });
    expect(limited.status).toBe(429);
    expect(errorCode(limited)).toBe('RATE_LIMIT_EXCEEDED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(67);
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
  });

  it('sends X-RateLimit-* on success and error responses of every authenticated route', async () => {
    const admin = (await harness.issue('acme', { permissions: ['keys:manage', 'telemetry:write'] })).key;
    const calls: [string, string, unknown?][] = [
      ['GET', '/v1/whoami'],
      ['GET', '/v1/tenants/acme/api-keys'],
      ['GET', '/v1/tenants/acme/api-keys/key_AAAAAAAAAAAAAAAAAAAA'],
      ['POST', '/v1/tenants/acme/api-keys', { name: 1 }],
      ['GET', '/v1/tenants/globex/api-keys'],
      ['GET', '/auth/acme/apiKeys'],
      ['POST', '/v1/telemetry', { deviceId: 'd1' }],
      ['POST', '/v1/telemetry', '{'],
    ];
    for (const [method, path, body] of calls) {
      const response = await harness.call(method, path, { key: admin, body });
      expect([path, response.headers.get('x-ratelimit-limit')]).toEqual([path, '6000']);
      expect(Number(response.headers.get('x-ratelimit-remaining'))).toBeLessThan(6000);
      // Management answers may hold a key or a tenant's inventory: never cached anywhere.
      if (response.status < 400 && /api-keys|apiKeys/.test(path)) expect([path, response.headers.get('cache-control')]).toEqual([path, 'no-store']);
    }
  });

  it('NOT_FOUND for unknown routes, as JSON, without echoing a key in the path', async () => {
    const response = await harness.call('GET', `/v2/${telemetryKey}`);
    expect(response.status).toBe(404);
    expect(errorCode(response)).toBe('NOT_FOUND');
    expect(response.text).not.toContain(telemetryKey);
  });

  it('GET /healthz needs no key', async () => {
    expect((await harness.call('GET', '/healthz')).body).toEqual({ status: 'ok' });
  });
});

describe('POST /v1/verify', () => {
  it('reports a valid key with its identity and rate limit', async () => {
    const { id, key } = await harness.issue('acme', { permissions: ['telemetry:write'], customerId: 'c9' });
    const response = await harness.call('POST', '/v1/verify', { body: { key, permission: 'telemetry:write' } });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      valid: true,
      code: 'VALID',
      keyId: id,
      tenant: 'acme',
      environment: 'production',
      permissions: ['telemetry:write'],
      customerId: 'c9',
      rateLimit: { limit: 6000, remaining: 5999 },
    });
  });

  it('reports why a key is not valid', async () => {
    const { key } = await harness.issue('acme', { permissions: ['customers:read'] });
    const cases: [unknown, string][] = [
      [{ key: 'garbage' }, 'INVALID_API_KEY'],
      [{ key: generateKey('staging') }, 'ENVIRONMENT_MISMATCH'],
      [{ key, permission: 'telemetry:write' }, 'INSUFFICIENT_PERMISSIONS'],
    ];
    for (const [body, code] of cases) {
      const response = await harness.call('POST', '/v1/verify', { body });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ valid: false, code });
    }
  });

  it('VALIDATION_ERROR for a body without a key, never echoing it', async () => {
    const response = await harness.call('POST', '/v1/verify', { body: `{"key": "${telemetryKey}"` });
    expect(response.status).toBe(400);
    expect(errorCode(response)).toBe('VALIDATION_ERROR');
    expect(response.text).not.toContain(telemetryKey);
    const missing = await harness.call('POST', '/v1/verify', { body: { permission: 'telemetry:write' } });
    expect(missing.body.error.message).toContain('`body.key` is required');
  });
});
