/** The emulator's IoT rules engine: iot-data Publish runs matching topic rules and their HTTP actions, as AWS does. */
import { CreateTopicRuleCommand, DisableTopicRuleCommand, GetTopicRuleCommand, ReplaceTopicRuleCommand } from '@aws-sdk/client-iot';
import { readIotDeliveries } from '../../lambda/local-aws';
import { emulatorClientConfig, uniqueName } from './fixtures';
import {
  apiKeySecret,
  barrierRule,
  createRule,
  deliveries,
  enabledDestination,
  getSecretHeader,
  type IotClients,
  iotClients,
  publish,
  readerRole,
  settle,
  TargetServer,
  trustPolicy,
  uniqueTopicRoot,
  waitForDeliveries,
} from './iot-fixtures';

const clients: IotClients = iotClients(emulatorClientConfig());
let target: TargetServer;
let barrier: { rule: string; root: string };

beforeAll(async () => {
  target = await TargetServer.start();
  barrier = await barrierRule(clients, target);
  await enabledDestination(clients, target, '/v1/');
});
afterAll(async () => {
  await target.stop();
  clients.destroy();
});

/**
 * A rule sending `sql`'s result to `path` on the target, with the key read by get_secret through a
 * role only IoT acting for this rule may assume, as keyroll's stacks declare it.
 */
async function telemetryRule(sql: string, path: string, apiKey = 'kr_test_key'): Promise<{ rule: string; secretArn: string; roleArn: string }> {
  const rule = uniqueName('rule');
  const secretArn = await apiKeySecret(clients, apiKey);
  const roleArn = await readerRole(clients, secretArn, {
    trust: trustPolicy(
      { Service: 'iot.amazonaws.com' },
      { StringEquals: { 'aws:SourceAccount': '123456789012' }, ArnEquals: { 'aws:SourceArn': `arn:aws:iot:us-east-1:123456789012:rule/${rule}` } },
    ),
  });
  await createRule(
    clients,
    { sql, actions: [{ http: { url: target.url(path), confirmationUrl: target.url('/v1/'), headers: [{ key: 'x-api-key', value: getSecretHeader(secretArn, roleArn) }] } }] },
    rule,
  );
  return { rule, secretArn, roleArn };
}

describe('happy path', () => {
  it('delivers the SELECT result with the deviceId from the topic and the key read through get_secret', async () => {
    const root = uniqueTopicRoot();
    const apiKey = `kr_test_${uniqueName('k')}`;
    const { rule } = await telemetryRule(`SELECT *, topic(3) AS deviceId FROM '${root}/telemetry/+'`, '/v1/telemetry/a', apiKey);

    await publish(clients, `${root}/telemetry/dev-7`, { temp: 21.5 });

    await target.waitFor(() => target.to('/v1/telemetry/a').length === 1, 'the reading');
    const [reading] = target.to('/v1/telemetry/a');
    expect(JSON.parse(reading.body)).toEqual({ temp: 21.5, deviceId: 'dev-7' });
    expect(reading.headers['x-api-key']).toBe(apiKey);
    expect(reading.headers['content-type']).toBe('application/json');
    const [record] = await waitForDeliveries(clients.endpoint, rule, 1);
    expect(record).toMatchObject({ ruleName: rule, topic: `${root}/telemetry/dev-7`, url: target.url('/v1/telemetry/a'), status: 200, attempts: 1, result: 'delivered' });
    // The log names the headers but never holds their values: they carry API keys.
    expect(record.headerNames).toEqual(['x-api-key']);
    expect(JSON.stringify(await deliveries(clients.endpoint))).not.toContain(apiKey);
  });

  it('answers Publish before the target has answered: delivery is asynchronous', async () => {
    const root = uniqueTopicRoot();
    const { rule } = await telemetryRule(`SELECT * FROM '${root}/+'`, '/v1/held');
    const release = target.hold();
    try {
      await publish(clients, `${root}/dev-1`, { n: 1 });
      await target.waitFor(() => target.to('/v1/held').length === 1, 'the held request');
      expect(await deliveries(clients.endpoint, rule)).toEqual([]);
    } finally {
      release();
    }
    expect((await waitForDeliveries(clients.endpoint, rule, 1))[0].result).toBe('delivered');
  });

  it('matches + as one level and # as any levels below, and skips other topics', async () => {
    const root = uniqueTopicRoot();
    await telemetryRule(`SELECT topic() AS t FROM '${root}/telemetry/+'`, '/v1/plus');
    await telemetryRule(`SELECT topic() AS t FROM '${root}/#'`, '/v1/hash');
    const topics = [`${root}/telemetry/dev-1`, `${root}/telemetry/dev-1/extra`, `${root}`, `${root}x/telemetry/dev-1`, `other/${root}/telemetry/dev-1`];

    for (const topic of topics) await publish(clients, topic, { n: 1 });
    await settle(clients, barrier);

    const topicsAt = (path: string): string[] => target.to(path).map((r) => JSON.parse(r.body).t).sort();
    expect(topicsAt('/v1/plus')).toEqual([`${root}/telemetry/dev-1`]);
    expect(topicsAt('/v1/hash')).toEqual([`${root}`, `${root}/telemetry/dev-1`, `${root}/telemetry/dev-1/extra`].sort());
  });

  it('sends only the messages whose WHERE holds', async () => {
    const root = uniqueTopicRoot();
    await telemetryRule(`SELECT temp, clientid() AS client FROM '${root}/+' WHERE temp > 20 AND (kind = 'air' OR kind <> 'water')`, '/v1/where');

    for (const payload of [{ temp: 25, kind: 'air' }, { temp: 10, kind: 'air' }, { temp: 30, kind: 'water' }, { kind: 'air' }, { temp: 21, kind: 'soil' }]) {
      await publish(clients, `${root}/dev`, payload);
    }
    await settle(clients, barrier);

    // clientid() is "n/a" for messages that did not come over MQTT, as on AWS.
    expect(target.to('/v1/where').map((r) => JSON.parse(r.body)).sort((a, b) => a.temp - b.temp)).toEqual([
      { temp: 21, client: 'n/a' },
      { temp: 25, client: 'n/a' },
    ]);
  });

  it('replaces a payload field with a later SELECT item of the same name, and keeps it with the CASE form', async () => {
    const root = uniqueTopicRoot();
    await telemetryRule(`SELECT *, topic(2) AS deviceId FROM '${root}/+'`, '/v1/later-wins');
    await telemetryRule(`SELECT *, CASE isUndefined(deviceId) WHEN true THEN topic(2) ELSE deviceId END AS deviceId FROM '${root}/+'`, '/v1/device-wins');

    await publish(clients, `${root}/from-topic`, { deviceId: 'from-device', temp: 1 });
    await publish(clients, `${root}/from-topic`, { temp: 2 });
    await target.waitFor(() => target.to('/v1/later-wins').length === 2 && target.to('/v1/device-wins').length === 2, 'both rules');

    const bodies = (path: string): unknown[] => target.to(path).map((r) => JSON.parse(r.body)).sort((a, b) => a.temp - b.temp);
    expect(bodies('/v1/later-wins')).toEqual([{ deviceId: 'from-topic', temp: 1 }, { deviceId: 'from-topic', temp: 2 }]);
    expect(bodies('/v1/device-wins')).toEqual([{ deviceId: 'from-device', temp: 1 }, { deviceId: 'from-topic', temp: 2 }]);
  });

  it('lets a poller read each delivery once, with since and limit', async () => {
    const root = uniqueTopicRoot();
    const { rule } = await telemetryRule(`SELECT * FROM '${root}/+'`, '/v1/polled');
    await publish(clients, `${root}/a`, {});
    await publish(clients, `${root}/b`, {});
    const [first, second] = await waitForDeliveries(clients.endpoint, rule, 2);

    expect(await readIotDeliveries(clients.endpoint, { rule, since: first.seq })).toEqual([second]);
    expect(await readIotDeliveries(clients.endpoint, { rule, limit: 1 })).toEqual([second]);
    expect(await readIotDeliveries(clients.endpoint, { rule, since: second.seq })).toEqual([]);
  });

  it('runs no disabled rule', async () => {
    const root = uniqueTopicRoot();
    const { rule } = await telemetryRule(`SELECT * FROM '${root}/+'`, '/v1/disabled');
    await clients.iot.send(new DisableTopicRuleCommand({ ruleName: rule }));

    await publish(clients, `${root}/dev`, { n: 1 });
    await settle(clients, barrier);

    expect(target.to('/v1/disabled')).toEqual([]);
    expect(await deliveries(clients.endpoint, rule)).toEqual([]);
  });
});

describe('errors', () => {
  it.each([
    ["SELECT upper(name) AS n FROM 'a/+'", 'the function upper() is not supported'],
    ["SELECT VALUE temp FROM 'a/+'", 'SELECT VALUE is not supported'],
    ["SELECT temp * 2 AS t FROM 'a/+'", 'arithmetic (+ - * / %) is not supported'],
    ["SELECT * FROM 'a/+' WHERE kind IN ('x')", 'the IN operator is not supported'],
    ["SELECT topic(3) FROM 'a/+'", 'needs a name: add `AS name`'],
    ["SELECT * FROM 'a/#/b'", '`#` must be a whole level and the last one'],
    ['SELECT *', 'has no FROM clause'],
  ])('refuses %s at CreateTopicRule, naming what is unsupported', async (sql, named) => {
    const create = clients.iot.send(new CreateTopicRuleCommand({ ruleName: uniqueName('rule'), topicRulePayload: { sql, actions: [] } }));

    await expect(create).rejects.toMatchObject({ name: 'InvalidRequestException', message: expect.stringContaining(named) });
    await expect(create).rejects.toMatchObject({ message: expect.stringContaining("The local AWS emulator's rules engine does not support this SQL") });
  });

  it('refuses an unsupported ReplaceTopicRule and keeps the rule it would have replaced', async () => {
    const root = uniqueTopicRoot();
    const { rule } = await telemetryRule(`SELECT * FROM '${root}/+'`, '/v1/kept');

    const replace = clients.iot.send(new ReplaceTopicRuleCommand({ ruleName: rule, topicRulePayload: { sql: `SELECT newuuid() AS id FROM '${root}/+'`, actions: [] } }));

    await expect(replace).rejects.toMatchObject({ name: 'InvalidRequestException', message: expect.stringContaining('newuuid()') });
    expect((await clients.iot.send(new GetTopicRuleCommand({ ruleName: rule }))).rule?.sql).toBe(`SELECT * FROM '${root}/+'`);
  });

  it.each([
    ['an http:// url', { url: 'http://127.0.0.1:1/v1/telemetry' }, 'must be an https:// URL'],
    ['a url outside its confirmationUrl', { url: 'https://127.0.0.1:1/v2/x', confirmationUrl: 'https://127.0.0.1:1/v1/' }, 'must start with its confirmationUrl'],
    ['a templated url without confirmationUrl', { url: 'https://127.0.0.1:1/${topic(2)}' }, 'AWS requires a confirmationUrl'],
    ['get_secret in the url', { url: "https://127.0.0.1:1/${get_secret('s', 'SecretString', 'k', 'r')}", confirmationUrl: 'https://127.0.0.1:1/' }, 'get_secret() is allowed only in HTTP action header values'],
    ['SigV4 auth', { url: 'https://127.0.0.1:1/v1', auth: { sigv4: { signingRegion: 'us-east-1', serviceName: 'execute-api', roleArn: 'arn:aws:iam::123456789012:role/x' } } }, 'SigV4'],
  ])('refuses an HTTP action with %s at CreateTopicRule', async (_, http, named) => {
    const create = clients.iot.send(new CreateTopicRuleCommand({ ruleName: uniqueName('rule'), topicRulePayload: { sql: "SELECT * FROM 'a/+'", actions: [{ http }] } }));

    await expect(create).rejects.toMatchObject({ name: 'InvalidRequestException', message: expect.stringContaining(named) });
  });

  it('sends nothing when IoT cannot assume the get_secret role, and says why', async () => {
    const root = uniqueTopicRoot();
    const secretArn = await apiKeySecret(clients, 'kr_test_unreadable');
    const missing = `arn:aws:iam::123456789012:role/${uniqueName('never-created')}`;
    const lambdaOnly = await readerRole(clients, secretArn, { trust: trustPolicy({ Service: 'lambda.amazonaws.com' }) });
    const otherRule = await readerRole(clients, secretArn, {
      trust: trustPolicy({ Service: 'iot.amazonaws.com' }, { ArnEquals: { 'aws:SourceArn': 'arn:aws:iot:us-east-1:123456789012:rule/someone_else' } }),
    });
    const noPolicy = await readerRole(clients, secretArn, { mayRead: false });
    const rules: Record<string, string> = {};
    for (const [code, roleArn] of [['ROLE_NOT_FOUND', missing], ['ROLE_NOT_ASSUMABLE', lambdaOnly], ['ROLE_NOT_ASSUMABLE', otherRule], ['ROLE_NOT_PERMITTED', noPolicy]]) {
      const rule = await createRule(clients, {
        sql: `SELECT * FROM '${root}/+'`,
        actions: [{ http: { url: target.url('/v1/unreadable'), confirmationUrl: target.url('/v1/'), headers: [{ key: 'x-api-key', value: getSecretHeader(secretArn, roleArn) }] } }],
      });
      rules[rule] = code;
    }

    await publish(clients, `${root}/dev`, { n: 1 });

    for (const [rule, code] of Object.entries(rules)) {
      const [record] = await waitForDeliveries(clients.endpoint, rule, 1);
      expect(record).toMatchObject({ result: 'not-sent', attempts: 0, error: { code } });
    }
    expect(target.to('/v1/unreadable')).toEqual([]);
  });

  it('sends nothing, and says so, when the secret has no such JSON key', async () => {
    const root = uniqueTopicRoot();
    const secretArn = await apiKeySecret(clients, 'kr_test_wrong_key');
    const roleArn = await readerRole(clients, secretArn);
    const rule = await createRule(clients, {
      sql: `SELECT * FROM '${root}/+'`,
      actions: [{ http: { url: target.url('/v1/no-key'), confirmationUrl: target.url('/v1/'), headers: [{ key: 'x-api-key', value: `\${get_secret('${secretArn}', 'SecretString', 'token', '${roleArn}')}` }] } }],
    });

    await publish(clients, `${root}/dev`, {});

    const [record] = await waitForDeliveries(clients.endpoint, rule, 1);
    expect(record).toMatchObject({ result: 'not-sent', error: { code: 'SECRET_KEY_MISSING', message: expect.stringContaining("no key 'token'") } });
  });
});
