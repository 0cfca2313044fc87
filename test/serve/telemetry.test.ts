/** POST /v1/telemetry: readings stored in DynamoDB, customer scope, limits. */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { MAX_READING_DEPTH, TELEMETRY_BODY_LIMIT_BYTES } from '../../lambda/telemetry/reading';
import { type Harness, startHarness } from '../support/service-harness';

let harness: Harness;
let writer: string;

beforeAll(async () => {
  harness = await startHarness();
  writer = (await harness.issue('acme', { permissions: ['telemetry:write'] })).key;
});
afterAll(() => harness.stop());

async function storedReadings(deviceId: string) {
  const { Items } = await createDocumentClient().send(
    new QueryCommand({
      TableName: harness.tables.telemetry,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `TENANT#acme#DEVICE#${deviceId}` },
    }),
  );
  return (Items ?? []).map((item) => JSON.parse(item.payload));
}

describe('POST /v1/telemetry', () => {
  it('accepts one reading or an array, and stores each', async () => {
    const one = await harness.call('POST', '/v1/telemetry', { key: writer, body: { deviceId: 'dev-1', temperature: 21.5 } });
    expect(one.status).toBe(202);
    expect(one.body).toEqual({ accepted: 1 });
    const many = await harness.call('POST', '/v1/telemetry', {
      key: writer,
      body: [{ deviceId: 'dev-2', v: 1 }, { deviceId: 'dev-2', v: 2 }, { deviceId: 'dev-2', v: 3, timestamp: '2026-01-01T00:00:00Z' }],
    });
    expect(many.body).toEqual({ accepted: 3 });
    expect(await storedReadings('dev-1')).toEqual([{ deviceId: 'dev-1', temperature: 21.5 }]);
    expect((await storedReadings('dev-2')).map((r) => r.v).sort()).toEqual([1, 2, 3]);
  });

  it('lets a customer-scoped key write only its own customer', async () => {
    const scoped = (await harness.issue('acme', { permissions: ['telemetry:write'], customerId: 'cust-1' })).key;
    expect((await harness.call('POST', '/v1/telemetry', { key: scoped, body: { deviceId: 'c1', customerId: 'cust-1' } })).status).toBe(202);
    expect((await harness.call('POST', '/v1/telemetry', { key: scoped, body: { deviceId: 'c1' } })).status).toBe(202);
    const foreign = await harness.call('POST', '/v1/telemetry', {
      key: scoped,
      body: [{ deviceId: 'c2', customerId: 'cust-1' }, { deviceId: 'c2', customerId: 'cust-2' }],
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('FORBIDDEN');
    expect(await storedReadings('c2')).toEqual([]);
  });

  it.each([
    ['no deviceId', { temperature: 1 }, 'body'],
    ['an empty array', [], 'body'],
    ['too many readings', Array.from({ length: 501 }, () => ({ deviceId: 'd' })), 'body'],
    ['a bad timestamp', { deviceId: 'd', timestamp: 'yesterday' }, 'timestamp'],
    ['a bad device id', { deviceId: '../../etc' }, 'deviceId'],
  ])('VALIDATION_ERROR for %s', async (_, body, field) => {
    const response = await harness.call('POST', '/v1/telemetry', { key: writer, body });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_ERROR');
    expect(response.body.error.message).toContain(field);
  });

  it('PAYLOAD_TOO_LARGE above 256 KiB', async () => {
    const body = [{ deviceId: 'big', blob: 'x'.repeat(300 * 1024) }];
    const response = await harness.call('POST', '/v1/telemetry', { key: writer, body });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  describe('nesting depth', () => {
    /** A reading `depth` levels deep, as text: the reading is level 1, then objects down to the last. */
    function readingOfDepth(deviceId: string, depth: number): string {
      return `{"deviceId":"${deviceId}","a":${'{"b":'.repeat(depth - 2)}{}${'}'.repeat(depth - 2)}}`;
    }

    it('accepts a reading nested exactly to the limit, alone or in a batch, and stores it whole', async () => {
      const atLimit = readingOfDepth('deep-ok', MAX_READING_DEPTH);
      expect((await harness.call('POST', '/v1/telemetry', { key: writer, body: atLimit })).status).toBe(202);
      expect((await harness.call('POST', '/v1/telemetry', { key: writer, body: `[${atLimit}]` })).status).toBe(202);
      expect(await storedReadings('deep-ok')).toEqual([JSON.parse(atLimit), JSON.parse(atLimit)]);
    });

    it('VALIDATION_ERROR naming the field one level past the limit, and stores nothing of the batch', async () => {
      const body = `[${readingOfDepth('deep-batch', 2)},${readingOfDepth('deep-batch', MAX_READING_DEPTH + 1)}]`;
      const response = await harness.call('POST', '/v1/telemetry', { key: writer, body });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_ERROR');
      expect(response.body.error.message).toContain(`\`body.1.a.b.b.b…\` is nested more than ${MAX_READING_DEPTH} levels deep`);
      expect(await storedReadings('deep-batch')).toEqual([]);
    });

    it('VALIDATION_ERROR, not a 500, for 120k levels within the body limit', async () => {
      const levels = 120_000;
      const body = `{"deviceId":"deepest","a":${'['.repeat(levels)}${']'.repeat(levels)}}`;
      expect(body.length).toBeLessThan(TELEMETRY_BODY_LIMIT_BYTES);
      const response = await harness.call('POST', '/v1/telemetry', { key: writer, body });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_ERROR');
      // The echoed path stays short however deep the value is.
      expect(response.body.error.message).toMatch(/^`body\.a\.0\.0\.0\.0…` is nested more than 32 levels deep/);
      expect(response.text.length).toBeLessThan(400);
    });
  });

  it('stores JSON values DynamoDB cannot hold natively', async () => {
    const response = await harness.call('POST', '/v1/telemetry', { key: writer, body: '{"deviceId":"odd","big":1e400,"":{"":""},"n":null}' });
    expect(response.status).toBe(202);
    expect(await storedReadings('odd')).toEqual([{ deviceId: 'odd', big: null, '': { '': '' }, n: null }]);
  });
});

describe('GET /v1/telemetry', () => {
  const post = (key: string, body: unknown) => harness.call('POST', '/v1/telemetry', { key, body });

  it("returns the tenant's latest readings newest first, for one device or all, within limit", async () => {
    const tenantWriter = (await harness.issue('readback', { permissions: ['telemetry:write'] })).key;
    const reader = (await harness.issue('readback', { permissions: ['telemetry:read'] })).key;
    for (const [deviceId, n] of [['rb-1', 1], ['rb-2', 2], ['rb-1', 3]] as const) {
      expect((await post(tenantWriter, { deviceId, n })).status).toBe(202);
      // Readings are ordered by the time they arrived, to the millisecond.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const all = await harness.call('GET', '/v1/telemetry', { key: reader });
    expect(all.status).toBe(200);
    expect(all.body.readings.map((r: { reading: { n: number } }) => r.reading.n)).toEqual([3, 2, 1]);
    expect(all.body.readings[0]).toMatchObject({ deviceId: 'rb-1', customerId: null, receivedAt: expect.any(String), reading: { deviceId: 'rb-1', n: 3 } });
    const device = await harness.call('GET', '/v1/telemetry?deviceId=rb-1&limit=1', { key: reader });
    expect(device.body.readings.map((r: { reading: { n: number } }) => r.reading.n)).toEqual([3]);
    // Another tenant's reader sees none of them.
    const stranger = (await harness.issue('elsewhere', { permissions: ['telemetry:read'] })).key;
    expect((await harness.call('GET', '/v1/telemetry', { key: stranger })).body.readings).toEqual([]);
  });

  it("shows a customer-scoped reader only its customer's readings", async () => {
    const tenantWriter = (await harness.issue('scoped', { permissions: ['telemetry:write'] })).key;
    await post(tenantWriter, [{ deviceId: 'c-1', customerId: 'cust-a', n: 1 }, { deviceId: 'c-1', customerId: 'cust-b', n: 2 }]);
    const reader = (await harness.issue('scoped', { permissions: ['telemetry:read'], customerId: 'cust-a' })).key;
    for (const path of ['/v1/telemetry', '/v1/telemetry?deviceId=c-1']) {
      const readings = (await harness.call('GET', path, { key: reader })).body.readings;
      expect(readings.map((r: { customerId: string }) => r.customerId)).toEqual(['cust-a']);
    }
  });

  it.each([
    ['?limit=0', 'query.limit'],
    ['?deviceId=has%20space', 'query.deviceId'],
    ['?device=x', 'device'],
  ])('VALIDATION_ERROR for %s', async (query, field) => {
    const reader = (await harness.issue('acme', { permissions: ['telemetry:read'] })).key;
    const response = await harness.call('GET', `/v1/telemetry${query}`, { key: reader });
    expect([response.status, response.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    expect(response.body.error.message).toContain(field);
  });

  it('needs telemetry:read: telemetry:write alone is not enough', async () => {
    const response = await harness.call('GET', '/v1/telemetry', { key: writer });
    expect([response.status, response.body.error.code]).toEqual([403, 'INSUFFICIENT_PERMISSIONS']);
    expect(response.body.error.message).toContain('`telemetry:read`');
  });
});
