/**
 * Alerts on unusual activity, end to end against the emulator: the real service over HTTP counts
 * requests, its usage flush writes the series, and the alert monitor evaluates them and stores
 * alerts, read back through `GET /v1/tenants/{t}/alerts`. Each alert fires on a scenario that
 * should trigger it and stays quiet on normal traffic; each raised alert is one EMF metric line.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { ALERT_METRIC } from '../../lambda/alerts/alert';
import { hashCredential } from '../../lambda/keys/credential-hash';
import { generateKey, KEY_PATTERN_GLOBAL } from '../../lambda/keys/key-format';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { DynamoDbKeyStore } from '../../lambda/store/dynamodb-key-store';
import { UsageRecorder } from '../../lambda/usage/usage-recorder';
import { type Harness, startHarness } from '../support/service-harness';

let harness: Harness;
let admin: string;
const credentials = new Set<string>();
/** Standard output while the tests run: Powertools Metrics writes EMF there. */
let stdout = '';
const writeStdout = process.stdout.write.bind(process.stdout);

beforeAll(async () => {
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return writeStdout(chunk, ...(rest as []));
  });
  // One proxy in front: the client's address is the last X-Forwarded-For entry.
  harness = await startHarness({ config: { trustedProxyHops: 1 }, service: { autoFlushUsage: false } });
  admin = (await harness.issue('acme', { permissions: ['*'] })).key;
  credentials.add(admin);
});
afterAll(async () => {
  jest.restoreAllMocks();
  await harness.stop();
});

const flush = () => harness.server.service.deps.usage.flush();

async function issue(name: string, permissions = ['telemetry:write']) {
  const issued = await harness.issue('acme', { name, permissions, rateLimit: { limit: 100_000, windowSeconds: 60 } });
  credentials.add(issued.key);
  return issued;
}

async function whoami(key: string, times = 1, sourceIp?: string) {
  const statuses: number[] = [];
  for (let i = 0; i < times; i++) {
    const response = await harness.call('GET', '/v1/whoami', { key, headers: sourceIp ? { 'x-forwarded-for': sourceIp } : {} });
    statuses.push(response.status);
  }
  return statuses;
}

const alerts = async (query: Record<string, string> = {}, key = admin) => {
  const response = await harness.call('GET', `/v1/tenants/acme/alerts?${new URLSearchParams(query)}`, { key });
  expect(response.status).toBe(200);
  return response.body.alerts as Array<Record<string, any>>;
};

/** The EMF lines for `type` written since `from` (an offset into stdout). */
function metricLines(type: string, from = 0) {
  return stdout
    .slice(from)
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"_aws"'))
    .map((line) => JSON.parse(line))
    .filter((emf) => emf[ALERT_METRIC.typeDimension] === type);
}

describe('error-rate', () => {
  it('fires when a quarter of a key’s requests are refused, once, with one metric', async () => {
    const { id, key } = await issue('refused a lot', ['telemetry:read']);
    const mark = stdout.length;
    await whoami(key, 15);
    // Without keys:manage, every management call is 403.
    for (let i = 0; i < 10; i++) expect((await harness.call('GET', '/v1/tenants/acme/api-keys', { key })).status).toBe(403);
    await flush();
    const raised = await alerts({ keyId: id });
    expect(raised).toEqual([
      expect.objectContaining({ type: 'error-rate', keyId: id, keyName: 'refused a lot', tenant: 'acme', facts: { requests: 25, refusals: 10, share: 0.4 } }),
    ]);
    expect(raised[0].id).toMatch(/^alr_[0-9A-Za-z]{24}$/);
    expect(raised[0].summary).toContain('40 %');
    const [metric, ...more] = metricLines('error-rate', mark);
    expect(more).toEqual([]);
    expect(metric).toMatchObject({ [ALERT_METRIC.metricName]: 1, service: ALERT_METRIC.serviceName });
    expect(metric._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: ALERT_METRIC.namespace, Metrics: [{ Name: ALERT_METRIC.metricName, Unit: 'Count' }] });

    // More refusals in the same cooldown slot: still one alert, no second metric.
    for (let i = 0; i < 10; i++) await harness.call('GET', '/v1/tenants/acme/api-keys', { key });
    await flush();
    expect(await alerts({ keyId: id })).toHaveLength(1);
    expect(metricLines('error-rate', mark)).toHaveLength(1);
  });

  it('stays quiet on normal traffic', async () => {
    const { id, key } = await issue('healthy');
    expect(new Set(await whoami(key, 40))).toEqual(new Set([200]));
    await flush();
    expect(await alerts({ keyId: id })).toEqual([]);
  });
});

describe('request-rate', () => {
  /** Writes `perMinute` requests per minute from `fromAgo` to `toAgo` minutes ago through the real usage path. */
  async function history(tenant: string, keyId: string, perMinute: number, fromAgo: number, toAgo: number) {
    const recorder = new UsageRecorder({ store: new DynamoDbKeyStore(createDocumentClient(), harness.tables.keys), autoFlush: false });
    const now = Date.now();
    for (let ago = fromAgo; ago >= toAgo; ago--) for (let i = 0; i < perMinute; i++) recorder.record(tenant, keyId, 200, now - ago * 60_000);
    for (let i = 0; i < 3; i++) await recorder.flush();
  }

  it('fires when a key makes far more requests than its trailing hour', async () => {
    const { id, key } = await issue('suddenly busy');
    await history('acme', id, 2, 64, 5);
    await whoami(key, 120);
    await flush();
    const [alert, ...more] = await alerts({ keyId: id, type: 'request-rate' });
    expect(more).toEqual([]);
    expect(alert).toMatchObject({ type: 'request-rate', facts: { requests: 120 } });
    // 2 a minute is 10 per 5-minute window (a little less if a minute turned over since the history was written).
    expect(alert.facts.baseline).toBeCloseTo(10, 0);
    expect(alert.facts.factor).toBeGreaterThanOrEqual(5);
    expect(alert.window.from < alert.window.to).toBe(true);
  });

  it('stays quiet when the same rate has been steady for the hour', async () => {
    const { id, key } = await issue('steadily busy');
    await history('acme', id, 30, 64, 5);
    await whoami(key, 120);
    await flush();
    expect(await alerts({ keyId: id })).toEqual([]);
  });
});

describe('new-source', () => {
  it('fires on a key’s first use from a new address, not on its first address or known ones', async () => {
    const { id, key } = await issue('one site');
    await whoami(key, 3, '198.51.100.10');
    await flush();
    await whoami(key, 3, '198.51.100.10');
    await flush();
    expect(await alerts({ keyId: id })).toEqual([]);

    await whoami(key, 2, '203.0.113.99');
    await flush();
    const [alert, ...more] = await alerts({ keyId: id });
    expect(more).toEqual([]);
    expect(alert).toMatchObject({ type: 'new-source', facts: { sourceIp: '203.0.113.99' } });
    expect(alert.summary).toContain('203.0.113.99');
    expect(metricLines('new-source').length).toBeGreaterThanOrEqual(1);

    // Known now: no second alert, on this instance or another of the same deployment.
    const other = await startHarness({ tables: harness.tables, config: { trustedProxyHops: 1 }, service: { autoFlushUsage: false } });
    try {
      await other.call('GET', '/v1/whoami', { key, headers: { 'x-forwarded-for': '203.0.113.99' } });
      await other.server.service.deps.usage.flush();
    } finally {
      await other.stop();
    }
    await whoami(key, 1, '203.0.113.99');
    await flush();
    expect(await alerts({ keyId: id })).toHaveLength(1);
  });
});

describe('retired-credential', () => {
  it('fires when a credential the rotation retired is presented, and the client sees a plain 401', async () => {
    const { id, key: old } = await issue('rotated');
    const regenerated = await harness.call('POST', `/v1/tenants/acme/api-keys/${id}/regenerate`, { key: admin, body: { graceSeconds: 600 } });
    expect(regenerated.status).toBe(200);
    credentials.add(regenerated.body.key);
    // What the rotation's sweep does once consumers hold the new credential.
    await harness.manager.retireGrace('acme', id, hashCredential(old));

    const refused = await harness.call('GET', '/v1/whoami', { key: old, headers: { 'x-forwarded-for': '192.0.2.44' } });
    const unknown = await harness.call('GET', '/v1/whoami', { key: generateKey('production') });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('INVALID_API_KEY');
    // The client learns nothing more than for a key that never existed.
    expect({ ...refused.body.error, requestId: undefined }).toEqual({ ...unknown.body.error, requestId: undefined });
    await harness.call('POST', '/v1/verify', { body: { key: old } });
    expect((await whoami(regenerated.body.key, 2))).toEqual([200, 200]);
    await flush();

    const [alert, ...more] = await alerts({ keyId: id });
    expect(more).toEqual([]);
    expect(alert).toMatchObject({ type: 'retired-credential', facts: { uses: 2, sourceIp: '192.0.2.44' } });
    expect(metricLines('retired-credential').length).toBeGreaterThanOrEqual(1);
  });

  it('stays quiet for keys that never existed and for revoked keys', async () => {
    const before = (await alerts({ type: 'retired-credential' })).length;
    const { id, key } = await issue('revoked');
    expect((await harness.call('POST', `/v1/tenants/acme/api-keys/${id}/revoke`, { key: admin })).status).toBe(200);
    await whoami(key, 3);
    await whoami(generateKey('production'), 3);
    await flush();
    expect(await alerts({ type: 'retired-credential' })).toHaveLength(before);
  });
});

/**
 * A second instance of the deployment whose first alert write fails (a DynamoDB brownout for alert
 * writes only; no SDK retries on its client).
 */
async function failingFirstAlertWrite() {
  const failures = { left: 1 };
  const client = new DynamoDBClient({ maxAttempts: 1 });
  client.middlewareStack.add(
    (next) => async (args) => {
      if (failures.left > 0 && JSON.stringify(args.input).includes('"ALERT#')) {
        failures.left -= 1;
        throw Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $fault: 'server' });
      }
      return next(args);
    },
    { step: 'initialize', name: 'failAlertWrites' },
  );
  const flaky = await startHarness({ tables: harness.tables, config: { trustedProxyHops: 1 }, service: { autoFlushUsage: false, documentClient: createDocumentClient({ client }) } });
  return { flaky, failures };
}

describe('when alert writes fail', () => {
  it('answers every request, and raises the alert at the next flush', async () => {
    const { flaky, failures } = await failingFirstAlertWrite();
    try {
      const { id, key: old } = await issue('rotated under a brownout');
      const regenerated = await harness.call('POST', `/v1/tenants/acme/api-keys/${id}/regenerate`, { key: admin, body: {} });
      credentials.add(regenerated.body.key);
      expect((await flaky.call('GET', '/v1/whoami', { key: old })).status).toBe(401);
      await flaky.server.service.deps.usage.flush();
      expect(failures.left).toBe(0);
      expect(await alerts({ keyId: id })).toEqual([]);
      // The next flush carries the retired use it could not alert on, though no new request came.
      await flaky.server.service.deps.usage.flush();
      expect(await alerts({ keyId: id })).toEqual([expect.objectContaining({ type: 'retired-credential', facts: expect.objectContaining({ uses: 1 }) })]);
    } finally {
      await flaky.stop();
    }
  });
});

describe('when a new-source alert cannot be stored', () => {
  it('stores it at the next flush, though no request came and the source is known by then', async () => {
    const { flaky, failures } = await failingFirstAlertWrite();
    try {
      const { id, key } = await issue('travelling');
      await flaky.call('GET', '/v1/whoami', { key, headers: { 'x-forwarded-for': '198.51.100.1' } });
      await flaky.server.service.deps.usage.flush();
      await flaky.call('GET', '/v1/whoami', { key, headers: { 'x-forwarded-for': '198.51.100.2' } });
      await flaky.server.service.deps.usage.flush();
      expect(failures.left).toBe(0);
      expect(await alerts({ keyId: id })).toEqual([]);
      await flaky.server.service.deps.usage.flush();
      expect(await alerts({ keyId: id })).toEqual([expect.objectContaining({ type: 'new-source', facts: { sourceIp: '198.51.100.2' } })]);
    } finally {
      await flaky.stop();
    }
  });
});

describe('GET /v1/tenants/{t}/alerts', () => {
  it('filters by type and key, pages with a cursor, and hides keys above the caller', async () => {
    const all = await alerts();
    expect(all.length).toBeGreaterThanOrEqual(4);
    expect(new Set(all.map((alert) => alert.type))).toEqual(new Set(['error-rate', 'request-rate', 'new-source', 'retired-credential']));
    const times = all.map((alert) => alert.at);
    expect([...times].sort().reverse()).toEqual(times);

    const first = await harness.call('GET', '/v1/tenants/acme/alerts?limit=2', { key: admin });
    expect(first.body.alerts).toEqual(all.slice(0, 2));
    const second = await harness.call('GET', `/v1/tenants/acme/alerts?limit=2&cursor=${first.body.nextCursor}`, { key: admin });
    expect(second.body.alerts).toEqual(all.slice(2, 4));

    const otherCustomer = await harness.issue('acme', { customerId: 'cust-elsewhere', permissions: ['keys:manage'] });
    expect((await harness.call('GET', '/v1/tenants/acme/alerts', { key: otherCustomer.key })).body.alerts).toEqual([]);
    const other = await harness.issue('globex', { permissions: ['keys:manage'] });
    expect((await harness.call('GET', '/v1/tenants/acme/alerts', { key: other.key })).status).toBe(403);
  });

  it('answers bad queries with 400 naming the field', async () => {
    const badType = await harness.call('GET', '/v1/tenants/acme/alerts?type=spike', { key: admin });
    expect(badType.status).toBe(400);
    expect(badType.text).toContain('query.type');
    const badCursor = await harness.call('GET', '/v1/tenants/acme/alerts?cursor=bm9wZQ', { key: admin });
    expect(badCursor.status).toBe(400);
    expect(badCursor.text).toContain('query.cursor');
  });

  it('holds no credential or credential hash', async () => {
    const client = createDocumentClient();
    const hashes = [...credentials].map(hashCredential);
    let scanned = 0;
    for await (const page of paginateScan({ client }, { TableName: harness.tables.keys })) {
      for (const item of page.Items ?? []) {
        if (!String(item.pk).startsWith('ALERT#') && !String(item.pk).startsWith('SOURCES#')) continue;
        scanned += 1;
        const text = JSON.stringify(item);
        expect(text.match(KEY_PATTERN_GLOBAL)).toBeNull();
        for (const hash of hashes) expect(text).not.toContain(hash.slice(0, 16));
      }
    }
    expect(scanned).toBeGreaterThan(0);
  });
});
