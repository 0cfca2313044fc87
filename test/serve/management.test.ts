/** Key management over HTTP: the v1 routes, the /auth shape, isolation and validation. */
import { type Harness, startHarness } from '../support/service-harness';

let harness: Harness;
let admin: string;
const base = '/v1/tenants/acme/api-keys';
const newKey = { name: 'sensor fleet', environment: 'production', permissions: ['telemetry:write'] };

beforeAll(async () => {
  harness = await startHarness();
  admin = (await harness.issue('acme', { permissions: ['keys:manage'] })).key;
});
afterAll(() => harness.stop());

const create = async (body: object = newKey, key = admin) => harness.call('POST', base, { key, body });

describe('happy path', () => {
  it('creates a key and shows it exactly once', async () => {
    const created = await create({ ...newKey, tags: ['fleet-a'], rateLimit: { limit: 100, windowSeconds: 10 } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'sensor fleet',
      environment: 'production',
      status: 'active',
      permissions: ['telemetry:write'],
      rateLimit: { limit: 100, windowSeconds: 10 },
      tags: ['fleet-a'],
      requestCount: 0,
      errorCount: 0,
      lastUsedAt: null,
    });
    const { id, key } = created.body;
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(key).toMatch(/^kr_live_[0-9A-Za-z]{38}$/);
    expect(created.body.start).toBe(key.slice(0, 12));
    expect((await harness.call('GET', '/v1/whoami', { key })).body.keyId).toBe(id);

    const fetched = await harness.call('GET', `${base}/${id}`, { key: admin });
    const listed = await harness.call('GET', base, { key: admin });
    for (const response of [fetched, listed]) {
      expect(response.status).toBe(200);
      expect(response.text).not.toContain(key);
      expect(response.text).not.toMatch(/secretHash|graceSecrets/);
    }
    expect(listed.body.keys.map((k: { id: string }) => k.id)).toContain(id);
    expect(fetched.body).not.toHaveProperty('key');
  });

  it('updates name, permissions, rate limit, expiry and tags', async () => {
    const { id } = (await create()).body;
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const response = await harness.call('PATCH', `${base}/${id}`, {
      key: admin,
      body: { name: 'renamed', permissions: ['telemetry:write', 'customers:read'], rateLimit: { limit: 5, windowSeconds: 1 }, expiresAt, tags: ['x'] },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ name: 'renamed', permissions: ['telemetry:write', 'customers:read'], rateLimit: { limit: 5, windowSeconds: 1 }, expiresAt, tags: ['x'] });
    const cleared = await harness.call('PATCH', `${base}/${id}`, { key: admin, body: { expiresAt: null } });
    expect(cleared.body.expiresAt).toBeNull();
  });

  it('regenerates without grace: same id, new key, old key refused at once', async () => {
    const { id, key: oldKey } = (await create()).body;
    const response = await harness.call('POST', `${base}/${id}/regenerate`, { key: admin });
    expect(response.status).toBe(200);
    expect(response.body.id).toBe(id);
    expect(response.body.key).not.toBe(oldKey);
    expect((await harness.call('GET', '/v1/whoami', { key: response.body.key })).status).toBe(200);
    const old = await harness.call('GET', '/v1/whoami', { key: oldKey });
    expect(old.status).toBe(401);
    expect(old.body.error.code).toBe('INVALID_API_KEY');
  });

  it('regenerates with grace: both keys work until the grace ends', async () => {
    const { id, key: oldKey } = (await create()).body;
    const response = await harness.call('POST', `${base}/${id}/regenerate`, { key: admin, body: { graceSeconds: 2 } });
    expect(response.status).toBe(200);
    expect(Date.parse(response.body.previousSecretValidUntil)).toBeGreaterThan(Date.now());
    expect((await harness.call('GET', '/v1/whoami', { key: oldKey })).status).toBe(200);
    expect((await harness.call('GET', '/v1/whoami', { key: response.body.key })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await harness.call('GET', '/v1/whoami', { key: oldKey })).status).toBe(401);
    expect((await harness.call('GET', '/v1/whoami', { key: response.body.key })).status).toBe(200);
  });

  it('revokes with DELETE or POST …/revoke, permanently, keeping the record for audit', async () => {
    for (const revoke of [(id: string) => harness.call('DELETE', `${base}/${id}`, { key: admin }), (id: string) => harness.call('POST', `${base}/${id}/revoke`, { key: admin })]) {
      const { id, key } = (await create()).body;
      const response = await revoke(id);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id, status: 'revoked' });
      expect(response.body.revokedAt).toEqual(expect.any(String));
      expect((await harness.call('GET', '/v1/whoami', { key })).body.error.code).toBe('INVALID_API_KEY');
      const reenable = await harness.call('PATCH', `${base}/${id}`, { key: admin, body: { enabled: true } });
      expect(reenable.status).toBe(409);
      expect(reenable.body.error.code).toBe('KEY_REVOKED');
      expect((await harness.call('POST', `${base}/${id}/regenerate`, { key: admin })).body.error.code).toBe('KEY_REVOKED');
      expect((await harness.call('GET', `${base}/${id}`, { key: admin })).body.status).toBe('revoked');
    }
  });

  it('lets exactly one of two simultaneous regenerations win', async () => {
    const { id } = (await create()).body;
    const results = await Promise.all([1, 2, 3].map(() => harness.call('POST', `${base}/${id}/regenerate`, { key: admin })));
    const winners = results.filter((r) => r.status === 200);
    expect(winners.length).toBeGreaterThanOrEqual(1);
    for (const loser of results.filter((r) => r.status !== 200)) expect(loser.body.error.code).toBe('CONFLICT');
    // Whatever happened, exactly the last saved key works and no other.
    const working = await Promise.all(winners.map((w) => harness.call('GET', '/v1/whoami', { key: w.body.key })));
    expect(working.filter((r) => r.status === 200)).toHaveLength(1);
  });
});

describe('the /auth/{tenant}/apiKeys shape', () => {
  it('creates, lists, gets and deletes with its defaults', async () => {
    const created = await harness.call('POST', '/auth/acme/apiKeys', { key: admin, body: { name: 'legacy' } });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(['id', 'key', 'name']);
    const { id, key } = created.body;
    expect((await harness.call('GET', '/v1/whoami', { key })).body).toMatchObject({ environment: 'production', permissions: ['telemetry:write'] });
    expect((await harness.call('GET', '/auth/acme/apiKeys', { key: admin })).body.keys).toContainEqual({ id, name: 'legacy' });
    expect((await harness.call('GET', `/auth/acme/apiKeys/${id}`, { key: admin })).body).toEqual({ id, name: 'legacy' });
    const deleted = await harness.call('DELETE', `/auth/acme/apiKeys/${id}`, { key: admin });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ message: expect.stringContaining(id) });
    expect((await harness.call('GET', '/v1/whoami', { key })).status).toBe(401);
    expect((await harness.call('GET', '/auth/acme/apiKeys', { key: admin })).body.keys).not.toContainEqual({ id, name: 'legacy' });
  });
});

describe('errors', () => {
  it.each([
    ['an unknown environment', { ...newKey, environment: 'prod' }, 'body.environment'],
    ['more than 10 tags', { ...newKey, tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }, 'body.tags'],
    ['an expiry in the past', { ...newKey, expiresAt: '2020-01-01T00:00:00Z' }, 'expiresAt'],
    ['no permissions', { ...newKey, permissions: [] }, 'body.permissions'],
    ['a malformed permission', { ...newKey, permissions: ['write everything'] }, 'body.permissions.0'],
    ['a zero rate limit', { ...newKey, rateLimit: { limit: 0, windowSeconds: 60 } }, 'body.rateLimit.limit'],
    ['an unknown field', { ...newKey, permisions: ['x:y'] }, 'permisions'],
    ['a missing name', { environment: 'production', permissions: ['telemetry:write'] }, 'body.name'],
    ['bad JSON', '{"name": ', 'body'],
    ['a name with a lone surrogate', '{"name": "\\ud800", "environment": "production", "permissions": ["telemetry:write"]}', 'body.name'],
    ['an array', '[]', 'body'],
  ])('VALIDATION_ERROR naming the field for %s', async (_, body, field) => {
    const response = await harness.call('POST', base, { key: admin, body });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_ERROR');
    expect(response.body.error.message).toContain(field);
  });

  it('VALIDATION_ERROR for a grace over 7 days and for an empty PATCH', async () => {
    const { id } = (await create()).body;
    const grace = await harness.call('POST', `${base}/${id}/regenerate`, { key: admin, body: { graceSeconds: 7 * 86400 + 1 } });
    expect(grace.status).toBe(400);
    expect(grace.body.error.message).toContain('body.graceSeconds');
    const empty = await harness.call('PATCH', `${base}/${id}`, { key: admin, body: {} });
    expect(empty.status).toBe(400);
  });

  it('PAYLOAD_TOO_LARGE for an oversized body', async () => {
    const response = await harness.call('POST', base, { key: admin, body: { ...newKey, name: 'x'.repeat(20_000) } });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('NOT_FOUND for an unknown or malformed key id', async () => {
    for (const id of ['key_AAAAAAAAAAAAAAAAAAAA', 'nope', 'x'.repeat(5000)]) {
      const response = await harness.call('GET', `${base}/${id}`, { key: admin });
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
  });
});

describe('security', () => {
  it('FORBIDDEN for issuing a key of another environment than the caller’s', async () => {
    const response = await create({ ...newKey, environment: 'development' });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('FORBIDDEN');
    expect(response.body.error.message).toContain('keyroll bootstrap --environment development');
  });

  it('INSUFFICIENT_PERMISSIONS for a key without keys:manage', async () => {
    const { key } = await harness.issue('acme', { permissions: ['telemetry:write'] });
    for (const [method, path] of [['GET', base], ['POST', base], ['GET', '/auth/acme/apiKeys']]) {
      const response = await harness.call(method, path, { key, body: method === 'POST' ? newKey : undefined });
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('INSUFFICIENT_PERMISSIONS');
    }
  });

  it("FORBIDDEN for another tenant's keys, on every route", async () => {
    const otherAdmin = (await harness.issue('globex', { permissions: ['keys:manage'] })).key;
    const { id } = (await create()).body;
    const attempts: [string, string, unknown?][] = [
      ['GET', base],
      ['POST', base, newKey],
      ['GET', `${base}/${id}`],
      ['PATCH', `${base}/${id}`, { enabled: false }],
      ['DELETE', `${base}/${id}`],
      ['POST', `${base}/${id}/regenerate`],
      ['POST', `${base}/${id}/revoke`],
      ['GET', '/auth/acme/apiKeys'],
      ['DELETE', `/auth/acme/apiKeys/${id}`],
    ];
    for (const [method, path, body] of attempts) {
      const response = await harness.call(method, path, { key: otherAdmin, body });
      expect([method, path, response.status, response.body.error.code]).toEqual([method, path, 403, 'FORBIDDEN']);
    }
    expect((await harness.call('GET', `${base}/${id}`, { key: admin })).body.status).toBe('active');
  });

  it("FORBIDDEN for another customer's keys; a customer-scoped manager sees only its own", async () => {
    const customerAdmin = (await harness.issue('acme', { permissions: ['keys:manage'], customerId: 'cust-a' })).key;
    const foreign = (await create({ ...newKey, customerId: 'cust-b' })).body.id;
    const own = await create({ ...newKey }, customerAdmin);
    expect(own.status).toBe(201);
    expect(own.body.customerId).toBe('cust-a');
    expect((await create({ ...newKey, customerId: 'cust-b' }, customerAdmin)).body.error.code).toBe('FORBIDDEN');
    expect((await harness.call('GET', `${base}/${foreign}`, { key: customerAdmin })).body.error.code).toBe('FORBIDDEN');
    expect((await harness.call('DELETE', `${base}/${foreign}`, { key: customerAdmin })).status).toBe(403);
    const listed = (await harness.call('GET', base, { key: customerAdmin })).body.keys;
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((k: { customerId: string }) => k.customerId === 'cust-a')).toBe(true);
  });
});
