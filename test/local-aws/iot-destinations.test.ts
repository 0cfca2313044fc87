/** Topic rule destinations on the emulator: AWS's API and confirmation flow, and delivery only through ENABLED ones. */
import {
  ConfirmTopicRuleDestinationCommand,
  CreateTopicRuleDestinationCommand,
  DeleteTopicRuleDestinationCommand,
  GetTopicRuleDestinationCommand,
  ListTopicRuleDestinationsCommand,
  UpdateTopicRuleDestinationCommand,
} from '@aws-sdk/client-iot';
import { emulatorClientConfig } from './fixtures';
import {
  barrierRule,
  confirmationFor,
  confirmedDestination,
  createRule,
  deliveries,
  enabledDestination,
  type IotClients,
  iotClients,
  publish,
  settle,
  TargetServer,
  uniqueTopicRoot,
  waitForDeliveries,
} from './iot-fixtures';

const clients: IotClients = iotClients(emulatorClientConfig());
let target: TargetServer;
let barrier: { rule: string; root: string };

beforeAll(async () => {
  target = await TargetServer.start();
  barrier = await barrierRule(clients, target);
});
afterAll(async () => {
  await target.stop();
  clients.destroy();
});

async function createDestination(path: string): Promise<string> {
  const { topicRuleDestination } = await clients.iot.send(
    new CreateTopicRuleDestinationCommand({ destinationConfiguration: { httpUrlConfiguration: { confirmationUrl: target.url(path) } } }),
  );
  return topicRuleDestination!.arn!;
}

async function statusOf(arn: string): Promise<string | undefined> {
  return (await clients.iot.send(new GetTopicRuleDestinationCommand({ arn }))).topicRuleDestination?.status;
}

describe('happy path', () => {
  it('creates an IN_PROGRESS destination in AWS shape and sends AWS confirmation request', async () => {
    const path = `/${uniqueTopicRoot('confirm')}`;
    const { topicRuleDestination } = await clients.iot.send(
      new CreateTopicRuleDestinationCommand({ destinationConfiguration: { httpUrlConfiguration: { confirmationUrl: target.url(path) } } }),
    );

    expect(topicRuleDestination).toEqual({
      arn: expect.stringMatching(/^arn:aws:iot:us-east-1:123456789012:ruledestination\/http\/[0-9a-f-]{36}$/),
      status: 'IN_PROGRESS',
      httpUrlProperties: { confirmationUrl: target.url(path) },
      createdAt: expect.any(Date),
      lastUpdatedAt: expect.any(Date),
    });
    const confirmation = await confirmationFor(target, topicRuleDestination!.arn!);
    const token = confirmation.body.confirmationToken;
    expect(confirmation.path).toBe(`${path}?confirmationToken=${token}`);
    expect(confirmation.headers).toMatchObject({
      'x-amz-rules-engine-message-type': 'DestinationConfirmation',
      'x-amz-rules-engine-destination-arn': topicRuleDestination!.arn,
      'content-type': 'application/json',
    });
    expect(confirmation.body).toEqual({
      arn: topicRuleDestination!.arn,
      confirmationToken: token,
      enableUrl: `${clients.endpoint}/confirmdestination/${token}`,
      messageType: 'DestinationConfirmation',
    });
  });

  it('is confirmed (DISABLED) by a GET on enableUrl, then ENABLED, DISABLED and ENABLED again by UpdateTopicRuleDestination', async () => {
    const arn = await createDestination(`/${uniqueTopicRoot('enable-url')}`);
    const { body } = await confirmationFor(target, arn);

    const answer = await fetch(body.enableUrl);

    expect(answer.status).toBe(200);
    expect(await statusOf(arn)).toBe('DISABLED');
    for (const status of ['ENABLED', 'DISABLED', 'ENABLED'] as const) {
      await clients.iot.send(new UpdateTopicRuleDestinationCommand({ arn, status }));
      expect(await statusOf(arn)).toBe(status);
    }
  });

  it('is confirmed by ConfirmTopicRuleDestination with the token', async () => {
    const arn = await createDestination(`/${uniqueTopicRoot('confirm-api')}`);
    const { body } = await confirmationFor(target, arn);

    await clients.iot.send(new ConfirmTopicRuleDestinationCommand({ confirmationToken: body.confirmationToken }));

    expect(await statusOf(arn)).toBe('DISABLED');
  });

  it('sends a fresh token on Update to IN_PROGRESS, and the old one no longer confirms', async () => {
    const arn = await enabledDestination(clients, target, `/${uniqueTopicRoot('resend')}`);
    const before = target.confirmations.length;
    const { body: first } = await confirmationFor(target, arn);

    await clients.iot.send(new UpdateTopicRuleDestinationCommand({ arn, status: 'IN_PROGRESS' }));

    expect(await statusOf(arn)).toBe('IN_PROGRESS');
    const { body: second } = await confirmationFor(target, arn, before);
    expect(second.confirmationToken).not.toBe(first.confirmationToken);
    await expect(clients.iot.send(new ConfirmTopicRuleDestinationCommand({ confirmationToken: first.confirmationToken }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
    await clients.iot.send(new ConfirmTopicRuleDestinationCommand({ confirmationToken: second.confirmationToken }));
    expect(await statusOf(arn)).toBe('DISABLED');
  });

  it('lists destinations page by page, and deletes one', async () => {
    const arns = [await createDestination(`/${uniqueTopicRoot('list')}`), await createDestination(`/${uniqueTopicRoot('list')}`)];
    const listed: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await clients.iot.send(new ListTopicRuleDestinationsCommand({ maxResults: 1, nextToken }));
      expect(page.destinationSummaries).toHaveLength(1);
      expect(page.destinationSummaries![0]).toMatchObject({ status: expect.any(String), httpUrlSummary: { confirmationUrl: expect.stringMatching(/^https:\/\//) } });
      listed.push(page.destinationSummaries![0].arn!);
      nextToken = page.nextToken;
    } while (nextToken);
    expect(listed).toEqual(expect.arrayContaining(arns));

    await clients.iot.send(new DeleteTopicRuleDestinationCommand({ arn: arns[0] }));

    await expect(statusOf(arns[0])).rejects.toMatchObject({ name: 'InvalidRequestException' });
    const { destinationSummaries } = await clients.iot.send(new ListTopicRuleDestinationsCommand({}));
    expect(destinationSummaries!.map((d) => d.arn)).not.toContain(arns[0]);
  });

  it('creates, with a rule, a destination for an HTTP action url that has none, as AWS does', async () => {
    const url = target.url(`/${uniqueTopicRoot('implicit')}/v1/telemetry`);

    await createRule(clients, { sql: "SELECT * FROM 'implicit/+'", actions: [{ http: { url } }] });

    const { destinationSummaries } = await clients.iot.send(new ListTopicRuleDestinationsCommand({}));
    const created = destinationSummaries!.find((d) => d.httpUrlSummary?.confirmationUrl === url);
    expect(created?.status).toBe('IN_PROGRESS');
    await confirmationFor(target, created!.arn!);
  });
});

describe('delivery', () => {
  async function ruleThrough(confirmationPath: string, root: string): Promise<string> {
    return createRule(clients, { sql: `SELECT * FROM '${root}/+'`, actions: [{ http: { url: target.url(`${confirmationPath}/v1/telemetry`), confirmationUrl: target.url(confirmationPath) } }] });
  }

  it.each([
    ['IN_PROGRESS (created, not confirmed)', (path: string) => createDestination(path)],
    ['DISABLED (confirmed, not enabled)', (path: string) => confirmedDestination(clients, target, path)],
  ])('sends nothing through a destination that is %s, and records why', async (_, make) => {
    const root = uniqueTopicRoot();
    const path = `/${root}`;
    const arn = await make(path);
    const rule = await ruleThrough(path, root);

    await publish(clients, `${root}/dev`, { n: 1 });
    await settle(clients, barrier);

    expect(target.to(`${path}/v1/telemetry`)).toEqual([]);
    const [record] = await waitForDeliveries(clients.endpoint, rule, 1);
    expect(record).toMatchObject({ result: 'not-sent', attempts: 0, error: { code: 'DESTINATION_NOT_ENABLED', message: expect.stringContaining(arn) } });
  });

  it('starts sending once the destination is ENABLED, and stops when it is disabled or deleted', async () => {
    const root = uniqueTopicRoot();
    const path = `/${root}`;
    const arn = await enabledDestination(clients, target, path);
    const rule = await ruleThrough(path, root);

    await publish(clients, `${root}/dev`, { n: 1 });
    await waitForDeliveries(clients.endpoint, rule, 1);
    await clients.iot.send(new UpdateTopicRuleDestinationCommand({ arn, status: 'DISABLED' }));
    await publish(clients, `${root}/dev`, { n: 2 });
    await waitForDeliveries(clients.endpoint, rule, 2);
    await clients.iot.send(new DeleteTopicRuleDestinationCommand({ arn }));
    await publish(clients, `${root}/dev`, { n: 3 });

    const records = await waitForDeliveries(clients.endpoint, rule, 3);
    expect(records.map((r) => r.error?.code ?? r.result)).toEqual(['delivered', 'DESTINATION_NOT_ENABLED', 'NO_DESTINATION']);
    expect(target.to(`${path}/v1/telemetry`).map((r) => JSON.parse(r.body))).toEqual([{ n: 1 }]);
  });
});

describe('errors', () => {
  it('refuses to enable or disable a destination that was never confirmed', async () => {
    const arn = await createDestination(`/${uniqueTopicRoot('unconfirmed')}`);

    await expect(clients.iot.send(new UpdateTopicRuleDestinationCommand({ arn, status: 'ENABLED' }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: expect.stringContaining('confirm it first'),
    });
    await expect(clients.iot.send(new UpdateTopicRuleDestinationCommand({ arn, status: 'DISABLED' }))).rejects.toMatchObject({ name: 'InvalidRequestException' });
    await expect(clients.iot.send(new UpdateTopicRuleDestinationCommand({ arn, status: 'ERROR' }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: expect.stringContaining('ENABLED, DISABLED or IN_PROGRESS'),
    });
    expect(await statusOf(arn)).toBe('IN_PROGRESS');
  });

  it('refuses a second destination for the same URL', async () => {
    const path = `/${uniqueTopicRoot('twice')}`;
    const arn = await createDestination(path);

    await expect(createDestination(path)).rejects.toMatchObject({ name: 'ResourceAlreadyExistsException', message: expect.stringContaining(arn) });
  });

  it.each([
    ['an http:// URL', { httpUrlConfiguration: { confirmationUrl: 'http://127.0.0.1:1/v1' } }, 'must be an https:// URL'],
    ['a VPC destination', { vpcConfiguration: { subnetIds: ['s'], vpcId: 'v', roleArn: 'arn:aws:iam::123456789012:role/r' } }, 'only httpUrlConfiguration'],
  ])('refuses %s', async (_, destinationConfiguration, named) => {
    await expect(clients.iot.send(new CreateTopicRuleDestinationCommand({ destinationConfiguration }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: expect.stringContaining(named),
    });
  });

  it('refuses an unknown confirmation token, at enableUrl and through the API', async () => {
    const answer = await fetch(`${clients.endpoint}/confirmdestination/not-a-token`);

    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ message: expect.stringContaining('confirmation token is not valid') });
    await expect(clients.iot.send(new ConfirmTopicRuleDestinationCommand({ confirmationToken: 'not-a-token' }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
  });

  it('answers the deliveries endpoint only for GET, and names its query errors', async () => {
    expect((await fetch(`${clients.endpoint}/keyroll-local/iot/deliveries`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${clients.endpoint}/keyroll-local/iot/nothing`)).status).toBe(404);
    const bad = await fetch(`${clients.endpoint}/keyroll-local/iot/deliveries?since=soon`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ code: 'INVALID_QUERY', message: "since must be a whole number; got 'soon'." });
    expect(Array.isArray(await deliveries(clients.endpoint))).toBe(true);
  });
});
