/**
 * A key's credentials over HTTP against DynamoDB on the emulator: a pending credential opens the
 * key, a promotion keeps the old one in grace until the time given, usage is recorded per credential
 * (on each credential's pointer, which every change keeps), and GET of one key shows it all.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { hashCredential } from '../../lambda/keys/credential-hash';
import { generateKey } from '../../lambda/keys/key-format';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { secretItemKey } from '../../lambda/store/table-layout';
import { countingSecretReads } from '../support/secret-reads';
import { type Harness, startHarness } from '../support/service-harness';
import { POINTER_LINGER_SECONDS } from '../../lambda/store/credential-pointers';

let harness: Harness;
let admin: string;
let reads: ReturnType<typeof countingSecretReads>;
const base = '/v1/tenants/acme/api-keys';
const documentClient = createDocumentClient();

beforeAll(async () => {
  reads = countingSecretReads();
  // No cache: every request reads the store, so a change made straight in the store applies to the
  // next request (the cache's own bounds are tested elsewhere). Usage is flushed by the tests.
  harness = await startHarness({ service: { documentClient: reads.documentClient, autoFlushUsage: false, cache: { freshMs: 0, maxStaleMs: 0 } } });
  admin = (await harness.issue('acme', { permissions: ['*'] })).key;
});
afterAll(() => harness.stop());

const whoami = async (key: string) => (await harness.call('GET', '/v1/whoami', { key })).status;
const flushUsage = () => harness.server.service.deps.usage.flush();
const getKey = async (id: string) => (await harness.call('GET', `${base}/${id}`, { key: admin })).body;
const pointer = async (credential: string) =>
  (await documentClient.send(new GetCommand({ TableName: harness.tables.keys, Key: secretItemKey(hashCredential(credential)), ConsistentRead: true }))).Item;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('pending credential', () => {
  it('opens the key beside the current one, and stops when the rotation is dropped', async () => {
    const { id, key: current } = await harness.issue('acme', { permissions: ['telemetry:write'] });
    const pending = generateKey('production');
    expect(await whoami(pending)).toBe(401);

    await harness.manager.addPending('acme', id, pending, 'v1');
    expect(await whoami(pending)).toBe(200);
    expect(await whoami(current)).toBe(200);
    expect((await harness.call('GET', '/v1/whoami', { key: pending })).body.keyId).toBe(id);

    await harness.manager.dropPending('acme', id, 'v1');
    expect(await whoami(pending)).toBe(401);
    expect(await whoami(current)).toBe(200);
    const dropped = await pointer(pending);
    expect(dropped?.ttl * 1000).toBeGreaterThan(Date.now());
    expect(dropped?.ttl * 1000).toBeLessThanOrEqual(Date.now() + (POINTER_LINGER_SECONDS + 60) * 1000);
  });

  it('refuses a plain regeneration over HTTP while a rotation is pending', async () => {
    const { id } = await harness.issue('acme', { permissions: ['telemetry:write'] });
    await harness.manager.addPending('acme', id, generateKey('production'), 'v1');
    const refused = await harness.call('POST', `${base}/${id}/regenerate`, { key: admin });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('ROTATION_IN_PROGRESS');
  });
});

describe('promotion', () => {
  it('makes the pending credential current and keeps the old one in grace until the time given, then refuses it', async () => {
    const { id, key: old } = await harness.issue('acme', { permissions: ['telemetry:write'] });
    const fresh = generateKey('production');
    await harness.manager.addPending('acme', id, fresh, 'v1');
    const graceUntil = new Date(Date.now() + 4000);
    await harness.manager.promotePending('acme', id, 'v1', graceUntil);
    // A retried finishSecret changes nothing.
    const again = await harness.manager.promotePending('acme', id, 'v1', graceUntil);
    expect(again.version).toBe((await harness.manager.get('acme', id)).version);

    expect(await whoami(fresh)).toBe(200);
    expect(await whoami(old)).toBe(200);
    expect((await getKey(id)).credentials).toEqual([
      { start: fresh.slice(0, 12), state: 'current' },
      { start: old.slice(0, 12), state: 'grace', validUntil: graceUntil.toISOString() },
    ]);
    // The promoted credential keeps its pointer (no collision, no expiry); the old one expires with its grace.
    expect((await pointer(fresh))?.ttl).toBeUndefined();
    expect((await pointer(old))?.ttl).toBe(Math.ceil(graceUntil.getTime() / 1000) + POINTER_LINGER_SECONDS);

    await sleep(graceUntil.getTime() - Date.now() + 100);
    expect(await whoami(old)).toBe(401);
    expect(await whoami(fresh)).toBe(200);
    expect((await getKey(id)).credentials.map((c: { state: string }) => c.state)).toEqual(['current']);
  });

  it('stops a grace credential the sweep retires at once', async () => {
    const { id, key: old } = await harness.issue('acme', { permissions: ['telemetry:write'] });
    await harness.manager.addPending('acme', id, generateKey('production'), 'v1');
    await harness.manager.promotePending('acme', id, 'v1', new Date(Date.now() + 3600_000));
    expect(await whoami(old)).toBe(200);
    await harness.manager.retireGrace('acme', id, hashCredential(old));
    expect(await whoami(old)).toBe(401);
  });
});

describe('per-credential last use', () => {
  it('shows lastUsedAt for the credential that was used and not for the other, and keeps it across the cutover', async () => {
    const { id, key: current } = await harness.issue('acme', { permissions: ['telemetry:write'] });
    const pending = generateKey('production');
    await harness.manager.addPending('acme', id, pending, 'v1');
    const before = new Date().toISOString();
    expect(await whoami(current)).toBe(200);
    await flushUsage();

    const [currentView, pendingView] = (await getKey(id)).credentials;
    expect(currentView).toEqual({ start: current.slice(0, 12), state: 'current', lastUsedAt: expect.any(String) });
    expect(currentView.lastUsedAt >= before).toBe(true);
    expect(pendingView).toEqual({ start: pending.slice(0, 12), state: 'pending' });

    // /v1/verify is a use too, of the credential it checks.
    expect((await harness.call('POST', '/v1/verify', { body: { key: pending } })).body.valid).toBe(true);
    await flushUsage();
    const usedAt = (await getKey(id)).credentials.map((c: { lastUsedAt?: string }) => c.lastUsedAt);
    expect(usedAt).toEqual([currentView.lastUsedAt, expect.any(String)]);

    // The cutover rewrites both pointers' roles, never their last use.
    await harness.manager.promotePending('acme', id, 'v1', new Date(Date.now() + 3600_000));
    const afterCutover = (await getKey(id)).credentials;
    expect(afterCutover).toEqual([
      { start: pending.slice(0, 12), state: 'current', lastUsedAt: usedAt[1] },
      { start: current.slice(0, 12), state: 'grace', validUntil: expect.any(String), lastUsedAt: usedAt[0] },
    ]);
    expect(await harness.manager.credentialLastUsed([hashCredential(current), hashCredential(pending)])).toEqual(
      new Map([
        [hashCredential(current), usedAt[0]],
        [hashCredential(pending), usedAt[1]],
      ]),
    );
  });

  it('counts a refused use of a known credential (a disabled key) for that credential', async () => {
    const { id, key } = await harness.issue('acme', { permissions: ['telemetry:write'] });
    await harness.manager.update('acme', id, { enabled: false });
    expect(await whoami(key)).toBe(401);
    await flushUsage();
    expect((await getKey(id)).credentials[0].lastUsedAt).toEqual(expect.any(String));
  });

  it('reads each credential once for GET of one key, and none for the list, whose credentials carry no lastUsedAt', async () => {
    const { id, key: current } = await harness.issue('acme', { permissions: ['telemetry:write'] });
    const pending = generateKey('production');
    await harness.manager.addPending('acme', id, pending, 'v1');
    const [currentReads, pendingReads] = [reads.readsOf(current), reads.readsOf(pending)];

    await getKey(id);
    expect([reads.readsOf(current) - currentReads, reads.readsOf(pending) - pendingReads]).toEqual([1, 1]);

    const listed = (await harness.call('GET', `${base}?limit=1000`, { key: admin })).body.keys.find((k: { id: string }) => k.id === id);
    expect([reads.readsOf(current) - currentReads, reads.readsOf(pending) - pendingReads]).toEqual([1, 1]);
    expect(listed.credentials).toEqual([
      { start: current.slice(0, 12), state: 'current' },
      { start: pending.slice(0, 12), state: 'pending' },
    ]);
  });

  it('never shows a credential or its hash, and a revoked key has no credentials', async () => {
    const { id, key } = await harness.issue('acme', { permissions: ['telemetry:write'] });
    const pending = generateKey('production');
    await harness.manager.addPending('acme', id, pending, 'v1');
    const response = await harness.call('GET', `${base}/${id}`, { key: admin });
    for (const secret of [key, pending, hashCredential(key), hashCredential(pending)]) expect(response.text).not.toContain(secret);
    const revoked = await harness.call('DELETE', `${base}/${id}`, { key: admin });
    expect(revoked.body.credentials).toEqual([]);
    expect(await whoami(pending)).toBe(401);
  });
});
