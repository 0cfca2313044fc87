/** Usage counters, the verifier cache's staleness bounds, and behaviour when the store fails. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { generateKey } from '../../lambda/keys/key-format';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { type Harness, startHarness, uniqueTables } from '../support/service-harness';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A DynamoDB client whose calls can be counted and made to fail, through SDK middleware. */
function instrumentedClient() {
  const state = { calls: 0, failing: false };
  const client = new DynamoDBClient({ maxAttempts: 1 });
  client.middlewareStack.add(
    (next) => async (args) => {
      state.calls += 1;
      if (state.failing) throw Object.assign(new Error('injected outage'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
      return next(args);
    },
    { step: 'initialize', name: 'faultInjection' },
  );
  return { state, documentClient: createDocumentClient({ client }) };
}

describe('usage', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness.stop());

  it('counts requests and errors and sets lastUsedAt, visible within 10 s without a write per request', async () => {
    const admin = (await harness.issue('acme', { permissions: ['keys:manage'] })).key;
    const { id, key } = await harness.issue('acme', { permissions: ['customers:read'] });
    const before = Date.now();
    for (let i = 0; i < 5; i++) await harness.call('GET', '/v1/whoami', { key });
    for (let i = 0; i < 2; i++) await harness.call('POST', '/v1/telemetry', { key, body: { deviceId: 'd' } });
    const deadline = Date.now() + 10_000;
    let view: any;
    do {
      await sleep(250);
      view = (await harness.call('GET', `/v1/tenants/acme/api-keys/${id}`, { key: admin })).body;
    } while (view.requestCount < 7 && Date.now() < deadline);
    expect(view).toMatchObject({ requestCount: 7, errorCount: 2 });
    expect(Date.parse(view.lastUsedAt)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('never moves lastUsedAt backwards when an older batch lands late', async () => {
    const { id } = await harness.issue('acme', { permissions: ['telemetry:write'] });
    const store = harness.server.service.deps.usage;
    store.record('acme', id, 200, Date.parse('2026-06-01T12:00:00Z'));
    await store.flush();
    store.record('acme', id, 500, Date.parse('2026-06-01T11:00:00Z'));
    await store.flush();
    const record = await harness.manager.get('acme', id);
    expect(record).toMatchObject({ lastUsedAt: '2026-06-01T12:00:00.000Z', requestCount: 2, errorCount: 1 });
  });
});

describe('usage under partial store failure', () => {
  it('retries only the usage writes that failed, so nothing is lost or counted twice', async () => {
    const failingKey: { id?: string } = {};
    const client = new DynamoDBClient({ maxAttempts: 1 });
    client.middlewareStack.add(
      (next) => async (args) => {
        // The usage write (a transaction with the key record's ADD) of that one key.
        const input = JSON.stringify(args.input);
        if (failingKey.id && input.includes('ADD requestCount') && input.includes(`"KEY#${failingKey.id}"`)) {
          throw Object.assign(new Error('injected throttle'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failOneKeysUsage' },
    );
    const harness = await startHarness({ service: { documentClient: createDocumentClient({ client }), autoFlushUsage: false } });
    try {
      const healthy = await harness.issue('acme', { permissions: ['telemetry:write'] });
      const unlucky = await harness.issue('acme', { permissions: ['telemetry:write'] });
      failingKey.id = unlucky.id;
      for (const key of [healthy.key, healthy.key, unlucky.key]) await harness.call('GET', '/v1/whoami', { key });
      const usage = harness.server.service.deps.usage;
      await usage.flush();
      await usage.flush(); // the failing key fails again; the healthy key must not be re-added
      failingKey.id = undefined;
      await usage.flush();
      expect((await harness.manager.get('acme', healthy.id)).requestCount).toBe(2);
      expect((await harness.manager.get('acme', unlucky.id)).requestCount).toBe(1);
    } finally {
      await harness.stop();
    }
  });
});

describe('verification I/O', () => {
  it('refuses a key failing its checksum, or of another environment, without touching the store', async () => {
    const { state, documentClient } = instrumentedClient();
    const harness = await startHarness({ service: { documentClient } });
    try {
      const good = (await harness.issue('acme', { permissions: ['telemetry:write'] })).key;
      const callsBefore = state.calls;
      const tampered = good.slice(0, 20) + (good[20] === 'A' ? 'B' : 'A') + good.slice(21);
      for (const key of [tampered, 'kr_live_short', generateKey('staging')]) {
        expect((await harness.call('GET', '/v1/whoami', { key })).status).toBe(401);
      }
      expect(state.calls).toBe(callsBefore);
      // Control: a well-formed unknown key does reach the store, so the counter works.
      await harness.call('GET', '/v1/whoami', { key: generateKey('production') });
      expect(state.calls).toBeGreaterThan(callsBefore);
    } finally {
      await harness.stop();
    }
  });

  it('answers 503, not 500 and no stack trace, when the store is down; warm keys keep working', async () => {
    const { state, documentClient } = instrumentedClient();
    const harness = await startHarness({ service: { documentClient } });
    try {
      const { key } = await harness.issue('acme', { permissions: ['telemetry:write'] });
      expect((await harness.call('GET', '/v1/whoami', { key })).status).toBe(200);
      state.failing = true;
      expect((await harness.call('GET', '/v1/whoami', { key })).status).toBe(200);
      const cold = await harness.call('GET', '/v1/whoami', { key: generateKey('production') });
      expect(cold.status).toBe(503);
      expect(cold.body.error.code).toBe('SERVICE_UNAVAILABLE');
      expect(cold.text).not.toMatch(/at .*\.ts:\d+|injected outage/);
    } finally {
      state.failing = false;
      await harness.stop();
    }
  });
});

describe('cache bounds', () => {
  it('a disabled key stops at once on the instance that disabled it, and within ~1 s on another', async () => {
    const tables = uniqueTables();
    const a = await startHarness({ tables });
    const b = await startHarness({ tables });
    try {
      const admin = (await a.issue('acme', { permissions: ['keys:manage', 'telemetry:write'] })).key;
      const { id, key } = await a.issue('acme', { permissions: ['telemetry:write'] });
      expect((await a.call('GET', '/v1/whoami', { key })).status).toBe(200);
      expect((await b.call('GET', '/v1/whoami', { key })).status).toBe(200);
      const changedAt = Date.now();
      expect((await a.call('PATCH', `/v1/tenants/acme/api-keys/${id}`, { key: admin, body: { enabled: false } })).status).toBe(200);
      expect((await a.call('GET', '/v1/whoami', { key })).body.error.code).toBe('KEY_DISABLED');
      let refusedAt: number | undefined;
      while (Date.now() - changedAt < 5000) {
        const response = await b.call('GET', '/v1/whoami', { key });
        if (response.status === 401) {
          refusedAt = Date.now();
          break;
        }
        await sleep(50);
      }
      expect(refusedAt).toBeDefined();
      // Bound: 1 s of freshness, plus the refresh's own round trip and this loop's polling.
      expect(refusedAt! - changedAt).toBeLessThan(1800);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
