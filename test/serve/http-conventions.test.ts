/** What HTTP clients expect beyond the status code: Allow on 405, WWW-Authenticate on 401, Location on 201. */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { declaredPermissionsItemKey } from '../../lambda/store/declared-permissions';
import { type Harness, startHarness } from '../support/service-harness';

let harness: Harness;
let owner: string;
const base = '/v1/tenants/acme/api-keys';
const newKey = { name: 'fleet', environment: 'production', permissions: ['telemetry:write'] };

beforeAll(async () => {
  harness = await startHarness();
  owner = (await harness.issue('acme', { permissions: ['*'] })).key;
});
afterAll(() => harness.stop());

describe('405 Method Not Allowed', () => {
  it.each([
    ['PUT', base, 'GET, HEAD, POST'],
    ['POST', `${base}/key_AAAAAAAAAAAAAAAAAAAA`, 'DELETE, GET, HEAD, PATCH'],
    ['GET', `${base}/key_AAAAAAAAAAAAAAAAAAAA/regenerate`, 'POST'],
    ['PUT', '/v1/telemetry', 'GET, HEAD, POST'],
    ['DELETE', '/v1/whoami', 'GET, HEAD'],
    ['PATCH', '/auth/acme/apiKeys/key_AAAAAAAAAAAAAAAAAAAA', 'DELETE, GET, HEAD'],
  ])('%s %s answers 405 with Allow: %s', async (method, path, allow) => {
    const response = await harness.call(method, path, { key: owner });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe(allow);
    expect(response.body.error).toEqual({ code: 'METHOD_NOT_ALLOWED', message: expect.stringContaining(`it answers ${allow}`) });
  });

  it('answers OPTIONS with the allowed methods, and an unknown path stays 404', async () => {
    const options = await harness.call('OPTIONS', base);
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('GET, HEAD, POST');
    const unknown = await harness.call('PUT', '/v1/nothing-here', { key: owner });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('allow')).toBeNull();
  });
});

describe('401 WWW-Authenticate', () => {
  it('names the Bearer scheme, and invalid_token when a key was sent', async () => {
    const missing = await harness.call('GET', '/v1/whoami');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="keyroll"');
    const invalid = await harness.call('GET', base, { headers: { authorization: 'Bearer kr_live_nope' } });
    expect(invalid.status).toBe(401);
    expect(invalid.headers.get('www-authenticate')).toBe('Bearer realm="keyroll", error="invalid_token"');
    const forbidden = await harness.call('GET', '/v1/tenants/globex/api-keys', { key: owner });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('www-authenticate')).toBeNull();
  });
});

describe('201 Location', () => {
  it('points at the created key, for both shapes', async () => {
    const created = await harness.call('POST', base, { key: owner, body: newKey });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${base}/${created.body.id}`);
    expect((await harness.call('GET', created.headers.get('location')!, { key: owner })).body.id).toBe(created.body.id);
    const legacy = await harness.call('POST', '/auth/acme/apiKeys', { key: owner, body: { name: 'legacy' } });
    expect(legacy.headers.get('location')).toBe(`/auth/acme/apiKeys/${legacy.body.id}`);
  });
});

describe('permission names', () => {
  it('refuses a misspelt permission with a did-you-mean and the known list', async () => {
    const response = await harness.call('POST', base, { key: owner, body: { ...newKey, permissions: ['keys:manage', 'telemetry:wrte'] } });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_ERROR');
    expect(response.body.error.message).toContain('`body.permissions.1` is `telemetry:wrte`, which is not a known permission');
    expect(response.body.error.message).toContain('Did you mean `telemetry:write`?');
    expect(response.body.error.message).toContain('keys:manage, telemetry:*, telemetry:read, telemetry:write');
    const { id } = (await harness.call('POST', base, { key: owner, body: newKey })).body;
    const patched = await harness.call('PATCH', `${base}/${id}`, { key: owner, body: { permissions: ['telemtry:write'] } });
    expect([patched.status, patched.body.error.message]).toEqual([400, expect.stringContaining('Did you mean `telemetry:write`?')]);
  });

  it("holds a tenant to the permissions it declared, and accepts its own resources' permissions when it declared none", async () => {
    expect((await harness.call('POST', base, { key: owner, body: { ...newKey, permissions: ['billing:read'] } })).status).toBe(201);
    await createDocumentClient().send(
      new PutCommand({ TableName: harness.tables.keys, Item: { ...declaredPermissionsItemKey('declared'), kind: 'permissions', permissions: ['billing:read', 'customers:read'] } }),
    );
    const declaredOwner = (await harness.issue('declared', { permissions: ['*'] })).key;
    const create = (permissions: string[]) =>
      harness.call('POST', '/v1/tenants/declared/api-keys', { key: declaredOwner, body: { ...newKey, permissions } });
    expect((await create(['billing:read', 'customers:*', 'telemetry:write'])).status).toBe(201);
    const refused = await create(['billing:raed']);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('Did you mean `billing:read`?');
    expect((await create(['reports:read'])).body.error.message).toContain("keyroll's own and the tenant's declared ones");
  });
});
