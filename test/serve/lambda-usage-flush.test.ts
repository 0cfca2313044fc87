/**
 * The Lambda handler's usage flush in a DynamoDB brownout: the real handler module in-process,
 * against DynamoDB on the emulator, with SDK middleware holding usage writes. A response carrying a
 * key must never wait on the flush, other responses wait at most its budget, and the usage of the
 * abandoned flush still lands exactly once.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, TransactWriteItemsCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { LambdaEvent } from 'hono/aws-lambda';
import { KEY_PATTERN } from '../../lambda/keys/key-format';
import { KeyManager } from '../../lambda/manage/key-manager';
import { createLambdaHandler } from '../../lambda/serve/lambda-handler';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { DynamoDbKeyStore } from '../../lambda/store/dynamodb-key-store';
import { ensureLocalTables } from '../../lambda/store/local-tables';
import { uniqueTables } from '../support/service-harness';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());
/** The handler flushes at most once a second; waiting this long makes the next flush due. */
const FLUSH_DUE_MS = 1100;
/** Held writes go on by themselves after this, so a handler that waits on them ends the test with a failed assertion, not a hang. */
const HOLD_CAP_MS = 10_000;

/**
 * How the brownout treats a usage write:
 * - 'answer-late': DynamoDB applies it at once, the answer comes back late;
 * - 'arrive-late': it reaches DynamoDB late (after the client gave up on it), and is applied then.
 */
type Brownout = 'answer-late' | 'arrive-late';

function brownoutClient(brownout: Brownout) {
  const plain = new DynamoDBClient({});
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const state = {
    holding: false,
    /** Usage writes that met the brownout. */
    held: 0,
    /** Whether held writes went on (released, or by the cap). */
    released: false,
    /** Settles when every held write has gone on. */
    done: [] as Promise<unknown>[],
    /** What DynamoDB answered each write that arrived late. */
    lateAnswers: [] as string[],
    release: () => release(),
  };
  const goOn = () => Promise.race([gate, sleep(HOLD_CAP_MS)]).then(() => (state.released = true));
  const client = new DynamoDBClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 } });
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as Record<string, unknown>;
      if (!state.holding || !JSON.stringify(input).includes('ADD requestCount')) return next(args);
      state.held += 1;
      const wentOn = goOn();
      let settled: () => void = () => undefined;
      state.done.push(new Promise<void>((resolve) => (settled = resolve)));
      try {
        if (brownout === 'answer-late') {
          const result = await next(args);
          await wentOn;
          return result;
        }
        await wentOn;
        // The request left before the client aborted it; DynamoDB applies it now. The client only
        // ever learns that it aborted.
        const late = 'TransactItems' in input ? new TransactWriteItemsCommand(input as never) : new UpdateItemCommand(input as never);
        const answer = await plain.send(late as never).then(() => 'applied', (error: Error) => error.name);
        state.lateAnswers.push(answer);
        throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
      } finally {
        settled();
      }
    },
    { step: 'deserialize', name: 'usageBrownout' },
  );
  return { state, documentClient: createDocumentClient({ client }), destroy: () => plain.destroy() };
}

/** A Lambda function URL event (payload format 2.0), as the service receives it in AWS. */
function functionUrlEvent(method: string, path: string, key: string, body?: unknown) {
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'keyroll.lambda-url.eu-west-1.on.aws', 'x-api-key': key, ...(body ? { 'content-type': 'application/json' } : {}) },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'keyroll',
      domainName: 'keyroll.lambda-url.eu-west-1.on.aws',
      domainPrefix: 'keyroll',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
  };
}

describe.each<Brownout>(['answer-late', 'arrive-late'])('a DynamoDB brownout where usage writes %s', (brownout) => {
  let brownoutEnv: ReturnType<typeof brownoutClient>;
  afterEach(() => {
    brownoutEnv.state.release();
    brownoutEnv.destroy();
  });

  it('returns a created key without waiting on the flush, other responses within its budget, and counts usage once', async () => {
    const tables = uniqueTables();
    await ensureLocalTables(tables, new DynamoDBClient({}));
    brownoutEnv = brownoutClient(brownout);
    const { state, documentClient } = brownoutEnv;
    const handler = createLambdaHandler({ documentClient, config: { environment: 'production', extraKeyHeaders: [], tables } });
    const manager = new KeyManager({ store: new DynamoDbKeyStore(createDocumentClient(), tables.keys) });
    const admin = await manager.create('acme', { name: 'admin', environment: 'production', permissions: ['keys:manage', 'telemetry:write'] });
    const invoke = async (method: string, path: string, body?: unknown) => {
      const result = await handler(functionUrlEvent(method, path, admin.key, body) as unknown as LambdaEvent);
      return { status: result.statusCode, body: JSON.parse(result.body) };
    };

    expect((await invoke('GET', '/v1/whoami')).status).toBe(200); // 1: the flush is not due yet
    await sleep(FLUSH_DUE_MS);
    state.holding = true;

    // 2: the flush is due, but these responses carry a key: create, regenerate, the legacy create.
    const created = await invoke('POST', '/v1/tenants/acme/api-keys', { name: 'sensors', environment: 'production', permissions: ['telemetry:write'] });
    expect(created.status).toBe(201);
    const regenerated = await invoke('POST', `/v1/tenants/acme/api-keys/${created.body.id}/regenerate`, {});
    expect(regenerated.status).toBe(200);
    const legacy = await invoke('POST', '/auth/acme/apiKeys', { name: 'legacy integration' });
    expect(legacy.status).toBe(201);
    for (const response of [created, regenerated, legacy]) expect(response.body.key).toMatch(KEY_PATTERN);
    // None waited, not even for the budget: their invocations did not start the flush.
    expect(state.held).toBe(0);

    // 3: an ordinary response flushes, and stops waiting when the budget is spent.
    expect((await invoke('GET', '/v1/whoami')).status).toBe(200);
    expect(state.held).toBe(1);
    expect(state.released).toBe(false); // it came back while the write was still held

    // The brownout ends. 4: the next flush re-sends the abandoned delta while its first write is
    // still out; then that write lands (or answers) late.
    state.holding = false;
    await sleep(FLUSH_DUE_MS);
    expect((await invoke('GET', '/v1/whoami')).status).toBe(200);
    state.release();
    await Promise.all(state.done);
    // The late write found the re-sent one's marker and was refused as a whole.
    expect(state.lateAnswers).toEqual(brownout === 'arrive-late' ? ['TransactionCanceledException'] : []);

    // 5: its own request and request 4 go out. Seven requests in all: 1, the three of 2, 3, 4, 5.
    await sleep(FLUSH_DUE_MS);
    expect((await invoke('GET', '/v1/whoami')).status).toBe(200);
    expect(await manager.get('acme', admin.record.id)).toMatchObject({ requestCount: 7, errorCount: 0 });
  });
});
