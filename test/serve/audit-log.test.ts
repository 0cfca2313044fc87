/**
 * The audit log over HTTP against the emulator: one entry per management action with its actor,
 * changes, source IP and user agent; pages and the per-key view; who may read what; a failed audit
 * write never fails the action; and no audit item ever holds a credential or a credential's hash.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import type { LambdaEvent } from 'hono/aws-lambda';
import { hashCredential } from '../../lambda/keys/credential-hash';
import { generateKey, KEY_PATTERN_GLOBAL } from '../../lambda/keys/key-format';
import type { ApiKeyRecord } from '../../lambda/keys/key-record';
import { createLambdaHandler } from '../../lambda/serve/lambda-handler';
import { startServer } from '../../lambda/serve/node-server';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { call, type Harness, startHarness } from '../support/service-harness';

let harness: Harness;
let admin: string;
let adminId: string;
/** Every credential this file saw, to check none reached the audit log. */
const credentials = new Set<string>();
const UA = 'audit-test/1.0 (jest)';

const keysBase = (tenant: string) => `/v1/tenants/${tenant}/api-keys`;
const newKey = { name: 'sensor fleet', environment: 'production', permissions: ['telemetry:write'] };

beforeAll(async () => {
  harness = await startHarness();
  const owner = await harness.issue('acme', { permissions: ['*'] });
  admin = owner.key;
  adminId = owner.id;
  credentials.add(admin);
});
afterAll(() => harness.stop());

/** A management call as a browser or CLI makes it: with a User-Agent. */
const manage = async (method: string, path: string, body?: unknown, key = admin, headers: Record<string, string> = {}) => {
  const response = await harness.call(method, path, { key, body, headers: { 'user-agent': UA, ...headers } });
  if (typeof response.body?.key === 'string') credentials.add(response.body.key);
  return response;
};

const audit = (tenant: string, query: Record<string, string> = {}, key = admin) =>
  harness.call('GET', `/v1/tenants/${tenant}/audit?${new URLSearchParams(query)}`, { key });

describe('entries', () => {
  it('records each management action once, with the calling key, the changed fields, source IP and user agent', async () => {
    const created = await manage('POST', keysBase('acme'), { ...newKey, tags: ['fleet-a'], rateLimit: { limit: 100, windowSeconds: 10 } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const path = `${keysBase('acme')}/${id}`;
    expect((await manage('PATCH', path, { name: 'renamed', tags: ['fleet-b'] })).status).toBe(200);
    expect((await manage('PATCH', path, { enabled: false })).status).toBe(200);
    expect((await manage('PATCH', path, { enabled: true })).status).toBe(200);
    expect((await manage('POST', `${path}/regenerate`, { graceSeconds: 60 })).status).toBe(200);
    expect((await manage('POST', `${path}/revoke`)).status).toBe(200);
    // Revoking a revoked key changes nothing, so it records nothing.
    expect((await manage('DELETE', path)).status).toBe(200);

    const listed = await audit('acme', { keyId: id });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('cache-control')).toBe('no-store');
    expect(listed.body.nextCursor).toBeNull();
    const entries = listed.body.entries;
    expect(entries.map((e: { action: string }) => e.action)).toEqual(['revoke', 'regenerate', 'enable', 'disable', 'update', 'create']);
    for (const entry of entries) {
      expect(entry).toMatchObject({ tenant: 'acme', keyId: id, actor: { type: 'key', keyId: adminId }, sourceIp: '127.0.0.1', userAgent: UA });
      expect(entry.id).toMatch(/^aud_[0-9A-Za-z]{20}$/);
    }
    const [revoke, regenerate, enable, disable, update, create] = entries;
    expect(create.changes).toEqual({
      name: { from: null, to: 'sensor fleet' },
      permissions: { from: null, to: ['telemetry:write'] },
      rateLimit: { from: null, to: { limit: 100, windowSeconds: 10 } },
      enabled: { from: null, to: true },
      tags: { from: null, to: ['fleet-a'] },
    });
    expect(update.changes).toEqual({ name: { from: 'sensor fleet', to: 'renamed' }, tags: { from: ['fleet-a'], to: ['fleet-b'] } });
    expect(disable.changes).toEqual({ enabled: { from: true, to: false } });
    expect(enable.changes).toEqual({ enabled: { from: false, to: true } });
    expect(regenerate.changes).toBeUndefined();
    expect(revoke.changes).toBeUndefined();
    // Newest first.
    expect([...entries].map((e: { at: string }) => e.at)).toEqual([...entries].map((e: { at: string }) => e.at).sort().reverse());
  });

  it('records the /auth shape\'s create and revoke too', async () => {
    const created = await manage('POST', '/auth/acme/apiKeys', { name: 'legacy integration' });
    expect(created.status).toBe(201);
    expect((await manage('DELETE', `/auth/acme/apiKeys/${created.body.id}`)).status).toBe(200);
    const entries = (await audit('acme', { keyId: created.body.id })).body.entries;
    expect(entries).toEqual([
      expect.objectContaining({ action: 'revoke', actor: { type: 'key', keyId: adminId }, userAgent: UA }),
      expect.objectContaining({ action: 'create', actor: { type: 'key', keyId: adminId }, changes: expect.objectContaining({ name: { from: null, to: 'legacy integration' } }) }),
    ]);
  });

  it('masks a key pasted into a user agent or a name', async () => {
    const leaked = generateKey('production');
    credentials.add(leaked);
    const created = await manage('POST', keysBase('acme'), { ...newKey, name: `oops ${leaked}` }, admin, { 'user-agent': `curl/8.5 ${leaked}` });
    expect(created.status).toBe(201);
    const [entry] = (await audit('acme', { keyId: created.body.id })).body.entries;
    expect(entry.userAgent).toBe(`curl/8.5 ${leaked.slice(0, 12)}…`);
    expect(entry.changes.name.to).toBe(`oops ${leaked.slice(0, 12)}…`);
  });

  it('takes the source IP from the socket, and from X-Forwarded-For only when told to trust that many proxies', async () => {
    const spoofed = await manage('POST', keysBase('acme'), newKey, admin, { 'x-forwarded-for': '203.0.113.9' });
    expect((await audit('acme', { keyId: spoofed.body.id })).body.entries[0].sourceIp).toBe('127.0.0.1');

    const behindProxy = await startServer(0, { config: { environment: 'production', extraKeyHeaders: [], tables: harness.tables, trustedProxyHops: 1 } });
    try {
      const created = await call(behindProxy.url, 'POST', keysBase('acme'), { key: admin, body: newKey, headers: { 'x-forwarded-for': '198.51.100.20, 203.0.113.9' } });
      credentials.add(created.body.key);
      // One trusted proxy appended the last address: that is the client it saw. The first is the client's own claim.
      expect((await audit('acme', { keyId: created.body.id })).body.entries[0].sourceIp).toBe('203.0.113.9');
    } finally {
      await behindProxy.stop();
    }
  });

  it('takes the source IP of a Lambda request from the function URL\'s request context', async () => {
    const handler = createLambdaHandler({ config: { environment: 'production', extraKeyHeaders: [], tables: harness.tables } });
    const path = keysBase('acme');
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath: path,
      rawQueryString: '',
      headers: { host: 'keyroll.lambda-url.eu-west-1.on.aws', 'x-api-key': admin, 'content-type': 'application/json', 'user-agent': UA, 'x-forwarded-for': '203.0.113.9' },
      requestContext: {
        accountId: 'anonymous',
        apiId: 'keyroll',
        domainName: 'keyroll.lambda-url.eu-west-1.on.aws',
        domainPrefix: 'keyroll',
        http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: UA },
        requestId: randomUUID(),
        routeKey: '$default',
        stage: '$default',
        time: new Date().toUTCString(),
        timeEpoch: Date.now(),
      },
      body: JSON.stringify(newKey),
      isBase64Encoded: false,
    };
    const result = await handler(event as unknown as LambdaEvent);
    expect(result.statusCode).toBe(201);
    const created = JSON.parse(result.body);
    credentials.add(created.key);
    expect((await audit('acme', { keyId: created.id })).body.entries[0]).toMatchObject({ action: 'create', sourceIp: '198.51.100.7', userAgent: UA });
  });
});

describe('reading', () => {
  it('pages through a tenant\'s entries newest first, with a cursor', async () => {
    const tenant = `pages-${randomBytes(3).toString('hex')}`;
    const owner = await harness.issue(tenant, { permissions: ['*'] });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await manage('POST', keysBase(tenant), { ...newKey, name: `k${i}` }, owner.key)).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await audit(tenant, { limit: '2', ...(cursor ? { cursor } : {}) }, owner.key);
      expect(page.status).toBe(200);
      expect(page.body.entries.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.entries.map((e: { keyId: string }) => e.keyId));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(seen).toEqual([...ids].reverse());
    expect(pages).toBe(3);
  });

  it('refuses a cursor it did not hand out, and a malformed or unknown key id', async () => {
    const forged = Buffer.from('TENANT#other#KEY#x', 'utf8').toString('base64url');
    const cases: Array<[Record<string, string>, number, string]> = [
      [{ cursor: forged }, 400, 'query.cursor'],
      [{ keyId: 'not-a-key' }, 400, 'query.keyId'],
      [{ limit: '0' }, 400, 'query.limit'],
      [{ since: 'yesterday' }, 400, 'query'],
      [{ keyId: `key_${'A'.repeat(20)}` }, 404, ''],
    ];
    for (const [query, status, field] of cases) {
      const response = await audit('acme', query);
      expect({ query, status: response.status }).toEqual({ query, status });
      if (field) expect(response.body.error.message).toContain(`\`${field}`);
    }
  });

  it('shows the per-key view only that key\'s entries', async () => {
    const a = (await manage('POST', keysBase('acme'), newKey)).body.id;
    const b = (await manage('POST', keysBase('acme'), newKey)).body.id;
    await manage('PATCH', `${keysBase('acme')}/${a}`, { name: 'a2' });
    const forA = (await audit('acme', { keyId: a })).body.entries;
    expect(forA.map((e: { keyId: string; action: string }) => [e.keyId, e.action])).toEqual([
      [a, 'update'],
      [a, 'create'],
    ]);
    const all = (await audit('acme', { limit: '1000' })).body.entries.map((e: { keyId: string }) => e.keyId);
    expect(all).toEqual(expect.arrayContaining([a, b]));
  });
});

describe('security', () => {
  it('refuses another tenant\'s manager, and a key without keys:manage', async () => {
    const other = await harness.issue('globex', { permissions: ['*'] });
    const reader = await harness.issue('acme', { permissions: ['telemetry:write'] });
    credentials.add(other.key).add(reader.key);
    expect((await audit('acme', {}, other.key)).status).toBe(403);
    expect((await audit('acme', { keyId: adminId }, other.key)).status).toBe(403);
    const refused = await audit('acme', {}, reader.key);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('INSUFFICIENT_PERMISSIONS');
  });

  it('shows a customer-scoped manager only its customer\'s keys\' entries', async () => {
    const tenant = `cust-${randomBytes(3).toString('hex')}`;
    const owner = await harness.issue(tenant, { permissions: ['*'] });
    const scoped = await harness.issue(tenant, { permissions: ['keys:manage', 'telemetry:write'], customerId: 'cust-a' });
    credentials.add(owner.key).add(scoped.key);
    const mine = (await manage('POST', keysBase(tenant), newKey, scoped.key)).body.id;
    const theirs = (await manage('POST', keysBase(tenant), { ...newKey, customerId: 'cust-b' }, owner.key)).body.id;
    const unscoped = (await manage('POST', keysBase(tenant), newKey, owner.key)).body.id;

    const seen = (await audit(tenant, {}, scoped.key)).body.entries.map((e: { keyId: string }) => e.keyId);
    expect(seen).toEqual([mine]);
    expect((await audit(tenant, { keyId: theirs }, scoped.key)).status).toBe(403);
    expect((await audit(tenant, { keyId: unscoped }, scoped.key)).status).toBe(403);
    // The owner sees all three.
    expect((await audit(tenant, {}, owner.key)).body.entries.map((e: { keyId: string }) => e.keyId)).toEqual([unscoped, theirs, mine]);
  });

  it('leaves out entries of keys above the caller\'s environment', async () => {
    const tenant = `env-${randomBytes(3).toString('hex')}`;
    const owner = await harness.issue(tenant, { permissions: ['*'] });
    credentials.add(owner.key);
    const production = (await manage('POST', keysBase(tenant), newKey, owner.key)).body.id;
    const development = (await manage('POST', keysBase(tenant), { ...newKey, environment: 'development' }, owner.key)).body.id;

    const dev = await startHarness({ environment: 'development', tables: harness.tables });
    try {
      const devManager = await dev.issue(tenant, { permissions: ['keys:manage', 'telemetry:write'] });
      credentials.add(devManager.key);
      const seen = await dev.call('GET', `/v1/tenants/${tenant}/audit`, { key: devManager.key });
      expect(seen.status).toBe(200);
      expect(seen.body.entries.map((e: { keyId: string }) => e.keyId)).toEqual([development]);
      const above = await dev.call('GET', `/v1/tenants/${tenant}/audit?keyId=${production}`, { key: devManager.key });
      expect(above.status).toBe(403);
      expect(above.body.error.code).toBe('FORBIDDEN');
    } finally {
      await dev.stop();
    }
  });
});

describe('a failing audit log', () => {
  it('never fails the action it records: the action answers as usual, and the failure is logged without plaintext', async () => {
    const client = new DynamoDBClient({ maxAttempts: 1 });
    let refused = 0;
    client.middlewareStack.add(
      (next) => async (args) => {
        if (JSON.stringify((args as { input?: unknown }).input ?? {}).includes('"AUDIT#')) {
          refused += 1;
          throw Object.assign(new Error('injected audit outage'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
        }
        return next(args);
      },
      { step: 'initialize', name: 'auditOutage' },
    );
    const lines: string[] = [];
    // The Powertools logger writes errors to stderr, the rest to stdout.
    const spies = [process.stdout, process.stderr].map((stream) =>
      jest.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array) => {
        lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        return true;
      }) as typeof stream.write),
    );
    const failing = await startServer(0, { documentClient: createDocumentClient({ client }), config: { environment: 'production', extraKeyHeaders: [], tables: harness.tables } });
    try {
      const created = await call(failing.url, 'POST', keysBase('acme'), { key: admin, body: newKey });
      expect(created.status).toBe(201);
      credentials.add(created.body.key);
      const path = `${keysBase('acme')}/${created.body.id}`;
      expect((await call(failing.url, 'PATCH', path, { key: admin, body: { enabled: false } })).status).toBe(200);
      const regenerated = await call(failing.url, 'POST', `${path}/regenerate`, { key: admin, body: {} });
      expect(regenerated.status).toBe(200);
      credentials.add(regenerated.body.key);
      expect((await call(failing.url, 'POST', `${path}/revoke`, { key: admin })).status).toBe(200);
      expect(refused).toBe(4);
      // Nothing was written: the key has no entries (read through the healthy service).
      expect((await audit('acme', { keyId: created.body.id })).body.entries).toEqual([]);
    } finally {
      await failing.stop();
      for (const spy of spies) spy.mockRestore();
    }
    const failures = lines.filter((line) => line.includes('audit write failed'));
    expect(failures).toHaveLength(4);
    const logged = lines.join('\n');
    expect(logged.match(KEY_PATTERN_GLOBAL) ?? []).toEqual([]);
    for (const credential of credentials) expect(logged.includes(credential.slice(12))).toBe(false);
  });
});

describe('secrecy', () => {
  it('holds no credential and no credential hash in any audit item of the table', async () => {
    // Make sure there is something of every kind to scan.
    const created = await manage('POST', keysBase('acme'), newKey);
    await manage('POST', `${keysBase('acme')}/${created.body.id}/regenerate`, { graceSeconds: 30 });
    const documentClient = createDocumentClient();
    const auditItems: string[] = [];
    const hashes = new Set<string>([...credentials].map(hashCredential));
    for await (const page of paginateScan({ client: documentClient }, { TableName: harness.tables.keys })) {
      for (const item of page.Items ?? []) {
        if (String(item.pk).startsWith('AUDIT#')) auditItems.push(JSON.stringify(item));
        if (item.kind === 'key') {
          const record = item as unknown as ApiKeyRecord;
          hashes.add(record.credentialHash);
          for (const grace of record.graceCredentials ?? []) hashes.add(grace.hash);
          if (record.pendingCredential) hashes.add(record.pendingCredential.hash);
        }
      }
    }
    // Both views of every entry, and enough of them for the scan to mean something.
    expect(auditItems.length).toBeGreaterThan(40);
    expect(hashes.size).toBeGreaterThan(10);
    const text = auditItems.join('\n');
    expect(text.match(KEY_PATTERN_GLOBAL) ?? []).toEqual([]);
    for (const credential of credentials) expect({ credential: credential.slice(0, 12), found: text.includes(credential.slice(12)) }).toEqual({ credential: credential.slice(0, 12), found: false });
    for (const hash of hashes) expect({ hash, found: text.includes(hash) }).toEqual({ hash, found: false });
  });
});
