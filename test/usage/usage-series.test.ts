/**
 * Keys' usage series against DynamoDB on the emulator: two instances of one deployment under
 * concurrent load, one of which loses answers to its usage writes; the series must equal, per
 * minute and status class, the answers the clients got, with no store write per request. Then the
 * endpoint's validation and authorization.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { STATUS_CLASSES, type StatusClass } from '../../lambda/usage/usage-series';
import { type Harness, startHarness } from '../support/service-harness';

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand', 'DeleteItemCommand']);

/**
 * A production-like client that counts every write attempt per table, and lets the attempts of
 * usage transactions that `state.lose` picks land, then drops their answers. The SDK retries a
 * lost answer with the same idempotency token; when every attempt is lost, the next flush sends
 * the delta again in a new transaction, which only the delta's marker stops from counting twice.
 */
function instrumentedClient() {
  const state = { lost: 0, writes: new Map<string, number>(), alertWrites: 0, queries: 0, lose: (_attempt: number) => false };
  const client = new DynamoDBClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 } });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { TableName?: string; TransactItems?: Record<string, { TableName: string }>[] };
      if (context.commandName === 'QueryCommand') state.queries += 1;
      if (WRITES.has(context.commandName ?? '')) {
        const table = input.TableName ?? Object.values(input.TransactItems?.[0] ?? {})[0]?.TableName ?? '?';
        state.writes.set(table, (state.writes.get(table) ?? 0) + 1);
        // The alert monitor's writes after a flush: a key's new sources, and alerts it raises.
        if (/"(SOURCES|ALERT)#/.test(JSON.stringify(input))) state.alertWrites += 1;
      }
      const result = await next(args);
      if (!JSON.stringify(args.input).includes('ADD requestCount')) return result;
      const header = (args.request as { headers?: Record<string, string> }).headers?.['amz-sdk-request'] ?? '';
      if (!state.lose(Number(/attempt=(\d+)/.exec(header)?.[1] ?? 1))) return result;
      state.lost += 1;
      throw Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
    },
    // deserialize: inside the retry loop, so each attempt is counted and a lost answer is retried.
    { step: 'deserialize', name: 'countAndLoseUsageAnswers' },
  );
  return { state, documentClient: createDocumentClient({ client }) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const minuteOf = (ms: number) => new Date(ms - (ms % 60_000)).toISOString();
const hourOf = (ms: number) => new Date(ms - (ms % 3_600_000)).toISOString();

type Tally = Map<string, { requests: number; errors: number; byStatus: Record<StatusClass, number> }>;

/** What the series should say, from the answers the clients got. */
function tallyAnswer(tally: Tally, minute: string, status: number) {
  let bucket = tally.get(minute);
  if (!bucket) tally.set(minute, (bucket = { requests: 0, errors: 0, byStatus: Object.fromEntries(STATUS_CLASSES.map((s) => [s, 0])) as Record<StatusClass, number> }));
  bucket.requests += 1;
  if (status >= 400) bucket.errors += 1;
  const byClass = `${Math.floor(status / 100)}xx` as StatusClass;
  if (byClass in bucket.byStatus) bucket.byStatus[byClass] += 1;
  if (status === 401 || status === 403 || status === 429) bucket.byStatus[String(status) as StatusClass] += 1;
}

/** Waits until at least `ms` are left in the current minute, so a burst of requests stays inside one. */
async function roomInMinute(ms: number) {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < ms) await sleep(left + 200);
}

describe('usage series under concurrent load on two instances', () => {
  let a: Harness;
  let b: Harness;
  let clientA: ReturnType<typeof instrumentedClient>;
  let clientB: ReturnType<typeof instrumentedClient>;
  const keys: Record<'ok' | 'limited' | 'disabled' | 'manager', { id: string; key: string }> = {} as never;
  const tallies = new Map<string, Tally>();
  let flushes = 0;
  let requests = 0;

  beforeAll(async () => {
    clientA = instrumentedClient();
    clientB = instrumentedClient();
    a = await startHarness({ service: { documentClient: clientA.documentClient, autoFlushUsage: false } });
    b = await startHarness({ tables: a.tables, service: { documentClient: clientB.documentClient, autoFlushUsage: false } });
    keys.ok = await a.issue('acme', { permissions: ['telemetry:write'] });
    keys.limited = await a.issue('acme', { permissions: ['telemetry:write'], rateLimit: { limit: 30, windowSeconds: 3600 } });
    keys.disabled = await a.issue('acme', { permissions: ['telemetry:write'] });
    await a.manager.update('acme', keys.disabled.id, { enabled: false });
    keys.manager = await a.issue('acme', { permissions: ['keys:manage'] });
    for (const { id } of Object.values(keys)) tallies.set(id, new Map());
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  /** Requests that each key answers with a known status class mix, on both instances at once. */
  const requestsOf = (): [keyof typeof keys, string, string, unknown?][] => [
    ['ok', 'GET', '/v1/whoami'], // 200
    ['ok', 'GET', '/v1/telemetry'], // 403: lacks telemetry:read
    ['ok', 'POST', '/v1/telemetry', { deviceId: '' }], // 400
    ['limited', 'GET', '/v1/whoami'], // 200, then 429 once its quota is spent
    ['disabled', 'GET', '/v1/whoami'], // 401
    ['manager', 'GET', '/v1/tenants/acme/api-keys/key_00000000000000000000'], // 404
  ];

  async function burst(rounds: number) {
    await roomInMinute(15_000);
    await Promise.all(
      [a, b].flatMap((instance) =>
        Array.from({ length: rounds }, async () => {
          for (const [name, method, path, body] of requestsOf()) {
            const sentAt = Date.now();
            const response = await instance.call(method, path, { key: keys[name].key, body });
            const answeredAt = Date.now();
            // The server counts it between the two: one minute for both keeps the expected bucket exact.
            expect(minuteOf(sentAt)).toBe(minuteOf(answeredAt));
            tallyAnswer(tallies.get(keys[name].id)!, minuteOf(sentAt), response.status);
            requests += 1;
          }
        }),
      ),
    );
    await flushBoth();
  }

  async function flushBoth() {
    await Promise.all([a.server.service.deps.usage.flush(), b.server.service.deps.usage.flush()]);
    flushes += 1;
  }

  async function series(id: string, query: string) {
    const response = await a.call('GET', `/v1/tenants/acme/api-keys/${id}/usage?${query}`, { key: keys.manager.key });
    expect(response.status).toBe(200);
    return response.body;
  }

  it('adds up exactly, per minute and status class, across instances, with answers to one instance\'s writes lost', async () => {
    const started = Date.now();
    // b's first flush lands, but b hears of none of its attempts: it re-sends those deltas next time.
    clientB.state.lose = () => true;
    await burst(30);
    // From then on b loses each first answer, and the SDK retries it.
    clientB.state.lose = (attempt) => attempt === 1;
    // A second burst in the next minute: each minute bucket, and the hour over both, must be exact.
    await sleep(60_000 - (Date.now() % 60_000) + 200);
    await burst(20); // b's flush re-sends the first burst's deltas; the second's wait for them
    await flushBoth();

    // The faults fired: each of b's deltas lost three answers once, and the first answer at each re-send.
    expect(clientB.state.lost).toBeGreaterThanOrEqual(4 * 3 + 4);
    const from = new Date(started - 60_000).toISOString();
    for (const [id, tally] of tallies) {
      const minutes = await series(id, `granularity=minute&from=${from}`);
      const nonZero = minutes.series.filter((point: { requests: number }) => point.requests > 0);
      expect({ id, series: nonZero }).toEqual({ id, series: [...tally].sort().map(([at, counts]) => ({ at, ...counts })) });

      const hours = await series(id, `granularity=hour&from=${from}`);
      const expectedHours = new Map<string, number>();
      for (const [at, counts] of tally) expectedHours.set(hourOf(Date.parse(at)), (expectedHours.get(hourOf(Date.parse(at))) ?? 0) + counts.requests);
      const hourTotals = hours.series.filter((point: { requests: number }) => point.requests > 0).map((point: { at: string; requests: number }) => [point.at, point.requests]);
      expect(hourTotals).toEqual([...expectedHours].sort());
      // The hour bucket is the sum of its minutes, class by class, and agrees with the key's totals.
      for (const status of STATUS_CLASSES) {
        const sum = (points: { byStatus: Record<string, number> }[]) => points.reduce((total, point) => total + point.byStatus[status], 0);
        expect([id, status, sum(hours.series)]).toEqual([id, status, sum(minutes.series)]);
      }
      const record = await a.manager.get('acme', id);
      expect([record.requestCount, record.errorCount]).toEqual([
        [...tally.values()].reduce((total, counts) => total + counts.requests, 0),
        [...tally.values()].reduce((total, counts) => total + counts.errors, 0),
      ]);
    }
    // The mix did produce every refusal the alerts will watch.
    const classes = (id: string) => [...tallies.get(id)!.values()].reduce((seen, counts) => seen + counts.byStatus['429'], 0);
    expect(classes(keys.limited.id)).toBeGreaterThan(0);
  }, 150_000);

  it('writes per flush and key, never per request', () => {
    // Per flush, instance and key: the key's lastUsedAt, its credential's, and one transaction
    // (with b's lost first attempts sent again); the rate limiter's leases are per key, not per request.
    const alertWrites = clientA.state.alertWrites + clientB.state.alertWrites;
    const keyTableWrites = (clientA.state.writes.get(a.tables.keys) ?? 0) + (clientB.state.writes.get(a.tables.keys) ?? 0) - alertWrites;
    expect(keyTableWrites).toBeLessThanOrEqual(flushes * 2 * Object.keys(keys).length * 3 + clientB.state.lost);
    // The alert monitor's, per instance and key: the key's one source on first sight, and at most an
    // error-rate and a request-rate alert in this test's one cooldown slot.
    expect(alertWrites).toBeLessThanOrEqual(2 * Object.keys(keys).length * 3);
    const allWrites = [...clientA.state.writes.values(), ...clientB.state.writes.values()].reduce((sum, n) => sum + n, 0);
    expect(requests).toBeGreaterThan(200);
    // Everything, rate limits included: a write per request would be at least `requests`.
    expect(allWrites).toBeLessThan(requests / 2);
  });

  it('reads a series with one Query', async () => {
    const before = clientA.state.queries;
    await series(keys.ok.id, 'granularity=minute');
    await series(keys.ok.id, 'granularity=hour');
    expect(clientA.state.queries - before).toBe(2);
  });
});

describe('GET …/api-keys/{id}/usage', () => {
  let harness: Harness;
  let manager: string;
  let keyId: string;
  const usage = (query = '', key = manager, id = keyId, tenant = 'acme') => harness.call('GET', `/v1/tenants/${tenant}/api-keys/${id}/usage${query}`, { key });

  beforeAll(async () => {
    harness = await startHarness({ service: { autoFlushUsage: false } });
    manager = (await harness.issue('acme', { permissions: ['keys:manage', 'telemetry:write'] })).key;
    keyId = (await harness.issue('acme', { permissions: ['telemetry:write'] })).id;
  });
  afterAll(() => harness.stop());

  describe('happy path', () => {
    it('defaults to the last 60 minutes, zero-filled, ending with the current minute', async () => {
      const now = Date.now();
      const response = await usage();
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const { series, ...rest } = response.body;
      expect(rest).toEqual({ keyId, granularity: 'minute', from: expect.any(String), to: expect.any(String) });
      expect(series).toHaveLength(60);
      expect(series[0]).toEqual({ at: rest.from, requests: 0, errors: 0, byStatus: { '2xx': 0, '4xx': 0, '5xx': 0, '401': 0, '403': 0, '429': 0 } });
      expect(Date.parse(series[59].at)).toBeLessThanOrEqual(now);
      expect(Date.parse(rest.to)).toBeGreaterThan(now);
      expect(Date.parse(series[1].at) - Date.parse(series[0].at)).toBe(60_000);
    });

    it('defaults to the last 48 hours for hours, and rounds from and to out to whole buckets', async () => {
      expect((await usage('?granularity=hour')).body.series).toHaveLength(48);
      const hour = Date.now() - (Date.now() % 3_600_000) - 3 * 3_600_000;
      const from = new Date(hour + 1_234).toISOString();
      const to = new Date(hour + 2 * 3_600_000 + 5).toISOString();
      const body = (await usage(`?granularity=hour&from=${from}&to=${to}`)).body;
      expect([body.from, body.to, body.series.length]).toEqual([new Date(hour).toISOString(), new Date(hour + 3 * 3_600_000).toISOString(), 3]);
    });

    it('takes up to 48 hours of minutes and 90 days of hours', async () => {
      const now = Date.now();
      expect((await usage(`?from=${new Date(now - 48 * 3_600_000).toISOString()}`)).status).toBe(200);
      expect((await usage(`?granularity=hour&from=${new Date(now - 90 * 86_400_000).toISOString()}`)).status).toBe(200);
    });
  });

  describe('errors', () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    it.each([
      ['an unknown granularity', 'query.granularity', '?granularity=day', /minute.*hour/],
      ['a malformed from', 'query.from', '?from=yesterday', /ISO-8601/],
      ['a malformed to', 'query.to', '?to=1700000000', /ISO-8601/],
      ['an unknown parameter', 'query', '?since=2027-01-01T00:00:00Z', /only `from`, `to` and `granularity`|unknown field/],
      ['from after to', 'query.from', `?from=${iso(now - 60_000)}&to=${iso(now - 600_000)}`, /before `to`/],
      ['more than 48 hours of minutes', 'query.from', `?from=${iso(now - 47 * 3_600_000)}&to=${iso(now + 3 * 3_600_000)}`, /granularity=hour/],
      ['minutes older than they are kept', 'query.from', `?from=${iso(now - 50 * 3_600_000)}&to=${iso(now - 49 * 3_600_000)}`, /kept \(48 hours\)/],
      ['more than 90 days of hours', 'query.from', `?granularity=hour&from=${iso(now - 89 * 86_400_000)}&to=${iso(now + 2 * 86_400_000)}`, /90 days/],
      ['hours older than they are kept', 'query.from', `?granularity=hour&from=${iso(now - 92 * 86_400_000)}&to=${iso(now - 91 * 86_400_000)}`, /kept \(90 days\)/],
    ])('400 for %s, naming `%s`', async (_case, field, query, fix) => {
      const response = await usage(query);
      expect([response.status, response.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
      expect(response.body.error.message).toContain(`\`${field}`);
      expect(response.body.error.message).toMatch(fix);
    });

    it('404 for an unknown or malformed key id, as GET of the key', async () => {
      for (const id of ['key_00000000000000000000', 'nope']) {
        const [got, read] = [await usage('', manager, id), await harness.call('GET', `/v1/tenants/acme/api-keys/${id}`, { key: manager })];
        expect([got.status, got.body.error.code]).toEqual([404, 'NOT_FOUND']);
        expect(got.status).toBe(read.status);
      }
    });

    it('405 with Allow for another method', async () => {
      const response = await harness.call('POST', `/v1/tenants/acme/api-keys/${keyId}/usage`, { key: manager });
      expect([response.status, response.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    });
  });

  describe('security', () => {
    /** The usage route answers each caller as GET of the key does. */
    async function expectAsGet(caller: string, expected: number, options: { tenant?: string; on?: Harness } = {}) {
      const on = options.on ?? harness;
      const path = `/v1/tenants/${options.tenant ?? 'acme'}/api-keys/${keyId}`;
      const [got, read] = [await on.call('GET', `${path}/usage`, { key: caller }), await on.call('GET', path, { key: caller })];
      expect([got.status, got.body.error?.code]).toEqual([read.status, read.body.error?.code]);
      expect(got.status).toBe(expected);
      expect(got.text).not.toContain('series');
    }

    it('refuses another tenant\'s manager: 403 on this tenant\'s path, 404 on its own', async () => {
      const other = (await harness.issue('globex', { permissions: ['keys:manage'] })).key;
      await expectAsGet(other, 403);
      await expectAsGet(other, 404, { tenant: 'globex' });
    });

    it('refuses a manager scoped to another customer', async () => {
      const scoped = (await harness.issue('acme', { permissions: ['keys:manage'], customerId: 'cust-a' })).key;
      const status = (await harness.call('GET', `/v1/tenants/acme/api-keys/${keyId}`, { key: scoped })).status;
      expect([403, 404]).toContain(status);
      await expectAsGet(scoped, status);
    });

    it('refuses a manager of a lower environment', async () => {
      const dev = await startHarness({ environment: 'development', tables: harness.tables, service: { autoFlushUsage: false } });
      try {
        const devManager = (await dev.issue('acme', { permissions: ['keys:manage'] })).key;
        await expectAsGet(devManager, 403, { on: dev });
      } finally {
        await dev.stop();
      }
    });

    it('needs keys:manage and a key', async () => {
      const plain = (await harness.issue('acme', { permissions: ['telemetry:write'] })).key;
      const refused = await usage('', plain);
      expect([refused.status, refused.body.error.code]).toEqual([403, 'INSUFFICIENT_PERMISSIONS']);
      const anonymous = await harness.call('GET', `/v1/tenants/acme/api-keys/${keyId}/usage`);
      expect([anonymous.status, anonymous.body.error.code]).toEqual([401, 'MISSING_API_KEY']);
    });
  });
});
