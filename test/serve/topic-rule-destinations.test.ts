/**
 * The key service confirms its own IoT topic rule destination, and no other: against the emulator's
 * destinations, which POST AWS's confirmation request to the destination URL.
 */
import { CreateTopicRuleDestinationCommand, DeleteTopicRuleDestinationCommand, GetTopicRuleDestinationCommand, IoTClient } from '@aws-sdk/client-iot';
import { closedPort } from '../support/child-process';
import { type Harness, startHarness } from '../support/service-harness';

const iot = new IoTClient({});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const created: string[] = [];

afterAll(async () => {
  for (const arn of created) await iot.send(new DeleteTopicRuleDestinationCommand({ arn })).catch(() => undefined);
  iot.destroy();
});

async function createDestination(confirmationUrl: string): Promise<string> {
  const { topicRuleDestination } = await iot.send(new CreateTopicRuleDestinationCommand({ destinationConfiguration: { httpUrlConfiguration: { confirmationUrl } } }));
  created.push(topicRuleDestination!.arn!);
  return topicRuleDestination!.arn!;
}

async function statusWithin(arn: string, ms: number, until: (status?: string) => boolean): Promise<string | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const { topicRuleDestination } = await iot.send(new GetTopicRuleDestinationCommand({ arn }));
    if (until(topicRuleDestination?.status) || Date.now() > deadline) return topicRuleDestination?.status;
    await sleep(100);
  }
}


describe('topic rule destinations', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness.stop());

  it('confirms and enables its own destination when IoT sends the confirmation', async () => {
    const arn = await createDestination(`https://127.0.0.1:${harness.server.port}/v1/telemetry`);
    expect(await statusWithin(arn, 10_000, (status) => status === 'ENABLED')).toBe('ENABLED');
  });

  it('leaves a destination of another URL unconfirmed', async () => {
    const arn = await createDestination(`https://127.0.0.1:${harness.server.port}/v1/elsewhere`);
    await sleep(1500);
    expect(await statusWithin(arn, 0, () => true)).toBe('IN_PROGRESS');
  });

  it.each([
    ['another account', 'arn:aws:iot:us-east-1:210987654321:ruledestination/http/0f0e-4b1a'],
    ['another region', 'arn:aws:iot:eu-central-1:123456789012:ruledestination/http/0f0e-4b1a'],
    ['a rule, not a destination', 'arn:aws:iot:us-east-1:123456789012:rule/some_rule'],
  ])('refuses a confirmation for %s with 403, without calling IoT', async (_, arn) => {
    const response = await harness.call('POST', '/v1/telemetry', {
      headers: { 'x-amz-rules-engine-message-type': 'DestinationConfirmation' },
      body: { arn, confirmationToken: 'token', enableUrl: 'https://example.com/confirm', messageType: 'DestinationConfirmation' },
    });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('FORBIDDEN');
    expect(response.body.error.message).toContain('keyroll confirms only the topic rule destination of its own telemetry URL');
  });

  it('refuses a confirmation of its own account and region whose token IoT does not know, with 403, not a 5xx', async () => {
    const response = await harness.call('POST', '/v1/telemetry', {
      headers: { 'x-amz-rules-engine-message-type': 'DestinationConfirmation' },
      body: { arn: 'arn:aws:iot:us-east-1:123456789012:ruledestination/http/0f0e-4b1a', confirmationToken: 'made-up', messageType: 'DestinationConfirmation' },
    });
    expect([response.status, response.body.error.code]).toEqual([403, 'FORBIDDEN']);
    expect(response.body.error.message).toContain('IoT did not accept its confirmation token');
  });

  it('still refuses readings without a key: the confirmation header opens nothing else', async () => {
    const response = await harness.call('POST', '/v1/telemetry', { body: { deviceId: 'd1', temp: 1 } });
    expect(response.status).toBe(401);
  });
});

describe('a service started after its destination was created', () => {
  it('asks IoT for a fresh confirmation at start-up and is ENABLED within 30 s', async () => {
    const port = await closedPort();
    const telemetryUrl = `https://127.0.0.1:${port}/v1/telemetry`;
    // Nothing listens yet: IoT's first confirmation request goes nowhere.
    const arn = await createDestination(telemetryUrl);
    await sleep(300);
    expect(await statusWithin(arn, 0, () => true)).toBe('IN_PROGRESS');
    const late = await startHarness({ port, telemetryUrl });
    try {
      expect(await late.server.service.deps.destinations.requestFreshConfirmations()).toBeGreaterThanOrEqual(1);
      expect(await statusWithin(arn, 30_000, (status) => status === 'ENABLED')).toBe('ENABLED');
    } finally {
      await late.stop();
    }
  });
});
