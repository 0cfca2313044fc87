/**
 * A real `cdktf deploy` of the example app against the emulator, then checks through the AWS APIs
 * and the key service: keys issued into secrets, IoT rules wired, redeploys, removal, destroy, and
 * no key material anywhere Terraform or the Lambdas leave traces.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetFunctionCommand, type GetFunctionCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { GetTopicRuleCommand, IoTClient, ListTagsForResourceCommand, ResourceNotFoundException } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parse, stringify } from 'yaml';
import { ALERT_TYPES } from '../../lambda/alerts/alert';
import { waitForEnabledDestinations } from '../../lambda/cli/devices/rule-destinations';
import { KEY_PATTERN_GLOBAL } from '../../lambda/keys/key-format';
import { type IotDelivery, readIotDeliveries } from '../../lambda/local-aws';
import { type RunningServer, startServer } from '../../lambda/serve/node-server';
import { tableNamesFromEnv } from '../../lambda/tables/table-names';
import { runCdktf } from '../../stacks/deploy/run-cdktf';
import { KEYS_STACK, PLATFORM_STACK } from '../../stacks/stack-names';
import { closedPort } from '../support/child-process';
import { call, startHarness } from '../support/service-harness';

jest.setTimeout(600_000);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'keyroll-deploy-'));
const keysFile = path.join(work, 'keys.yaml');
const outputDir = path.join(work, 'cdktf.out');
const stateDir = path.join(work, 'state');
const outputs: string[] = [];
// The example declares no permissions of acme's own; the test does, to see that item deployed too.
const example = { ...parse(fs.readFileSync(path.join(__dirname, '..', '..', 'stacks', 'keys.yaml'), 'utf8')), permissions: ['customers:read', 'billing:read'] };
const tables = tableNamesFromEnv({});
const secrets = new SecretsManagerClient({});
const iot = new IoTClient({});
let production: RunningServer;
let staging: RunningServer;
/**
 * Where the deployed rules post: a free port of this machine, not 8787 (a developer's keyroll may
 * hold it), so the service the IoT test starts there receives them.
 */
let telemetryPort: number;
let telemetryUrl: string;
/** Deployed with an alert address and one threshold, so the topic, its subscription and the pass-through are applied too. */
const ALERT_SETTINGS = { KEYROLL_ALERT_EMAIL: 'oncall@example.com', KEYROLL_ALERT_ERROR_SHARE: '0.4' };

/**
 * A Query-protocol call to the emulator (no CloudWatch or SNS client in the project): moto picks
 * the service from the credential scope and does not check the signature.
 */
async function awsQuery(service: 'monitoring' | 'sns', params: Record<string, string>): Promise<string> {
  const response = await fetch(process.env.AWS_ENDPOINT_URL!, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=test/20240101/${process.env.AWS_REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams(params),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${service} ${params.Action}: HTTP ${response.status}: ${text}`);
  return text;
}

/** Every `<tag>` value in an XML answer, in order. */
const xmlValues = (xml: string, tag: string) => [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((match) => match[1]);


function writeKeys(mutate: (keys: any[]) => any[] = (keys) => keys) {
  fs.writeFileSync(keysFile, stringify({ ...example, keys: mutate(structuredClone(example.keys)) }));
}

async function cdktf(command: 'deploy' | 'destroy', stacks: string[]) {
  const run = await runCdktf({
    command,
    stacks,
    outputDir,
    withoutDependencies: !stacks.includes(PLATFORM_STACK),
    env: { KEYROLL_KEYS_FILE: keysFile, KEYROLL_STATE_DIR: stateDir, KEYROLL_TELEMETRY_URL: telemetryUrl, ...ALERT_SETTINGS },
    onOutput: () => undefined,
  });
  outputs.push(run.output);
  if (run.exitCode !== 0) throw new Error(`cdktf ${command} failed:\n${run.output.slice(-6000)}`);
  return run.output;
}

async function secretOf(name: string) {
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: `keyroll/acme/${name}` }));
  return JSON.parse(SecretString!) as { apiKey: string; keyId: string; environment: string };
}

async function verify(server: RunningServer, key: string) {
  return (await call(server.url, 'POST', '/v1/verify', { body: { key } })).body;
}

/** The verifier caches records for about a second; poll until a change shows. */
async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 30 && !accept(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    value = await read();
  }
  return value;
}

beforeAll(async () => {
  telemetryPort = await closedPort();
  telemetryUrl = `https://localhost:${telemetryPort}/v1/telemetry`;
  writeKeys();
  const config = (environment: 'production' | 'staging') => ({ config: { environment, extraKeyHeaders: ['x-tlm-key'], tables } });
  await cdktf('deploy', [PLATFORM_STACK, KEYS_STACK]);
  production = await startServer(0, config('production'));
  staging = await startServer(0, config('staging'));
});

afterAll(async () => {
  await Promise.all([production?.stop(), staging?.stop()]);
});

describe('cdktf deploy of the example app', () => {
  it('creates the tables and the Lambdas', async () => {
    for (const table of Object.values(tables)) {
      const { Table } = await new DynamoDBClient({}).send(new DescribeTableCommand({ TableName: table }));
      expect(Table?.TableStatus).toBe('ACTIVE');
    }
    const functions: Record<string, GetFunctionCommandOutput> = {};
    for (const name of ['keyroll-service', 'keyroll-provisioner']) {
      functions[name] = await new LambdaClient({}).send(new GetFunctionCommand({ FunctionName: name }));
      expect(functions[name].Configuration?.Runtime).toBe('nodejs22.x');
    }
    expect(functions['keyroll-service'].Concurrency?.ReservedConcurrentExecutions).toBe(100);
    expect(functions['keyroll-provisioner'].Concurrency?.ReservedConcurrentExecutions).toBeUndefined();
  });

  it("tags each key's secret with the key, and gives the provisioner the same fixed grants however many keys there are", async () => {
    const { Tags } = await secrets.send(new DescribeSecretCommand({ SecretId: 'keyroll/acme/telemetry-ingest' }));
    expect(Tags).toEqual(expect.arrayContaining([{ Key: 'keyroll:key', Value: 'acme/telemetry-ingest' }]));
    const { PolicyNames } = await new IAMClient({}).send(new ListRolePoliciesCommand({ RoleName: 'keyroll-provisioner-role' }));
    expect(PolicyNames?.sort()).toEqual(['provisioner-inline-rules', 'provisioner-key-secrets', 'provisioner-keys-table', 'write-own-logs']);
  });

  it('issues each declared key into its secret, accepted with the declared scope', async () => {
    const ingest = await secretOf('telemetry-ingest');
    expect(await verify(production, ingest.apiKey)).toMatchObject({
      valid: true,
      keyId: ingest.keyId,
      tenant: 'acme',
      environment: 'production',
      permissions: ['telemetry:write'],
    });
    const dashboard = await secretOf('staging-dashboard');
    expect(dashboard.apiKey).toMatch(/^kr_test_/);
    expect(await verify(staging, dashboard.apiKey)).toMatchObject({ valid: true, environment: 'staging', permissions: ['telemetry:read', 'customers:read'] });
    expect((await verify(production, dashboard.apiKey)).code).toBe('ENVIRONMENT_MISMATCH');
  });

  it('wires the reference rule with the get_secret template and the inline rule with the key', async () => {
    const ingestSecret = await secrets.send(new GetSecretValueCommand({ SecretId: 'keyroll/acme/telemetry-ingest' }));
    const reference = await iot.send(new GetTopicRuleCommand({ ruleName: 'acme_telemetry_ingest' }));
    const referenceHeader = reference.rule?.actions?.[0]?.http?.headers?.find((h) => h.key === 'x-api-key');
    expect(reference.rule?.actions?.[0]?.http?.url).toBe(telemetryUrl);
    expect(referenceHeader?.value).toMatch(
      new RegExp(`^\\$\\{get_secret\\('${ingestSecret.ARN!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}', 'SecretString', 'apiKey', 'arn:aws:iam::\\d+:role/[\\w+=,.@-]+'\\)\\}$`),
    );
    const legacy = await secretOf('telemetry-legacy');
    const inline = await iot.send(new GetTopicRuleCommand({ ruleName: 'acme_telemetry_legacy' }));
    const inlineHeader = inline.rule?.actions?.flatMap((a) => a.http?.headers ?? []).find((h) => h.key === 'x-api-key');
    expect(inlineHeader?.value).toBe(legacy.apiKey);
    expect((await verify(production, legacy.apiKey)).valid).toBe(true);
  });

  it('delivers a reading published to each consumer topic, without a deviceId, into the telemetry table: tenant, key and deviceId from the topic', async () => {
    // Started after the deploy, as `npm start` does: IoT's first confirmation request found nobody.
    const service = await startHarness({ port: telemetryPort, telemetryUrl, tables });
    try {
      expect(await service.server.service.deps.destinations.requestFreshConfirmations()).toBe(1);
      const rules = await Promise.all(['acme_telemetry_ingest', 'acme_telemetry_legacy'].map((ruleName) => iot.send(new GetTopicRuleCommand({ ruleName }))));
      const urls = rules.flatMap(({ rule }) => (rule?.actions ?? []).map((action) => action.http?.confirmationUrl ?? action.http!.url!));
      expect(urls).toEqual([telemetryUrl, telemetryUrl]);
      expect(await waitForEnabledDestinations(iot, urls, { timeoutMs: 10_000 })).toEqual([expect.objectContaining({ url: telemetryUrl, status: 'ENABLED' })]);

      const endpoint = process.env.AWS_ENDPOINT_URL!;
      const since = (await readIotDeliveries(endpoint, { limit: 1 })).at(-1)?.seq ?? 0;
      // `probe` tells these readings from any other test's in the shared table.
      const reading = { temp: 21.5, humidity: 40, probe: `${Date.now()}-${process.pid}` };
      const data = new IoTDataPlaneClient({});
      const sent = { acme_telemetry_ingest: 'acme/telemetry/dev-7', acme_telemetry_legacy: 'acme/legacy/dev-8' };
      for (const topic of Object.values(sent)) await data.send(new PublishCommand({ topic, payload: Buffer.from(JSON.stringify(reading)) }));
      data.destroy();

      const delivered = await eventually(
        () => readIotDeliveries(endpoint, { since }),
        (found: IotDelivery[]) => Object.values(sent).every((topic) => found.some((d) => d.topic === topic)),
      );
      for (const [ruleName, topic] of Object.entries(sent)) {
        expect(delivered.filter((d) => d.topic === topic)).toEqual([expect.objectContaining({ ruleName, action: 'http', result: 'delivered', status: 202, attempts: 1, url: telemetryUrl })]);
      }

      const reader = (await service.issue('acme', { permissions: ['telemetry:read'] })).key;
      const keys = { 'dev-7': (await secretOf('telemetry-ingest')).keyId, 'dev-8': (await secretOf('telemetry-legacy')).keyId };
      for (const [deviceId, keyId] of Object.entries(keys)) {
        const { status, body } = await service.call('GET', `/v1/telemetry?deviceId=${deviceId}`, { key: reader });
        expect(status).toBe(200);
        const ours = body.readings.filter((r: { reading: { probe?: string } }) => r.reading.probe === reading.probe);
        // The reference rule's key came through get_secret, the inline rule's from its header.
        expect(ours).toEqual([expect.objectContaining({ deviceId, keyId, reading: { ...reading, deviceId } })]);
      }

      // What the rule adds is what the endpoint requires: the same reading posted directly is refused.
      const direct = await service.call('POST', '/v1/telemetry', { key: (await secretOf('telemetry-ingest')).apiKey, body: reading });
      expect(direct.status).toBe(400);
      expect(direct.body.error).toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringContaining('`body.deviceId`') });
    } finally {
      await service.stop();
    }
  });

  it('tags the inline rule with the key it carries, and keeps specs and provisioner records out of the tenant partition', async () => {
    const { ruleArn } = await iot.send(new GetTopicRuleCommand({ ruleName: 'acme_telemetry_legacy' }));
    const { tags } = await iot.send(new ListTagsForResourceCommand({ resourceArn: ruleArn }));
    expect(tags).toEqual(expect.arrayContaining([{ Key: 'keyroll:key', Value: 'acme/telemetry-legacy' }]));

    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const partition = async (pk: string) =>
      (await documents.send(new QueryCommand({ TableName: tables.keys, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk } }))).Items ?? [];
    const names = example.keys.map((k: { name: string }) => k.name).sort();
    expect((await partition('SPEC#acme')).map((item) => item.sk).sort()).toEqual(names);
    const records = await partition('PROVISIONED#acme');
    expect(records.map((item) => item.sk).sort()).toEqual(names);
    for (const record of records) expect(record.keyId).toBe((await secretOf(String(record.sk))).keyId);
    // Key records, and the markers that make each usage write count once (see dynamodb-usage.ts).
    // Plus the tenant's declared permissions, which Terraform writes for the key service to read.
    const tenantItems = await partition('TENANT#acme');
    expect(tenantItems.every((item) => /^(KEY|USAGE)#/.test(String(item.sk)) || item.sk === 'PERMISSIONS')).toBe(true);
    expect(tenantItems.find((item) => item.sk === 'PERMISSIONS')).toEqual({ pk: 'TENANT#acme', sk: 'PERMISSIONS', kind: 'permissions', permissions: example.permissions });
  });

  it('confines the deployed key service to the key and secret partitions of the keys table', async () => {
    const { PolicyDocument } = await new IAMClient({}).send(new GetRolePolicyCommand({ RoleName: 'keyroll-service-role', PolicyName: 'key-service-data' }));
    const statements = JSON.parse(decodeURIComponent(PolicyDocument!)).Statement as { Action: string[]; Condition?: unknown }[];
    expect(statements.find((s) => s.Action.includes('dynamodb:Query'))?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TENANT#*', 'SECRET#*', 'USAGE_SERIES#*', 'AUDIT#*', 'CONSOLE#*', 'ALERT#*', 'SOURCES#*'] },
    });
  });

  it('alarms on each alert type, notifying the keyroll-alerts topic KEYROLL_ALERT_EMAIL is subscribed to', async () => {
    const xml = await awsQuery('monitoring', { Action: 'DescribeAlarms', Version: '2010-08-01', AlarmNamePrefix: 'keyroll-alert-' });
    const alarms = xml.split('<AlarmName>').slice(1).map((block) => `<AlarmName>${block}`);
    expect(alarms.map((alarm) => xmlValues(alarm, 'AlarmName')[0]).sort()).toEqual(ALERT_TYPES.map((type) => `keyroll-alert-${type}`).sort());
    const topicArn = xmlValues(await awsQuery('sns', { Action: 'ListTopics' }), 'TopicArn').find((arn) => arn.endsWith(':keyroll-alerts'));
    expect(topicArn).toBeDefined();
    for (const alarm of alarms) {
      const type = xmlValues(alarm, 'AlarmName')[0].replace('keyroll-alert-', '');
      expect({
        namespace: xmlValues(alarm, 'Namespace'),
        metric: xmlValues(alarm, 'MetricName'),
        dimensions: Object.fromEntries(xmlValues(alarm, 'Name').map((name, i) => [name, xmlValues(alarm, 'Value')[i]])),
        statistic: xmlValues(alarm, 'Statistic'),
        period: xmlValues(alarm, 'Period'),
        threshold: xmlValues(alarm, 'Threshold').map(Number),
        missing: xmlValues(alarm, 'TreatMissingData'),
        alarmActions: xmlValues(alarm.split('<AlarmActions>')[1]?.split('</AlarmActions>')[0] ?? '', 'member'),
      }).toEqual({
        namespace: ['keyroll'],
        metric: ['UnusualActivity'],
        dimensions: { service: 'keyroll-service', alert: type },
        statistic: ['Sum'],
        period: ['300'],
        threshold: [1],
        missing: ['notBreaching'],
        alarmActions: [topicArn],
      });
    }
    const subscriptions = await awsQuery('sns', { Action: 'ListSubscriptionsByTopic', TopicArn: topicArn! });
    expect({ protocol: xmlValues(subscriptions, 'Protocol'), endpoint: xmlValues(subscriptions, 'Endpoint') }).toEqual({ protocol: ['email'], endpoint: ['oncall@example.com'] });
    // The thresholds set for the deploy reach the service; the address does not.
    const { Configuration } = await new LambdaClient({}).send(new GetFunctionCommand({ FunctionName: 'keyroll-service' }));
    expect(Configuration?.Environment?.Variables).toMatchObject({ KEYROLL_ALERT_ERROR_SHARE: '0.4' });
    expect(Configuration?.Environment?.Variables).not.toHaveProperty('KEYROLL_ALERT_EMAIL');
  });

  it('reports no changes on a second deploy with no code change', async () => {
    const before = await secretOf('telemetry-ingest');
    const output = (await cdktf('deploy', [PLATFORM_STACK, KEYS_STACK])).replace(/\x1b\[[0-9;]*m/g, '');
    for (const stack of [PLATFORM_STACK, KEYS_STACK]) {
      expect(output).toMatch(new RegExp(`${stack}\\s+No changes\\. Your infrastructure matches the configuration`));
    }
    expect(output.match(/Apply complete! Resources: 0 added, 0 changed, 0 destroyed/g)).toHaveLength(2);
    expect(await secretOf('telemetry-ingest')).toEqual(before);
  });

  it('changes what the service grants when permissions change in code: same key, same secret value', async () => {
    const before = await secretOf('telemetry-ingest');
    writeKeys((keys) => keys.map((k) => (k.name === 'telemetry-ingest' ? { ...k, permissions: ['telemetry:write', 'customers:read'] } : k)));
    await cdktf('deploy', [KEYS_STACK]);
    const after = await secretOf('telemetry-ingest');
    expect(after).toEqual(before);
    const verdict = await eventually(
      () => verify(production, after.apiKey),
      (v) => v.permissions.length === 2,
    );
    expect(verdict).toMatchObject({ valid: true, keyId: before.keyId, permissions: ['telemetry:write', 'customers:read'] });
  });

  it('revokes a key removed from the code, and deletes its inline rule, while the others keep working', async () => {
    const legacy = await secretOf('telemetry-legacy');
    writeKeys((keys) => keys.filter((k) => k.name !== 'telemetry-legacy'));
    await cdktf('deploy', [KEYS_STACK]);
    expect(await eventually(() => verify(production, legacy.apiKey), (v) => !v.valid)).toMatchObject({ valid: false, code: 'INVALID_API_KEY' });
    await expect(iot.send(new GetTopicRuleCommand({ ruleName: 'acme_telemetry_legacy' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect((await verify(production, (await secretOf('telemetry-ingest')).apiKey)).valid).toBe(true);
    expect((await verify(staging, (await secretOf('staging-dashboard')).apiKey)).valid).toBe(true);
  });

  it('revokes every key when the keys stack is destroyed, and keeps the tables', async () => {
    const ingest = await secretOf('telemetry-ingest');
    const dashboard = await secretOf('staging-dashboard');
    await cdktf('destroy', [KEYS_STACK]);
    expect(await eventually(() => verify(production, ingest.apiKey), (v) => !v.valid)).toMatchObject({ valid: false });
    expect(await eventually(() => verify(staging, dashboard.apiKey), (v) => !v.valid)).toMatchObject({ valid: false });
    const { SecretList } = await secrets.send(new ListSecretsCommand({}));
    // The example's secrets only: other test files declare keys of tenant acme on this emulator too.
    const declared = new Set(example.keys.map((key: { name: string }) => `keyroll/acme/${key.name}`));
    expect((SecretList ?? []).filter((s) => declared.has(s.Name ?? ''))).toEqual([]);
    const { Table } = await new DynamoDBClient({}).send(new DescribeTableCommand({ TableName: tables.keys }));
    expect(Table?.TableStatus).toBe('ACTIVE');
  });

  it('leaves no key in synthesized JSON, state files, deploy output or Lambda logs', async () => {
    const leaks: string[] = [];
    const scan = (where: string, text: string) => {
      for (const match of text.match(KEY_PATTERN_GLOBAL) ?? []) leaks.push(`${where}: ${match.slice(0, 12)}…`);
    };
    const files = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) return entry.name === '.terraform' && full.includes('providers') ? [] : files(full);
        return [full];
      });
    const scanned = [...files(outputDir), ...files(stateDir)].filter((file) => !file.includes(`${path.sep}providers${path.sep}`));
    expect(scanned.filter((file) => file.endsWith('.tfstate')).length).toBeGreaterThanOrEqual(2);
    for (const file of scanned) scan(file, fs.readFileSync(file, 'latin1'));
    outputs.forEach((output, i) => scan(`deploy output ${i}`, output));
    const logs = new CloudWatchLogsClient({});
    let events = 0;
    for (const group of ['/aws/lambda/keyroll-provisioner']) {
      const { events: found = [] } = await logs.send(new FilterLogEventsCommand({ logGroupName: group }));
      events += found.length;
      for (const event of found) scan(group, event.message ?? '');
    }
    expect(events).toBeGreaterThan(0);
    expect(leaks).toEqual([]);
  });
});
