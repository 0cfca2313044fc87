/**
 * `npm run bench:rotation`: rotate 1,000 declared keys on the emulator, each with its secret and an
 * inline IoT rule, and report rotations/s and where the time goes, per step. Two ways, side by side
 * in one run:
 * 1. in-process: keyroll-rotation's handler called for the four steps as Secrets Manager would call
 *    it, BENCH_CONCURRENCY keys at a time (default 8); per step, its time and its AWS calls;
 * 2. the real path for a sample (BENCH_REAL_KEYS, default 50): RotateSecret, the emulator invoking
 *    the bundled Lambda in a Node process for each step, as on AWS.
 * BENCH_KEYS (default 1000) sets the number of keys. The last line is a JSON summary.
 */
import { randomUUID } from 'node:crypto';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { IoTClient } from '@aws-sdk/client-iot';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateSecretCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { consumerRuleSql, RULE_SQL_VERSION } from '../../lambda/provision/consumers/rule-sql';
import type { KeySpec } from '../../lambda/provision/key-spec';
import { createProvisioner } from '../../lambda/provision/provisioner';
import { createRotationFunction } from '../../lambda/rotate/rotation-function';
import { ROTATION_STEPS, type RotationStep } from '../../lambda/rotate/rotation-plan';
import { useLocalAwsDefaults } from '../../lambda/deploy-env/local-endpoint';
import { readRotationEvents, startLocalAws } from '../../lambda/local-aws';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { ensureLocalTables } from '../../lambda/store/local-tables';
import { specItemKey } from '../../lambda/tables/table-layout';
import { zip } from '../local-aws/fixtures';
import { bundleLambda } from '../support/bundle-lambda';

const KEYS = Number(process.env.BENCH_KEYS ?? 1000);
const REAL_KEYS = Math.min(KEYS, Number(process.env.BENCH_REAL_KEYS ?? 50));
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const TENANT = 'bench';
const log = (line: string) => process.stderr.write(`${line}\n`);
const quiet = new Logger({ serviceName: 'bench', logLevel: 'SILENT' });

/** Counts AWS calls per service while a label is set, by middleware on each client. */
class CallCounter {
  label: string | undefined;
  readonly counts = new Map<string, number>();
  attach(client: { middlewareStack: { add: (mw: any, options: any) => void } }, service: string): void {
    client.middlewareStack.add(
      (next: any) => async (args: any) => {
        if (this.label) {
          const key = `${this.label} ${service}`;
          this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
        }
        return next(args);
      },
      { step: 'initialize', name: `count-${service}` },
    );
  }
}

async function pool<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) await work(items[i], i);
    }),
  );
}

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { meanMs: +(values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)).toFixed(1), p50Ms: +at(0.5).toFixed(1), p99Ms: +at(0.99).toFixed(1) };
};

async function main() {
  const aws = await startLocalAws({ quiet: true, schedulerTickSeconds: 0 });
  try {
    useLocalAwsDefaults(aws.endpoint);
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    const keysTable = `bench-keys-${process.pid}`;
    await ensureLocalTables({ keys: keysTable, rateLimits: `bench-rl-${process.pid}`, telemetry: `bench-tl-${process.pid}` }, new DynamoDBClient({}));
    const counter = new CallCounter();
    const dynamo = new DynamoDBClient({});
    const secrets = new SecretsManagerClient({});
    const iot = new IoTClient({});
    counter.attach(dynamo, 'dynamodb');
    counter.attach(secrets, 'secretsmanager');
    counter.attach(iot, 'iot');
    const documentClient = createDocumentClient({ client: dynamo });

    // Set-up: every key declared and provisioned, as a deploy leaves it.
    log(`provisioning ${KEYS} keys, each with a secret and an inline IoT rule…`);
    const provisioner = createProvisioner({ documentClient, secrets, iot, keysTable, logger: quiet });
    const names = Array.from({ length: KEYS }, (_, i) => `key-${String(i).padStart(5, '0')}`);
    const arns: string[] = [];
    const setupStarted = Date.now();
    await pool(names, CONCURRENCY, async (name, i) => {
      const spec: KeySpec = {
        tenant: TENANT,
        name,
        environment: 'production',
        permissions: ['telemetry:write'],
        rateLimit: { limit: 6000, windowSeconds: 60 },
        tags: [],
        rotation: { everyDays: 30, graceMinutes: 60 },
        consumers: [
          {
            type: 'iot-rule-inline',
            ruleName: `bench_${i}`,
            sql: consumerRuleSql(`bench/${i}/+`),
            sqlVersion: RULE_SQL_VERSION,
            url: 'https://telemetry.keyroll.test/v1/telemetry',
            headerName: 'x-api-key',
          },
        ],
        referenceRules: [],
      };
      await documentClient.send(new PutCommand({ TableName: keysTable, Item: { ...specItemKey(TENANT, name), kind: 'spec', ...spec } }));
      const { ARN } = await secrets.send(new CreateSecretCommand({ Name: `keyroll/${TENANT}/${name}`, Tags: [{ Key: 'keyroll:key', Value: `${TENANT}/${name}` }] }));
      arns[i] = ARN!;
      await provisioner.handle({ tenant: TENANT, name, secretArn: ARN, specDigest: 'bench', tf: { action: 'create', prev_input: null } });
      if ((i + 1) % 200 === 0) log(`  ${i + 1}/${KEYS} provisioned`);
    });
    log(`  provisioned in ${((Date.now() - setupStarted) / 1000).toFixed(1)} s`);

    // 1. In-process: the handler, called as Secrets Manager calls it.
    const rotation = createRotationFunction({ documentClient, secrets, consumerClients: { iot }, keysTable, logger: quiet });
    const stepTimes = new Map<RotationStep, number[]>(ROTATION_STEPS.map((step) => [step, []]));
    log(`rotating ${KEYS} keys in-process, ${CONCURRENCY} at a time…`);
    const started = Date.now();
    let done = 0;
    await pool(arns, CONCURRENCY, async (arn) => {
      const token = randomUUID();
      for (const step of ROTATION_STEPS) {
        const at = performance.now();
        counter.label = step;
        await rotation.handle({ Step: step, SecretId: arn, ClientRequestToken: token });
        stepTimes.get(step)!.push(performance.now() - at);
      }
      if (++done % 200 === 0) log(`  ${done}/${KEYS} rotated`);
    });
    counter.label = undefined;
    const inProcessSeconds = (Date.now() - started) / 1000;
    const inProcessRate = KEYS / inProcessSeconds;

    const perStep = Object.fromEntries(
      ROTATION_STEPS.map((step) => {
        const calls = Object.fromEntries(['dynamodb', 'secretsmanager', 'iot'].map((service) => [service, +((counter.counts.get(`${step} ${service}`) ?? 0) / KEYS).toFixed(1)]));
        return [step, { ...stats(stepTimes.get(step)!), callsPerKey: calls }];
      }),
    );

    // 2. The real path, for a sample: RotateSecret, the emulator running the bundled Lambda.
    log(`rotating ${REAL_KEYS} keys through RotateSecret and the emulator's Lambda…`);
    const roleArn = (await new IAMClient({}).send(new CreateRoleCommand({ RoleName: `bench-rotation-${process.pid}`, AssumeRolePolicyDocument: '{}' }))).Role!.Arn!;
    const bundle = await bundleLambda('lambda/rotate/handler.ts');
    const functionArn = (
      await new LambdaClient({}).send(
        new CreateFunctionCommand({
          FunctionName: `bench-rotation-${process.pid}`,
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Role: roleArn,
          Code: { ZipFile: zip({ 'index.js': bundle }) },
          Timeout: 60,
          Environment: { Variables: { KEYROLL_KEYS_TABLE: keysTable, POWERTOOLS_LOG_LEVEL: 'ERROR' } },
        }),
      )
    ).FunctionArn!;
    const sample = arns.slice(0, REAL_KEYS);
    const realStarted = Date.now();
    const versions = new Map<string, string>();
    for (const arn of sample) {
      const answer = await secrets.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: functionArn, RotationRules: { AutomaticallyAfterDays: 30 } }));
      versions.set(arn, answer.VersionId!);
    }
    const outcome = { succeeded: 0, failed: 0 };
    for (;;) {
      const events = await readRotationEvents(aws.endpoint, { limit: 10_000 });
      const finished = events.filter((event) => versions.get(event.secretArn) === event.versionId && (event.eventName === 'RotationSucceeded' || (event.eventName === 'RotationFailed' && !event.willRetry)));
      outcome.succeeded = finished.filter((event) => event.eventName === 'RotationSucceeded').length;
      outcome.failed = finished.length - outcome.succeeded;
      if (finished.length >= sample.length || Date.now() - realStarted > 600_000) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const realSeconds = (Date.now() - realStarted) / 1000;
    const realRate = outcome.succeeded / realSeconds;

    log('');
    log(`in-process: ${KEYS} rotations in ${inProcessSeconds.toFixed(1)} s = ${inProcessRate.toFixed(1)} rotations/s (${CONCURRENCY} at a time)`);
    for (const step of ROTATION_STEPS) {
      const s = perStep[step];
      log(`  ${step.padEnd(13)} mean ${String(s.meanMs).padStart(6)} ms  p50 ${String(s.p50Ms).padStart(6)}  p99 ${String(s.p99Ms).padStart(6)}  calls/key ${JSON.stringify(s.callsPerKey)}`);
    }
    log(`real path: ${outcome.succeeded}/${sample.length} rotations in ${realSeconds.toFixed(1)} s = ${realRate.toFixed(2)} rotations/s (${outcome.failed} failed)`);
    log(`ratio in-process / real path: ${(inProcessRate / Math.max(realRate, 1e-9)).toFixed(1)}×`);
    process.stdout.write(
      `${JSON.stringify({
        keys: KEYS,
        concurrency: CONCURRENCY,
        inProcessRotationsPerSec: +inProcessRate.toFixed(2),
        perStep,
        realPathKeys: sample.length,
        realPathSucceeded: outcome.succeeded,
        realPathFailed: outcome.failed,
        realPathRotationsPerSec: +realRate.toFixed(3),
      })}\n`,
    );
    if (outcome.failed > 0) process.exitCode = 1;
  } finally {
    await aws.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`bench:rotation failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
