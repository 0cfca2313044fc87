/**
 * `keyroll devices` as a user runs it: a child process publishing through the emulator's iot-data
 * Publish to the consumer topics a keys file declares, with the rules engine delivering to a real
 * key service. One rule goes to the service (whose destination it confirms itself), one to a port
 * where nothing listens (its destination never confirmed), so both ends of "by status" show.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateTopicRuleCommand, DeleteTopicRuleCommand, IoTClient } from '@aws-sdk/client-iot';
import { stringify } from 'yaml';
import { waitForEnabledDestinations } from '../../lambda/cli/devices/rule-destinations';
import { KEY_PATTERN_GLOBAL } from '../../lambda/keys/key-format';
import { consumerRuleSql, RULE_SQL_VERSION } from '../../lambda/provision/consumers/rule-sql';
import { closedPort, type Run, runProcess } from '../support/child-process';
import { type Harness, startHarness } from '../support/service-harness';

const BIN = path.join(__dirname, '..', '..', 'lambda', 'cli', 'bin.cjs');
const suffix = randomBytes(4).toString('hex');
const tenant = `devices-${suffix}`;
const rules = { live: `devices_live_${suffix}`, dead: `devices_dead_${suffix}` };
const topics = { live: `${tenant}/telemetry/+`, dead: `${tenant}/dead/+` };
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'keyroll-devices-'));
const keysFile = path.join(work, 'keys.yaml');
const iot = new IoTClient({});
let harness: Harness;
let reader: string;

function keyroll(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return runProcess(process.execPath, [BIN, ...args], { env: { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
}

/** An inline consumer's rule, as the provisioner writes one: the consumer SQL, the key in a header. */
async function createRule(ruleName: string, topic: string, url: string, key: string): Promise<void> {
  await iot.send(
    new CreateTopicRuleCommand({
      ruleName,
      topicRulePayload: {
        sql: consumerRuleSql(topic),
        awsIotSqlVersion: RULE_SQL_VERSION,
        actions: [{ http: { url, headers: [{ key: 'x-api-key', value: key }, { key: 'content-type', value: 'application/json' }] } }],
      },
    }),
  );
}

const consumer = (ruleName: string, topic: string) => ({ type: 'iot-rule', ruleName, topic, mode: 'inline' });

beforeAll(async () => {
  const port = await closedPort();
  const telemetryUrl = `https://127.0.0.1:${port}/v1/telemetry`;
  harness = await startHarness({ port, telemetryUrl });
  const writer = (await harness.issue(tenant, { permissions: ['telemetry:write'] })).key;
  reader = (await harness.issue(tenant, { permissions: ['telemetry:read'] })).key;
  // The service listens first, so it answers the confirmation request CreateTopicRule sends.
  await createRule(rules.live, topics.live, telemetryUrl, writer);
  await createRule(rules.dead, topics.dead, `https://127.0.0.1:${await closedPort()}/v1/telemetry`, writer);
  const [live] = await waitForEnabledDestinations(iot, [telemetryUrl], { timeoutMs: 10_000 });
  expect(live.status).toBe('ENABLED');
  const key = (name: string, consumers: object[]) => ({ name, environment: 'production', permissions: ['telemetry:write'], consumers });
  fs.writeFileSync(
    keysFile,
    stringify({
      tenant,
      keys: [key('live-sensors', [consumer(rules.live, topics.live)]), key('dead-sensors', [consumer(rules.dead, topics.dead)]), { name: 'no-consumers', environment: 'production', permissions: ['telemetry:read'], tenant: `${tenant}-other` }],
    }),
  );
});

afterAll(async () => {
  for (const ruleName of Object.values(rules)) await iot.send(new DeleteTopicRuleCommand({ ruleName })).catch(() => undefined);
  await harness?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('keyroll devices', () => {
  let run: Run;
  beforeAll(async () => {
    run = await keyroll(['devices', '--file', keysFile, '--tenant', tenant, '--duration', '2', '--rate', '8', '--devices', '2']);
  });

  it('publishes to each consumer topic for --duration, and prints deliveries per second by status', () => {
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(`Tenant ${tenant}: publishing 8 readings/s as 2 devices per topic to ${topics.live}, ${topics.dead} on local AWS at ${process.env.AWS_ENDPOINT_URL}`);
    const seconds = run.stderr.match(/^\d\d:\d\d:\d\d {2}published \d+ {2}deliveries 2xx: \d+ {2}4xx: \d+ {2}5xx: \d+ {2}no answer: \d+ {2}not sent: \d+$/gm) ?? [];
    expect(seconds.length).toBeGreaterThanOrEqual(1);
    expect(seconds.length).toBeLessThanOrEqual(3);
    expect(run.stdout).toMatch(/^Published (1[2-9]|2\d) readings to 2 topics in 2\.\d s\.$/m);
  });

  it('counts what each rule did: 2xx from the service, "not sent" where the destination was never confirmed, and says why once', () => {
    const ruleLine = (rule: string) => new RegExp(`^  ${rule}\\s+2xx: (\\d+)  4xx: (\\d+)  5xx: (\\d+)  no answer: (\\d+)  not sent: (\\d+)  \\((.+)\\)$`, 'm').exec(run.stdout);
    const live = ruleLine(rules.live)!;
    const dead = ruleLine(rules.dead)!;
    expect(live[1]).not.toBe('0');
    expect(live.slice(2, 6)).toEqual(['0', '0', '0', '0']);
    expect(live[6]).toBe(`${topics.live}, key ${tenant}/live-sensors`);
    expect(dead.slice(1, 5)).toEqual(['0', '0', '0', '0']);
    expect(dead[5]).not.toBe('0');
    const published = Number(/^Published (\d+)/m.exec(run.stdout)![1]);
    expect(Number(live[1]) + Number(dead[5])).toBe(published);
    expect(run.stdout).toContain(`Deliveries (${published}): 2xx: ${live[1]}  4xx: 0  5xx: 0  no answer: 0  not sent: ${dead[5]}`);
    // Up front from the destination's status, then once from the deliveries.
    expect(run.stderr).toMatch(/The topic rule destination for https:\/\/127\.0\.0\.1:(\d+)\/v1\/telemetry is IN_PROGRESS\b.*start \(or restart\) it \(`npx keyroll serve`\) on the port of that URL/);
    expect(run.stderr.match(new RegExp(`Rule ${rules.dead}: not sent`, 'g'))).toHaveLength(1);
    expect(run.stderr).toMatch(new RegExp(`Rule ${rules.dead}: not sent: Topic rule destination \\S+ for \\S+ is IN_PROGRESS; only ENABLED destinations receive messages\\. The key service confirms its own destination when it starts: start \\(or restart\\) it on that URL's port, \`npx keyroll serve --port \\d+\``));
    expect((run.stdout + run.stderr).match(KEY_PATTERN_GLOBAL)).toBeNull();
  });

  it('sends readings without a deviceId, which the rule fills from the topic', async () => {
    for (const deviceId of ['dev-1', 'dev-2']) {
      const { status, body } = await harness.call('GET', `/v1/telemetry?deviceId=${deviceId}&limit=50`, { key: reader });
      expect(status).toBe(200);
      expect(body.readings.length).toBeGreaterThan(0);
      for (const { reading } of body.readings) {
        expect(Object.keys(reading).sort()).toEqual(['deviceId', 'humidity', 'temp']);
        expect(reading.deviceId).toBe(deviceId);
      }
    }
  });
});

it('runs until Ctrl-C without --duration, then prints the summary', async () => {
  const child = spawn(process.execPath, [BIN, 'devices', '--file', keysFile, '--tenant', tenant], {
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  try {
    for (let i = 0; i < 100 && !/published \d+ {2}deliveries/.test(stderr); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stderr).toContain(`Tenant ${tenant}: publishing 2 readings/s as 3 devices per topic`);
    expect(stderr).toContain('until Ctrl-C.');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/^Published [1-9]\d* readings to 2 topics in \d+\.\d s\.$/m);
    expect(stdout).toMatch(/^Deliveries \([1-9]\d*\): 2xx: [1-9]/m);
  } finally {
    child.kill('SIGKILL');
  }
});

describe('keyroll devices refuses, with the fix', () => {
  it('a tenant with no consumers', async () => {
    const run = await keyroll(['devices', '--file', keysFile, '--tenant', `${tenant}-other`, '--duration', '1']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`keyroll: NO_CONSUMERS: Tenant ${tenant}-other declares no IoT consumers in ${keysFile}, so there is no topic to publish to.`);
    expect(run.stderr).toContain(`Tenants with consumers there: ${tenant}.`);
  });

  it('consumers whose rules are not deployed', async () => {
    const undeployed = path.join(work, 'undeployed.yaml');
    fs.writeFileSync(undeployed, stringify({ tenant, keys: [{ name: 'sensors', environment: 'production', permissions: ['telemetry:write'], consumers: [consumer(`never_${suffix}`, `${tenant}/never/+`)] }] }));
    const run = await keyroll(['devices', '--file', undeployed, '--duration', '1']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `keyroll: CONSUMERS_NOT_DEPLOYED: None of the rules declared for tenant ${tenant} is deployed and enabled (never_${suffix}). Deploy the keys file first: \`AWS_ENDPOINT_URL=${process.env.AWS_ENDPOINT_URL} npm run deploy:local\`.`,
    );
  });

  it('an emulator that does not answer', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const run = await keyroll(['devices', '--file', keysFile, '--tenant', tenant, '--duration', '1'], { ...process.env, AWS_ENDPOINT_URL: endpoint });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`keyroll: LOCAL_AWS_UNREACHABLE: No local AWS answers at ${endpoint}. Start one there with \`npx keyroll local-aws --port ${new URL(endpoint).port}\``);
  });

  it('no AWS to publish to: no endpoint, no running start, no region', async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
    // A `keyroll start` running in this checkout (start.test.ts may be) would be found as the emulator.
    const noStart = fs.mkdtempSync(path.join(os.tmpdir(), 'keyroll-no-start-'));
    const run = await keyroll(['devices', '--file', keysFile, '--tenant', tenant, '--duration', '1'], {
      ...env,
      KEYROLL_RUN_DIR: noStart,
      AWS_CONFIG_FILE: '/nonexistent/aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    fs.rmSync(noStart, { recursive: true, force: true });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('keyroll: NO_AWS_ENDPOINT: No AWS to publish to: AWS_ENDPOINT_URL is not set, no `keyroll start` is running here, and no AWS region is configured.');
    expect(run.stderr).toContain('For local AWS, run `npm start`');
  });

  it('bad flags', async () => {
    const run = await keyroll(['devices', '--rate', 'fast']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("option '--rate <n/s>' argument 'fast' is invalid. must be readings per second above 0");
  });
});
