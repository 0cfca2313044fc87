/**
 * Rotation end to end, zero failures: a real cdktf deploy of the example app (rotation on its two
 * IoT keys) to an emulator of its own with a 3 s get_secret cache, continuous device traffic
 * through the reference and the inline rule plus a script that reads the secret through a 5 s
 * cache, then every key rotated (the emulator firing due rotations, and RotateSecret), the horizon
 * waited out and the sweep run by its schedule. Not one request may fail, the old credentials must
 * be refused once retired, and no credential may appear in state, logs or rotation records.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetTopicRuleCommand, IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeSecretCommand, GetSecretValueCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { parse, stringify } from 'yaml';
import { waitForEnabledDestinations } from '../../lambda/cli/devices/rule-destinations';
import { KEY_PATTERN_GLOBAL } from '../../lambda/keys/key-format';
import { type LocalAws, readIotDeliveries, readRotationEvents, runSchedule, startDueRotations, startLocalAws, waitForRotationEvent } from '../../lambda/local-aws';
import { type RunningServer, startServer } from '../../lambda/serve/node-server';
import { tableNamesFromEnv } from '../../lambda/tables/table-names';
import { PARTITIONS } from '../../lambda/tables/table-layout';
import { runCdktf } from '../../stacks/deploy/run-cdktf';
import { KEYS_STACK, PLATFORM_STACK } from '../../stacks/stack-names';
import { closedPort } from '../support/child-process';
import { call } from '../support/service-harness';

jest.setTimeout(600_000);

const CACHE_SECONDS = 3;
const ROTATING = ['telemetry-ingest', 'telemetry-legacy'];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'keyroll-rotation-e2e-'));
const keysFile = path.join(work, 'keys.yaml');
const outputDir = path.join(work, 'cdktf.out');
const stateDir = path.join(work, 'state');
const outputs: string[] = [];
const tables = tableNamesFromEnv({});
const savedEndpoint = process.env.AWS_ENDPOINT_URL;
let aws: LocalAws;
let endpoint: string;
let service: RunningServer;
let telemetryUrl: string;

const clients = () => {
  const config = { endpoint, region: process.env.AWS_REGION ?? 'us-east-1' };
  return {
    secrets: new SecretsManagerClient(config),
    iot: new IoTClient(config),
    data: new IoTDataPlaneClient(config),
    lambda: new LambdaClient(config),
    logs: new CloudWatchLogsClient(config),
    documents: DynamoDBDocumentClient.from(new DynamoDBClient(config)),
  };
};
let aws$: ReturnType<typeof clients>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function currentSecret(name: string) {
  const { SecretString, VersionId } = await aws$.secrets.send(new GetSecretValueCommand({ SecretId: `keyroll/acme/${name}`, VersionStage: 'AWSCURRENT' }));
  return { ...(JSON.parse(SecretString!) as { apiKey: string; keyId: string }), versionId: VersionId! };
}

async function valid(key: string): Promise<boolean> {
  return (await call(service.url, 'POST', '/v1/verify', { body: { key } })).body.valid === true;
}

async function rotationStatus(): Promise<Array<{ name: string; phase: string; failure?: unknown; lastRetirement?: { reason: string } }>> {
  const answer = await aws$.lambda.send(new InvokeCommand({ FunctionName: 'keyroll-rotation', Payload: Buffer.from(JSON.stringify({ keyroll: 'status', tenant: 'acme' })) }));
  const body = JSON.parse(Buffer.from(answer.Payload ?? []).toString('utf8') || 'null');
  if (answer.FunctionError) throw new Error(`status failed: ${JSON.stringify(body)}`);
  return body;
}

/**
 * Device traffic the whole time: one reading every 150 ms to each consumer topic, and a script
 * that holds the ingest key from the secret for 5 s at a time, as a client with a cache would,
 * and sends a reading straight to the service every 150 ms.
 */
function startTraffic() {
  const state = { running: true, published: 0, scriptCalls: 0, scriptFailures: [] as number[], errors: [] as string[] };
  const devices = (async () => {
    for (let i = 0; state.running; i++) {
      for (const topic of ['acme/telemetry/dev-1', 'acme/legacy/dev-2']) {
        await aws$.data.send(new PublishCommand({ topic, payload: Buffer.from(JSON.stringify({ temp: 20 + (i % 5), seq: i })) })).catch((e) => state.errors.push(String(e)));
        state.published++;
      }
      await sleep(150);
    }
  })();
  const script = (async () => {
    let cached: { key: string; at: number } | undefined;
    while (state.running) {
      if (!cached || Date.now() - cached.at > 5_000) cached = { key: (await currentSecret('telemetry-ingest')).apiKey, at: Date.now() };
      const answer = await call(service.url, 'POST', '/v1/telemetry', { key: cached.key, body: { deviceId: 'script-1', temp: 1 } });
      state.scriptCalls++;
      if (answer.status !== 202) state.scriptFailures.push(answer.status);
      await sleep(150);
    }
  })();
  return {
    state,
    async stop() {
      state.running = false;
      await Promise.all([devices, script]);
    },
  };
}

beforeAll(async () => {
  aws = await startLocalAws({ quiet: true, iotSecretCacheSeconds: CACHE_SECONDS, schedulerTickSeconds: 1 });
  endpoint = aws.endpoint;
  // The service and the deploy below use the SDK's own configuration: point it at this emulator.
  process.env.AWS_ENDPOINT_URL = endpoint;
  aws$ = clients();
  const port = await closedPort();
  telemetryUrl = `https://localhost:${port}/v1/telemetry`;
  fs.writeFileSync(keysFile, stringify(parse(fs.readFileSync(path.join(__dirname, '..', '..', 'stacks', 'keys.yaml'), 'utf8'))));
  const run = await runCdktf({
    command: 'deploy',
    stacks: [PLATFORM_STACK, KEYS_STACK],
    outputDir,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      KEYROLL_KEYS_FILE: keysFile,
      KEYROLL_STATE_DIR: stateDir,
      KEYROLL_TELEMETRY_URL: telemetryUrl,
      KEYROLL_IOT_SECRET_CACHE_SECONDS: String(CACHE_SECONDS),
      KEYROLL_USAGE_LAG_SECONDS: '6',
    },
    onOutput: () => undefined,
  });
  outputs.push(run.output);
  if (run.exitCode !== 0) throw new Error(`cdktf deploy failed:\n${run.output.slice(-6000)}`);
  service = await startServer(port, { config: { environment: 'production', extraKeyHeaders: [], tables, telemetryUrl } });
  await service.service.deps.destinations.requestFreshConfirmations();
  const states = await waitForEnabledDestinations(aws$.iot, [telemetryUrl], { timeoutMs: 15_000 });
  expect(states.every((state) => state.status === 'ENABLED')).toBe(true);
});

afterAll(async () => {
  await service?.stop();
  await aws?.stop();
  process.env.AWS_ENDPOINT_URL = savedEndpoint;
});

describe('rotation of the example app while telemetry flows', () => {
  it('deploys rotation on the declared keys without rotating them', async () => {
    for (const name of ROTATING) {
      const described = await aws$.secrets.send(new DescribeSecretCommand({ SecretId: `keyroll/acme/${name}` }));
      expect(described).toMatchObject({ RotationEnabled: true, RotationRules: expect.objectContaining({ AutomaticallyAfterDays: 30 }) });
      expect(Object.values(described.VersionIdsToStages ?? {}).filter((stages) => stages.includes('AWSCURRENT'))).toHaveLength(1);
    }
    // The deploy's configuration test ran testSecret on the current credential, and it passed.
    // The emulator, like AWS, removes that run's empty AWSPENDING version when it is done.
    for (const name of ROTATING) {
      let described = await aws$.secrets.send(new DescribeSecretCommand({ SecretId: `keyroll/acme/${name}` }));
      const pending = () => Object.values(described.VersionIdsToStages ?? {}).some((stages) => stages.includes('AWSPENDING'));
      for (let i = 0; i < 100 && pending(); i++) {
        await sleep(200);
        described = await aws$.secrets.send(new DescribeSecretCommand({ SecretId: `keyroll/acme/${name}` }));
      }
      expect(pending()).toBe(false);
      expect((await readRotationEvents(endpoint, { secretId: described.ARN })).filter((event) => event.eventName === 'RotationFailed')).toEqual([]);
    }
    // The rotation Lambda's own log says testSecret ran for both keys, and nothing failed.
    const { events = [] } = await aws$.logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/keyroll-rotation' }));
    const steps = events.flatMap((event) => (event.message?.includes('"rotation step') ? [JSON.parse(event.message.slice(event.message.indexOf('{')))] : []));
    expect(steps.filter((line) => line.message === 'rotation step failed')).toEqual([]);
    expect(steps.filter((line) => line.step === 'testSecret').map((line) => line.keyName).sort()).toEqual(ROTATING);
    expect((await rotationStatus()).map((s) => [s.name, s.phase])).toEqual([
      ['staging-dashboard', 'idle'],
      ['telemetry-ingest', 'idle'],
      ['telemetry-legacy', 'idle'],
    ]);
  });

  it('rotates every key with zero failed deliveries or requests, then retires the old credentials', async () => {
    const before = Object.fromEntries(await Promise.all(ROTATING.map(async (name) => [name, await currentSecret(name)] as const)));
    const since = (await readIotDeliveries(endpoint, { limit: 1 })).at(-1)?.seq ?? 0;
    // Checked after the traffic's own checks, so a failed request is what a broken rotation reports first.
    let drainingPhases: string[] = [];
    const oldValidWhileDraining: boolean[] = [];
    let finalStatuses: Awaited<ReturnType<typeof rotationStatus>> = [];
    const traffic = startTraffic();
    try {
      await sleep(2_000);
      // 1. The schedule: the emulator starts every rotation due by a month from now, as SM would then.
      const due = await startDueRotations(endpoint, { asOf: new Date(Date.now() + 31 * 86_400_000) });
      expect(due.started.map((s) => s.secretName).sort()).toEqual(ROTATING.map((name) => `keyroll/acme/${name}`));
      for (const started of due.started) {
        await waitForRotationEvent(endpoint, { secretId: started.secretArn, eventName: 'RotationSucceeded', versionId: started.versionId, timeoutMs: 60_000 });
      }
      await sleep(2_000);
      // 2. By hand, while the first rotation of this key still drains.
      const manual = await aws$.secrets.send(new RotateSecretCommand({ SecretId: 'keyroll/acme/telemetry-ingest' }));
      await waitForRotationEvent(endpoint, { secretId: manual.ARN, eventName: 'RotationSucceeded', versionId: manual.VersionId, timeoutMs: 60_000 });
      drainingPhases = (await rotationStatus()).filter((s) => ROTATING.includes(s.name)).map((s) => s.phase);
      // The old credentials still work during the drain.
      for (const name of ROTATING) oldValidWhileDraining.push(await valid(before[name].apiKey));

      // 3. Past the horizon (and the usage lag), the sweep's schedule fires and retires them.
      await sleep((CACHE_SECONDS + 6 + 5) * 1000);
      let statuses = await rotationStatus();
      for (let i = 0; i < 20 && statuses.some((s) => s.phase !== 'idle'); i++) {
        await runSchedule(endpoint, 'keyroll-rotation-sweep');
        await sleep(1_500);
        statuses = await rotationStatus();
      }
      finalStatuses = statuses;
      await sleep(1_000);
    } finally {
      await traffic.stop();
    }

    // Zero failures: every delivery through both rules, and every call of the script, succeeded.
    const deliveries = await readIotDeliveries(endpoint, { since, limit: 1000 });
    expect(traffic.state.errors).toEqual([]);
    expect(deliveries.length).toBeGreaterThan(50);
    expect(new Set(deliveries.map((d) => d.ruleName))).toEqual(new Set(['acme_telemetry_ingest', 'acme_telemetry_legacy']));
    expect(deliveries.filter((d) => d.result !== 'delivered' || (d.status ?? 0) >= 300)).toEqual([]);
    expect(traffic.state.scriptCalls).toBeGreaterThan(50);
    expect(traffic.state.scriptFailures).toEqual([]);

    expect(drainingPhases).toEqual(['draining', 'draining']);
    expect(oldValidWhileDraining).toEqual([true, true]);
    expect(finalStatuses.filter((s) => ROTATING.includes(s.name)).map((s) => [s.name, s.phase, s.failure, s.lastRetirement?.reason])).toEqual([
      ['telemetry-ingest', 'idle', undefined, 'drained'],
      ['telemetry-legacy', 'idle', undefined, 'drained'],
    ]);

    for (const name of ROTATING) {
      const now = await currentSecret(name);
      expect(now.keyId).toBe(before[name].keyId);
      expect(now.apiKey).not.toBe(before[name].apiKey);
      expect(await valid(now.apiKey)).toBe(true);
      // Retired: the service refuses the old credential (its cache drops it within about a second).
      expect(await valid(before[name].apiKey)).toBe(false);
    }
    // The inline rule holds the new credential (compared here, never printed).
    const { rule } = await aws$.iot.send(new GetTopicRuleCommand({ ruleName: 'acme_telemetry_legacy' }));
    const header = rule?.actions?.[0].http?.headers?.find((h) => h.key === 'x-api-key')?.value;
    expect(header === (await currentSecret('telemetry-legacy')).apiKey).toBe(true);
  });

  it('leaves no credential in state, deploy output, Lambda logs or rotation records', async () => {
    const leaks: string[] = [];
    const scan = (where: string, text: string) => {
      for (const match of text.match(KEY_PATTERN_GLOBAL) ?? []) leaks.push(`${where}: ${match.slice(0, 12)}…`);
    };
    const files = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? (entry.name === 'providers' ? [] : files(path.join(dir, entry.name))) : [path.join(dir, entry.name)]));
    for (const file of files(stateDir)) scan(file, fs.readFileSync(file, 'latin1'));
    outputs.forEach((output, i) => scan(`deploy output ${i}`, output));
    let events = 0;
    for (const group of ['/aws/lambda/keyroll-rotation', '/aws/lambda/keyroll-provisioner']) {
      const { events: found = [] } = await aws$.logs.send(new FilterLogEventsCommand({ logGroupName: group }));
      events += found.length;
      for (const event of found) scan(group, event.message ?? '');
    }
    expect(events).toBeGreaterThan(0);
    for (const pk of [`${PARTITIONS.rotation}acme`, `${PARTITIONS.rotation}_active`]) {
      const { Items = [] } = await aws$.documents.send(new QueryCommand({ TableName: tables.keys, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk } }));
      scan(pk, JSON.stringify(Items));
    }
    expect(leaks).toEqual([]);
  });
});
