/**
 * Readings through an inline rule the provisioner wrote, run by the emulator's rules engine: a
 * device publishes with iot-data Publish, the rule posts to a real HTTP server on loopback. The
 * server's destination is confirmed and enabled the way a service answering IoT would.
 */
import { DeleteTopicRuleCommand, ListTopicRuleDestinationsCommand, UpdateTopicRuleDestinationCommand } from '@aws-sdk/client-iot';
import fc from 'fast-check';
import { KEY_PATTERN } from '../../lambda/keys/key-format';
import { readIotDeliveries } from '../../lambda/local-aws';
import { consumerRuleSql } from '../../lambda/provision/consumers/rule-sql';
import type { InlineIotRule } from '../../lambda/provision/key-spec';
import { emulatorClientConfig } from '../local-aws/fixtures';
import {
  barrierRule,
  createRule,
  enabledDestination,
  type IotClients,
  iotClients,
  publish,
  settle,
  TargetServer,
  uniqueTopicRoot,
  waitForDeliveries,
} from '../local-aws/iot-fixtures';
import { filtersWithTopics } from '../support/topic-filters';
import { createProvisionFixture, events, inlineRule, inputOf, type ProvisionFixture, specOf } from './provision-fixture';

let fx: ProvisionFixture;
let clients: IotClients;
let target: TargetServer;
let barrier: { rule: string; root: string };

beforeAll(async () => {
  fx = await createProvisionFixture();
  clients = iotClients(emulatorClientConfig());
  target = await TargetServer.start();
  barrier = await barrierRule(clients, target);
});
afterAll(async () => {
  await target.stop();
  clients.destroy();
  fx.destroy();
});
afterEach(() => {
  expect(fx.logLines.join('\n')).not.toMatch(KEY_PATTERN);
});

/** The rule as api-key.ts declares an inline consumer of `topic` posting to `path` on the target. */
function consumer(topic: string, path: string, ruleName?: string): InlineIotRule {
  return inlineRule({ ...(ruleName ? { ruleName } : {}), sql: consumerRuleSql(topic), url: target.url(path) });
}

/**
 * What the key service does for its own URL: answers IoT's confirmation request by a GET on its
 * enableUrl, then enables the destination. CreateTopicRule (and ReplaceTopicRule, for a new URL)
 * created the destination and sent that request.
 */
async function enableDestinationOf(path: string): Promise<void> {
  const url = target.url(path);
  await target.waitFor(() => target.confirmations.some((c) => c.path.startsWith(`${path}?`)), `the confirmation request to ${url}`);
  const confirmation = target.confirmations.find((c) => c.path.startsWith(`${path}?`))!;
  const enabled = await fetch(confirmation.body.enableUrl);
  expect(enabled.status).toBe(200);
  const { destinationSummaries = [] } = await clients.iot.send(new ListTopicRuleDestinationsCommand({}));
  expect(destinationSummaries.find((d) => d.httpUrlSummary?.confirmationUrl === url)?.arn).toBe(confirmation.body.arn);
  await clients.iot.send(new UpdateTopicRuleDestinationCommand({ arn: confirmation.body.arn, status: 'ENABLED' }));
}

/** A declared key with one inline consumer, provisioned, its destination enabled. */
async function provisionedConsumer(rule: InlineIotRule, path: string) {
  const spec = specOf({ consumers: [rule] });
  await fx.putSpec(spec);
  const input = inputOf(spec, await fx.createSecret());
  await fx.provisioner().handle(events.create(input));
  await enableDestinationOf(path);
  return { spec, input, apiKey: (await fx.readSecret(input.secretArn))!.apiKey };
}

async function readingsAt(path: string, count: number) {
  await target.waitFor(() => target.to(path).length >= count, `${count} readings at ${path}`);
  return target.to(path).map((r) => ({ body: JSON.parse(r.body) as Record<string, unknown>, headers: r.headers }));
}

describe('a device publishing through an inline rule', () => {
  it('delivers a reading without deviceId with deviceId from the topic, its fields kept, and the key in the header', async () => {
    const root = uniqueTopicRoot();
    const path = `/${root}/v1/telemetry`;
    const rule = consumer(`${root}/telemetry/+`, path);
    const { apiKey } = await provisionedConsumer(rule, path);

    await publish(clients, `${root}/telemetry/dev-7`, { temp: 21.5 });

    const [reading] = await readingsAt(path, 1);
    expect(reading.body).toEqual({ temp: 21.5, deviceId: 'dev-7' });
    expect(reading.headers['x-api-key']).toBe(apiKey);
    expect(reading.headers['content-type']).toBe('application/json');
    const [delivery] = await waitForDeliveries(clients.endpoint, rule.ruleName, 1);
    expect(delivery).toMatchObject({ topic: `${root}/telemetry/dev-7`, result: 'delivered', status: 200, attempts: 1, url: rule.url });
    expect(delivery.headerNames.map((h) => h.toLowerCase())).toContain('x-api-key');
    expect(JSON.stringify(await readIotDeliveries(clients.endpoint, { rule: rule.ruleName }))).not.toContain(apiKey);
  });

  it("keeps a reading's own deviceId", async () => {
    const root = uniqueTopicRoot();
    const path = `/${root}/v1/telemetry`;
    await provisionedConsumer(consumer(`${root}/telemetry/+`, path), path);

    await publish(clients, `${root}/telemetry/gateway-1`, { deviceId: 'sensor-42', temp: 19 });

    const [reading] = await readingsAt(path, 1);
    expect(reading.body).toEqual({ deviceId: 'sensor-42', temp: 19 });
  });

  it('follows the rule to its new topic and URL after the spec changes, and nothing reaches the old URL', async () => {
    const root = uniqueTopicRoot();
    const [oldPath, newPath] = [`/${root}/old/v1/telemetry`, `/${root}/new/v1/telemetry`];
    const before = consumer(`${root}/telemetry/+`, oldPath);
    const { spec, input, apiKey } = await provisionedConsumer(before, oldPath);
    await fx.putSpec({ ...spec, consumers: [consumer(`${root}/+/readings`, newPath, before.ruleName)] });

    await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input));
    await enableDestinationOf(newPath);
    await publish(clients, `${root}/telemetry/dev-7`, { temp: 1 });
    await publish(clients, `${root}/dev-8/readings`, { temp: 2 });

    const [reading] = await readingsAt(newPath, 1);
    expect(reading.body).toEqual({ temp: 2, deviceId: 'dev-8' });
    expect(reading.headers['x-api-key']).toBe(apiKey);
    await settle(clients, barrier);
    expect(target.to(oldPath)).toEqual([]);
    expect(target.to(newPath)).toHaveLength(1);
  });
});

describe('the generated SQL on the rules engine', () => {
  it('gives, for any topic filter, the level its first wildcard matched as deviceId, and keeps the reading', async () => {
    const root = uniqueTopicRoot('prop');
    const confirmationPath = `/${root}`;
    await enabledDestination(clients, target, confirmationPath);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(filtersWithTopics([], { emptyLevels: false }), fc.double({ min: -1000, max: 1000, noNaN: true }).filter((t) => !Object.is(t, -0)), async (generated, temp) => {
        // A level of the run's own, so no earlier run's rule matches this run's topic.
        const prefix = `${root}/r${run++}`;
        const filter = `${prefix}/${generated.filter}`;
        const path = `${confirmationPath}/${run}`;
        const ruleName = await createRule(clients, {
          sql: consumerRuleSql(filter),
          actions: [{ http: { url: target.url(path), confirmationUrl: target.url(confirmationPath) } }],
        });
        await publish(clients, `${prefix}/${generated.topic}`, { temp });

        const [reading] = await readingsAt(path, 1);
        expect(reading.body).toEqual({ temp, deviceId: generated.firstWildcardMatch });
        await clients.iot.send(new DeleteTopicRuleCommand({ ruleName }));
      }),
      { numRuns: 20 },
    );
  });

  it('gives no deviceId from the topic for a message to the prefix of a `#` filter itself, which has no level under it', async () => {
    const root = uniqueTopicRoot('hash');
    const path = `/${root}/v1/telemetry`;
    await enabledDestination(clients, target, path);
    await createRule(clients, { sql: consumerRuleSql(`${root}/#`), actions: [{ http: { url: target.url(path) } }] });

    await publish(clients, root, { temp: 3 });
    await publish(clients, `${root}/dev-9/sub`, { temp: 4 });

    const readings = await readingsAt(path, 2);
    expect(readings.map((r) => r.body).sort((a, b) => Number(a.temp) - Number(b.temp))).toEqual([{ temp: 3 }, { temp: 4, deviceId: 'dev-9' }]);
  });
});
