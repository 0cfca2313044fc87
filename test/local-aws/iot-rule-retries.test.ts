/** HTTP action retries and errorAction in the emulator's rules engine: only 429 and 5xx are retried, at most 3 tries, as on AWS. */
import { emulatorClientConfig } from './fixtures';
import { createRule, enabledDestination, HANG_UP, type IotClients, iotClients, publish, TargetServer, uniqueTopicRoot, waitForDeliveries } from './iot-fixtures';

const clients: IotClients = iotClients(emulatorClientConfig());
let target: TargetServer;

beforeAll(async () => {
  target = await TargetServer.start();
  await enabledDestination(clients, target, '/');
});
afterAll(async () => {
  await target.stop();
  clients.destroy();
});

/** A rule posting to `url`, with an errorAction posting AWS's error report to /errors/<root>. */
async function ruleTo(url: string, root: string, withErrorAction = true): Promise<string> {
  return createRule(clients, {
    sql: `SELECT * FROM '${root}/+'`,
    actions: [{ http: { url, confirmationUrl: target.url('/') } }],
    ...(withErrorAction ? { errorAction: { http: { url: target.url(`/errors/${root}`), confirmationUrl: target.url('/') } } } : {}),
  });
}

describe('happy path', () => {
  it('retries a 429 and delivers on the second attempt, with no errorAction', async () => {
    const root = uniqueTopicRoot();
    target.script(`/${root}`, [429]);
    const rule = await ruleTo(target.url(`/${root}`), root);

    await publish(clients, `${root}/dev`, { n: 1 });

    const [record] = await waitForDeliveries(clients.endpoint, rule, 1);
    expect(record).toMatchObject({ result: 'delivered', status: 200, attempts: 2, errorAction: false });
    expect(target.to(`/${root}`)).toHaveLength(2);
    expect(target.to(`/errors/${root}`)).toEqual([]);
  });

  it('retries a 503 and delivers on the third attempt', async () => {
    const root = uniqueTopicRoot();
    target.script(`/${root}`, [503, 500]);
    const rule = await ruleTo(target.url(`/${root}`), root);

    await publish(clients, `${root}/dev`, { n: 1 });

    expect((await waitForDeliveries(clients.endpoint, rule, 1))[0]).toMatchObject({ result: 'delivered', attempts: 3 });
  });
});

describe('errors', () => {
  it('gives up after 3 attempts of 500 and sends AWS error report to the errorAction', async () => {
    const root = uniqueTopicRoot();
    target.script(`/${root}`, [500, 500, 500, 200]);
    const rule = await ruleTo(target.url(`/${root}`), root);

    await publish(clients, `${root}/dev-9`, { temp: 3 });

    const records = await waitForDeliveries(clients.endpoint, rule, 2);
    expect(records[0]).toMatchObject({ result: 'failed', status: 500, attempts: 3, error: { code: 'HTTP_STATUS' } });
    expect(records[1]).toMatchObject({ result: 'delivered', errorAction: true, url: target.url(`/errors/${root}`) });
    expect(target.to(`/${root}`)).toHaveLength(3);
    const [report] = target.to(`/errors/${root}`);
    expect(JSON.parse(report.body)).toEqual({
      ruleName: rule,
      topic: `${root}/dev-9`,
      cloudwatchTraceId: expect.any(String),
      clientId: 'n/a',
      base64OriginalPayload: Buffer.from(JSON.stringify({ temp: 3 })).toString('base64'),
      failures: [{ failedAction: 'HttpAction', failedResource: target.url(`/${root}`), errorMessage: expect.stringContaining('answered 500') }],
    });
  });

  it('does not retry a 401: one attempt, then the errorAction', async () => {
    const root = uniqueTopicRoot();
    target.script(`/${root}`, [401]);
    const rule = await ruleTo(target.url(`/${root}`), root);

    await publish(clients, `${root}/dev`, { n: 1 });

    const records = await waitForDeliveries(clients.endpoint, rule, 2);
    expect(records[0]).toMatchObject({ result: 'failed', status: 401, attempts: 1, error: { message: expect.stringContaining('not retried') } });
    expect(records[1]).toMatchObject({ result: 'delivered', errorAction: true });
    expect(target.to(`/${root}`)).toHaveLength(1);
    expect(JSON.parse(target.to(`/errors/${root}`)[0].body).failures[0].errorMessage).toContain('answered 401');
  });

  it('drops a message whose action fails when the rule has no errorAction, and records it', async () => {
    const root = uniqueTopicRoot();
    target.script(`/${root}`, [404]);
    const rule = await ruleTo(target.url(`/${root}`), root, false);

    await publish(clients, `${root}/dev`, { n: 1 });

    const records = await waitForDeliveries(clients.endpoint, rule, 1);
    expect(records).toEqual([expect.objectContaining({ result: 'failed', status: 404, attempts: 1 })]);
  });

  it('retries when the connection drops without an answer, then gives up after 3 attempts', async () => {
    const root = uniqueTopicRoot();
    target.script(`/${root}`, [HANG_UP, HANG_UP, HANG_UP]);
    const rule = await ruleTo(target.url(`/${root}`), root);

    await publish(clients, `${root}/dev`, { n: 1 });

    const records = await waitForDeliveries(clients.endpoint, rule, 2);
    expect(records[0]).toMatchObject({ result: 'failed', attempts: 3, error: { code: 'CONNECTION_FAILED' } });
    expect(records[0].status).toBeUndefined();
    expect(target.to(`/${root}`)).toHaveLength(3);
    expect(records[1]).toMatchObject({ result: 'delivered', errorAction: true });
  });
});
