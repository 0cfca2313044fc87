/** Key management over HTTP: the v1 routes, the /auth shape, isolation, the management rules and validation. */
import { MAX_GRACE_CREDENTIALS } from '../../lambda/keys/key-transitions';
import { type Harness, startHarness } from '../support/service-harness';

let harness: Harness;
let admin: string;
const base = '/v1/tenants/acme/api-keys';
const newKey = { name: 'sensor fleet', environment: 'production', permissions: ['telemetry:write'] };

beforeAll(async () => {
  harness = await startHarness();
  // The tenant's owner key, as `keyroll bootstrap` makes it: it may grant anything.
  admin = (await harness.issue('acme', { permissions: ['*'] })).key;
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
      expect(response.text).not.toMatch(/credentialHash|graceCredentials/);
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

describe('listing', () => {
  const issueMany = async (tenant: string, count: number, environment: 'production' | 'development' = 'production') => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push((await harness.manager.create(tenant, { name: `k${i}`, environment, permissions: ['telemetry:write'] })).record.id);
    return ids;
  };
  const listAll = async (tenant: string, key: string, limit: number, service: Harness = harness) => {
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
      const response = await service.call('GET', `/v1/tenants/${tenant}/api-keys${query}`, { key });
      expect(response.status).toBe(200);
      pageSizes.push(response.body.keys.length);
      seen.push(...response.body.keys.map((k: { id: string }) => k.id));
      cursor = response.body.nextCursor;
    } while (cursor);
    return { seen, pageSizes };
  };

  it('pages with ?limit=&cursor=, every key exactly once, 100 per page by default', async () => {
    const ids = await issueMany('paged', 5);
    const owner = await harness.issue('paged', { permissions: ['*'] });
    const { seen, pageSizes } = await listAll('paged', owner.key, 2);
    expect(seen.sort()).toEqual([...ids, owner.id].sort());
    expect(pageSizes).toEqual([2, 2, 2]);

    await issueMany('paged', 100);
    const first = await harness.call('GET', '/v1/tenants/paged/api-keys', { key: owner.key });
    expect(first.body.keys).toHaveLength(100);
    expect(first.body.nextCursor).toEqual(expect.any(String));
  });

  it('fills pages with visible keys only, skipping those above the caller or of another customer', async () => {
    await issueMany('ladder', 4, 'production');
    const devIds = await issueMany('ladder', 3, 'development');
    const dev = await startHarness({ environment: 'development', tables: harness.tables });
    try {
      const devManager = await dev.issue('ladder', { permissions: ['keys:manage', 'telemetry:write'] });
      const { seen, pageSizes } = await listAll('ladder', devManager.key, 2, dev);
      expect(seen.sort()).toEqual([...devIds, devManager.id].sort());
      expect(pageSizes.slice(0, -1).every((size) => size === 2)).toBe(true);
    } finally {
      await dev.stop();
    }
  });

  it.each([
    ['?limit=0', 'query.limit'],
    ['?limit=1001', 'query.limit'],
    ['?limit=ten', 'query.limit'],
    ['?cursor=bm90LWEta2V5', 'query.cursor'],
    ['?page=2', 'page'],
  ])('VALIDATION_ERROR for %s', async (query, field) => {
    const response = await harness.call('GET', `${base}${query}`, { key: admin });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_ERROR');
    expect(response.body.error.message).toContain(field);
  });
});

describe('bounds', () => {
  it(`keeps at most ${MAX_GRACE_CREDENTIALS} previous secrets in grace: a further regeneration with grace is refused, one without works`, async () => {
    const { id } = (await create()).body;
    const keys: string[] = [];
    for (let i = 0; i < MAX_GRACE_CREDENTIALS; i++) {
      const response = await harness.call('POST', `${base}/${id}/regenerate`, { key: admin, body: { graceSeconds: 600 } });
      expect(response.status).toBe(200);
      keys.push(response.body.key);
    }
    const refused = await harness.call('POST', `${base}/${id}/regenerate`, { key: admin, body: { graceSeconds: 600 } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('GRACE_LIMIT_REACHED');
    // Refused means unchanged: the current key still works.
    expect((await harness.call('GET', '/v1/whoami', { key: keys.at(-1) })).status).toBe(200);
    expect((await harness.call('POST', `${base}/${id}/regenerate`, { key: admin, body: { graceSeconds: 0 } })).status).toBe(200);
  });
});

describe('security', () => {
  describe('another environment', () => {
    let dev: Harness;
    let staging: Harness;
    beforeAll(async () => {
      // Services of other environments that share the table, as the issue's attack assumes.
      dev = await startHarness({ environment: 'development', tables: harness.tables });
      staging = await startHarness({ environment: 'staging', tables: harness.tables });
    });
    afterAll(async () => {
      await dev.stop();
      await staging.stop();
    });

    it('lets a production manager issue staging and development keys', async () => {
      const stagingKey = await create({ ...newKey, environment: 'staging' });
      expect(stagingKey.status).toBe(201);
      expect(stagingKey.body.key).toMatch(/^kr_test_/);
      expect((await staging.call('GET', '/v1/whoami', { key: stagingKey.body.key })).status).toBe(200);
      expect((await create({ ...newKey, environment: 'development' })).body.key).toMatch(/^kr_dev_/);
    });

    it('FORBIDDEN for a development manager issuing production or staging keys', async () => {
      const devManager = (await dev.issue('acme', { permissions: ['keys:manage', 'telemetry:write'] })).key;
      for (const environment of ['production', 'staging']) {
        const response = await dev.call('POST', base, { key: devManager, body: { ...newKey, environment } });
        expect([environment, response.status, response.body.error.code]).toEqual([environment, 403, 'FORBIDDEN']);
        expect(response.body.error.message).toContain('production > staging > development');
      }
    });

    it('keeps a development manager away from production keys on every route: no takeover', async () => {
      const devManager = (await dev.issue('acme', { permissions: ['*'] })).key;
      const { id, key: productionKey } = (await create({ ...newKey, permissions: ['telemetry:write'] })).body;
      const devKey = (await dev.call('POST', base, { key: devManager, body: { ...newKey, environment: 'development' } })).body.id;

      const listed = (await dev.call('GET', base, { key: devManager })).body.keys;
      expect(listed.map((k: { id: string }) => k.id)).toContain(devKey);
      expect(listed.every((k: { environment: string }) => k.environment === 'development')).toBe(true);
      const legacyListed = (await dev.call('GET', '/auth/acme/apiKeys', { key: devManager })).body.keys.map((k: { id: string }) => k.id);
      expect(legacyListed).not.toContain(id);

      const attempts: [string, string, unknown?][] = [
        ['GET', `${base}/${id}`],
        ['PATCH', `${base}/${id}`, { permissions: ['telemetry:write', 'keys:manage'] }],
        ['POST', `${base}/${id}/regenerate`],
        ['DELETE', `${base}/${id}`],
        ['POST', `${base}/${id}/revoke`],
        ['GET', `/auth/acme/apiKeys/${id}`],
        ['DELETE', `/auth/acme/apiKeys/${id}`],
      ];
      for (const [method, path, body] of attempts) {
        const response = await dev.call(method, path, { key: devManager, body });
        expect([method, path, response.status, response.body.error.code]).toEqual([method, path, 403, 'FORBIDDEN']);
      }
      const after = (await harness.call('GET', `${base}/${id}`, { key: admin })).body;
      expect(after).toMatchObject({ status: 'active', permissions: ['telemetry:write'] });
      expect((await harness.call('GET', '/v1/whoami', { key: productionKey })).status).toBe(200);
    });

    it('lets a staging manager manage development keys but not production ones', async () => {
      const stagingManager = (await staging.issue('acme', { permissions: ['keys:manage', 'telemetry:write'] })).key;
      const devKey = (await create({ ...newKey, environment: 'development' })).body.id;
      const production = (await create()).body.id;
      expect((await staging.call('PATCH', `${base}/${devKey}`, { key: stagingManager, body: { name: 'renamed' } })).status).toBe(200);
      expect((await staging.call('PATCH', `${base}/${production}`, { key: stagingManager, body: { name: 'renamed' } })).status).toBe(403);
    });

    it('ENVIRONMENT_MISMATCH for a production key used on the development service', async () => {
      const response = await dev.call('GET', '/v1/whoami', { key: admin });
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('ENVIRONMENT_MISMATCH');
    });
  });

  describe('a higher permission', () => {
    let manager: string;
    beforeAll(async () => {
      manager = (await harness.issue('acme', { permissions: ['keys:manage', 'telemetry:write'] })).key;
    });

    it('INSUFFICIENT_PERMISSIONS, naming the permission, for granting what the manager lacks', async () => {
      const plain = (await harness.issue('acme', { permissions: ['keys:manage'] })).key;
      const minted = await create({ ...newKey, permissions: ['billing:*', 'keys:*'] }, plain);
      expect(minted.status).toBe(403);
      expect(minted.body.error.code).toBe('INSUFFICIENT_PERMISSIONS');
      expect(minted.body.error.message).toContain('`billing:*`');
      // Wildcards only count upwards: keys:manage does not cover keys:*, nor anything cover * but *.
      expect((await create({ ...newKey, permissions: ['keys:*'] }, plain)).body.error.message).toContain('`keys:*`');
      expect((await create({ ...newKey, permissions: ['*'] }, manager)).body.error.message).toContain('`*`');
      const legacy = await harness.call('POST', '/auth/acme/apiKeys', { key: plain, body: { name: 'legacy' } });
      expect([legacy.status, legacy.body.error.code]).toEqual([403, 'INSUFFICIENT_PERMISSIONS']);
      expect((await create({ ...newKey, permissions: ['keys:manage'] }, plain)).status).toBe(201);
    });

    it('lets a wildcard grant what it covers', async () => {
      const billing = (await harness.issue('acme', { permissions: ['keys:manage', 'billing:*'] })).key;
      expect((await create({ ...newKey, permissions: ['billing:read'] }, billing)).status).toBe(201);
      expect((await create({ ...newKey, permissions: ['billing:*'] }, billing)).status).toBe(201);
    });

    it('INSUFFICIENT_PERMISSIONS for changing, regenerating or revoking a key that holds more', async () => {
      const { id, key } = (await create({ ...newKey, permissions: ['telemetry:write', 'billing:*'] })).body;
      const attempts: [string, string, unknown?][] = [
        ['PATCH', `${base}/${id}`, { name: 'mine now' }],
        ['POST', `${base}/${id}/regenerate`],
        ['DELETE', `${base}/${id}`],
        ['POST', `${base}/${id}/revoke`],
        ['DELETE', `/auth/acme/apiKeys/${id}`],
      ];
      for (const [method, path, body] of attempts) {
        const response = await harness.call(method, path, { key: manager, body });
        expect([method, path, response.status, response.body.error.code]).toEqual([method, path, 403, 'INSUFFICIENT_PERMISSIONS']);
        expect(response.body.error.message).toContain('`billing:*`');
      }
      // Reading it is fine, and nothing changed.
      expect((await harness.call('GET', `${base}/${id}`, { key: manager })).body).toMatchObject({ name: 'sensor fleet', status: 'active' });
      expect((await harness.call('GET', '/v1/whoami', { key })).status).toBe(200);
    });

    it('INSUFFICIENT_PERMISSIONS for a PATCH granting more than the manager holds', async () => {
      const { id } = (await create()).body;
      const response = await harness.call('PATCH', `${base}/${id}`, { key: manager, body: { permissions: ['telemetry:write', 'keys:*'] } });
      expect([response.status, response.body.error.code]).toEqual([403, 'INSUFFICIENT_PERMISSIONS']);
      expect(response.body.error.message).toContain('`keys:*`');
      expect((await harness.call('GET', `${base}/${id}`, { key: admin })).body.permissions).toEqual(['telemetry:write']);
    });
  });

  describe('self-escalation', () => {
    it.each([
      ['permissions', { permissions: ['keys:manage', 'telemetry:write', 'billing:*'] }],
      ['rate limit', { rateLimit: { limit: 1_000_000_000, windowSeconds: 1 } }],
      ['enabled flag', { enabled: true }],
      ['expiry', { expiresAt: null }],
    ])('INSUFFICIENT_PERMISSIONS for a key changing its own %s, even the owner key', async (_, body) => {
      for (const permissions of [['keys:manage', 'telemetry:write'], ['*']]) {
        const self = await harness.issue('acme', { permissions });
        const response = await harness.call('PATCH', `${base}/${self.id}`, { key: self.key, body });
        expect([response.status, response.body.error.code]).toEqual([403, 'INSUFFICIENT_PERMISSIONS']);
        expect(response.body.error.message).toContain('may not change its own');
      }
    });

    it('lets a key rename, regenerate or revoke itself', async () => {
      const self = await harness.issue('acme', { permissions: ['keys:manage'] });
      expect((await harness.call('PATCH', `${base}/${self.id}`, { key: self.key, body: { name: 'me' } })).status).toBe(200);
      const regenerated = await harness.call('POST', `${base}/${self.id}/regenerate`, { key: self.key });
      expect(regenerated.status).toBe(200);
      expect((await harness.call('DELETE', `${base}/${self.id}`, { key: regenerated.body.key })).status).toBe(200);
    });
  });

  it('INSUFFICIENT_PERMISSIONS for a key without keys:manage', async () => {
    const { key } = await harness.issue('acme', { permissions: ['telemetry:write'] });
    for (const [method, path] of [['GET', base], ['POST', base], ['GET', '/auth/acme/apiKeys']]) {
      const response = await harness.call(method, path, { key, body: method === 'POST' ? newKey : undefined });
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('INSUFFICIENT_PERMISSIONS');
    }
  });

  describe('another tenant', () => {
    it("FORBIDDEN for another tenant's keys, on every route", async () => {
      const otherAdmin = (await harness.issue('globex', { permissions: ['*'] })).key;
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
        ['POST', '/auth/acme/apiKeys', { name: 'x' }],
        ['GET', `/auth/acme/apiKeys/${id}`],
        ['DELETE', `/auth/acme/apiKeys/${id}`],
      ];
      for (const [method, path, body] of attempts) {
        const response = await harness.call(method, path, { key: otherAdmin, body });
        expect([method, path, response.status, response.body.error.code]).toEqual([method, path, 403, 'FORBIDDEN']);
      }
      expect((await harness.call('GET', `${base}/${id}`, { key: admin })).body.status).toBe('active');
    });
  });

  describe('another customer', () => {
    it("FORBIDDEN for another customer's keys; a customer-scoped manager sees only its own", async () => {
      const customerAdmin = (await harness.issue('acme', { permissions: ['keys:manage', 'telemetry:write'], customerId: 'cust-a' })).key;
      const foreign = (await create({ ...newKey, customerId: 'cust-b' })).body.id;
      const own = await create({ ...newKey }, customerAdmin);
      expect(own.status).toBe(201);
      expect(own.body.customerId).toBe('cust-a');
      expect((await create({ ...newKey, customerId: 'cust-b' }, customerAdmin)).body.error.code).toBe('FORBIDDEN');
      for (const [method, path, body] of [
        ['GET', `${base}/${foreign}`],
        ['PATCH', `${base}/${foreign}`, { name: 'x' }],
        ['POST', `${base}/${foreign}/regenerate`],
        ['DELETE', `${base}/${foreign}`],
        ['DELETE', `/auth/acme/apiKeys/${foreign}`],
      ] as [string, string, unknown?][]) {
        const response = await harness.call(method, path, { key: customerAdmin, body });
        expect([method, path, response.status, response.body.error.code]).toEqual([method, path, 403, 'FORBIDDEN']);
      }
      const listed = (await harness.call('GET', base, { key: customerAdmin })).body.keys;
      expect(listed.length).toBeGreaterThan(0);
      expect(listed.every((k: { customerId: string }) => k.customerId === 'cust-a')).toBe(true);
    });
  });
});
