/**
 * Usage counts exactly once against DynamoDB on the emulator, when answers to usage writes are
 * lost: the write lands, then the client sees a network error, and the SDK (or the next flush)
 * sends it again.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { type Harness, startHarness } from '../support/service-harness';

/**
 * A client configured as in production (three attempts) whose usage writes reach DynamoDB and are
 * applied, after which the answer is replaced by a dropped connection. `lose` picks which attempts.
 */
function lossyClient(lose: (attempt: number) => boolean) {
  const state = { lost: 0, sent: 0 };
  const client = new DynamoDBClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 } });
  client.middlewareStack.add(
    (next) => async (args) => {
      // Matches the usage write of any version of the store: a plain UpdateItem or a transaction.
      if (!JSON.stringify(args.input).includes('ADD requestCount')) return next(args);
      state.sent += 1;
      const result = await next(args);
      const header = (args.request as { headers?: Record<string, string> }).headers?.['amz-sdk-request'] ?? '';
      const attempt = Number(/attempt=(\d+)/.exec(header)?.[1] ?? 1);
      if (!lose(attempt)) return result;
      state.lost += 1;
      throw Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
    },
    // deserialize: inside the SDK's retry loop, so a lost answer is retried as a real one would be.
    { step: 'deserialize', name: 'loseUsageAnswers' },
  );
  return { state, documentClient: createDocumentClient({ client }) };
}

async function countedAfter(harness: Harness, flushes: number) {
  const { id, key } = await harness.issue('acme', { permissions: ['telemetry:write'] });
  for (let i = 0; i < 3; i++) expect((await harness.call('GET', '/v1/whoami', { key })).status).toBe(200);
  const usage = harness.server.service.deps.usage;
  for (let i = 0; i < flushes; i++) await usage.flush();
  return { id, record: await harness.manager.get('acme', id) };
}

describe('lost answers to usage writes', () => {
  let harness: Harness;
  let lossy: ReturnType<typeof lossyClient>;
  let losing: (attempt: number) => boolean;
  beforeAll(async () => {
    lossy = lossyClient((attempt) => losing(attempt));
    harness = await startHarness({ service: { documentClient: lossy.documentClient, autoFlushUsage: false } });
  });
  afterAll(() => harness.stop());

  it('counts 3 requests as 3 when the first answer is lost and the SDK retries', async () => {
    losing = (attempt) => attempt === 1;
    const before = { ...lossy.state };

    const { record } = await countedAfter(harness, 1);

    expect(lossy.state.lost - before.lost).toBeGreaterThanOrEqual(1); // the fault did fire
    expect(record.requestCount).toBe(3);
    expect(record.errorCount).toBe(0);
    expect(record.lastUsedAt).toEqual(expect.any(String));
  });

  it('counts 3 as 3 when every attempt of a flush loses its answer and the next flush re-sends it', async () => {
    const { id, key } = await harness.issue('acme', { permissions: ['telemetry:write'] });
    for (let i = 0; i < 3; i++) await harness.call('GET', '/v1/whoami', { key });
    const usage = harness.server.service.deps.usage;
    const before = { ...lossy.state };

    losing = () => true;
    await usage.flush(); // lands, but the client hears of none of its three attempts
    losing = () => false;
    await usage.flush();

    expect(lossy.state.lost - before.lost).toBe(3);
    expect((await harness.manager.get('acme', id)).requestCount).toBe(3);
  });

  it('keeps its markers out of the key listing, in the tenant partition, with a TTL', async () => {
    losing = () => false;
    const { id } = await countedAfter(harness, 1);

    const keys = await harness.manager.list('acme');
    expect(keys.every((key) => !('ttl' in key))).toBe(true);
    expect(keys.map((key) => key.id)).toContain(id);
    const { Items = [] } = await lossy.documentClient.send(
      new QueryCommand({
        TableName: harness.tables.keys,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :usage)',
        ExpressionAttributeValues: { ':pk': 'TENANT#acme', ':usage': 'USAGE#' },
      }),
    );
    const marker = Items.find((item) => item.keyId === id);
    expect(marker).toEqual({ pk: 'TENANT#acme', sk: expect.stringMatching(/^USAGE#/), kind: 'usage', keyId: id, ttl: expect.any(Number) });
    expect(marker!.ttl * 1000).toBeGreaterThan(Date.now());
  });
});
