/**
 * The real path: lambda/rotate/handler.ts bundled as a deploy bundles it, created on the emulator
 * as the keyroll-rotation function, and configured as the secret's rotation. RotateSecret makes
 * the emulator run the four steps by invoking it, as Secrets Manager does (and only testSecret
 * when the deploy configures it with RotateImmediately=false). Raced: two RotateSecret
 * calls, a deploy (the provisioner's apply of the same key) and two sweeps at once give exactly
 * one rotation; two sweeps past the horizon give exactly one retirement. No plaintext in the
 * function's logs, the rotation record or the status.
 */
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListSecretVersionIdsCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { readRotationEvents, waitForRotationEvent } from '../../lambda/local-aws';
import { hashCredential } from '../../lambda/keys/credential-hash';
import { KEY_PATTERN_GLOBAL } from '../../lambda/keys/key-format';
import type { KeyRotationStatus } from '../../lambda/rotate/status-report';
import type { SweepReport } from '../../lambda/rotate/sweep';
import { createNodeFunction, decodePayload, emulatorClientConfig } from '../local-aws/fixtures';
import { events } from '../provision/provision-fixture';
import { bundleLambda } from '../support/bundle-lambda';
import { createRotationHarness, GRACE_MINUTES, type RotationHarness } from './rotation-fixture';

/**
 * The function's horizon: short, so a sweep a few seconds after the cutover may retire, yet long
 * enough that the race's last round of sweeps and the checks of the draining state finish inside
 * it on a loaded CI machine (at 1 s, a busy run once saw the last round retire before the checks).
 */
const HORIZON_SECONDS = 5;
const lambda = new LambdaClient(emulatorClientConfig());
const logs = new CloudWatchLogsClient(emulatorClientConfig());
let h: RotationHarness;
let functionName: string;
let functionArn: string;

beforeAll(async () => {
  h = await createRotationHarness();
  const code = await bundleLambda(join(__dirname, '../../lambda/rotate/handler.ts'));
  functionName = await createNodeFunction(
    lambda,
    { 'index.js': code },
    {
      Timeout: 60,
      MemorySize: 256,
      Environment: {
        Variables: {
          KEYROLL_KEYS_TABLE: h.fx.keysTable,
          KEYROLL_CONSUMER_CACHE_SECONDS: String(HORIZON_SECONDS),
          KEYROLL_USAGE_LAG_SECONDS: '0',
          POWERTOOLS_LOG_LEVEL: 'DEBUG',
        },
      },
    },
  );
  functionArn = (await lambda.send(new GetFunctionCommand({ FunctionName: functionName }))).Configuration!.FunctionArn!;
});

afterAll(() => {
  h.destroy();
  lambda.destroy();
  logs.destroy();
});

async function invoke<T>(event: unknown): Promise<T> {
  const response = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)) }));
  const payload = decodePayload(response.Payload);
  if (response.FunctionError) throw new Error(`keyroll-rotation failed: ${JSON.stringify(payload)}`);
  return payload as T;
}

async function logMessages(): Promise<string> {
  const found: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await logs.send(new FilterLogEventsCommand({ logGroupName: `/aws/lambda/${functionName}`, nextToken }));
    found.push(...(page.events ?? []).map((event) => event.message ?? ''));
    nextToken = page.nextToken;
  } while (nextToken);
  return found.join('\n');
}

it('rotates through Secrets Manager, once however it is raced, and retires the old credential once', async () => {
  const key = await h.declareKey({ consumers: 2 });
  const old = key.firstCredential;
  const endpoint = process.env.AWS_ENDPOINT_URL!;
  const since = (await readRotationEvents(endpoint)).at(-1)?.seq ?? 0;
  // The deploy configures rotation with rotate_immediately = false: SM only runs testSecret, on
  // the current credential, and nothing moves.
  await h.fx.secrets.send(
    new RotateSecretCommand({ SecretId: key.secretArn, RotationLambdaARN: functionArn, RotationRules: { AutomaticallyAfterDays: 30 }, RotateImmediately: false }),
  );
  await waitUntil(async () => (await logMessages()).includes('"step":"testSecret"'), 'the test-only testSecret');
  expect((await readRotationEvents(endpoint, { secretId: key.secretArn, since })).map((e) => e.eventName)).toEqual([]);
  expect((await h.secretAt(key, 'AWSCURRENT'))?.apiKey === old).toBe(true);
  expect(await h.labels(key)).toEqual({ current: key.firstVersionId, pending: undefined });
  expect((await h.state(key)).phase).toBe('idle');

  const rotate = () =>
    h.fx.secrets.send(
      new RotateSecretCommand({ SecretId: key.secretArn, RotationLambdaARN: functionArn, RotationRules: { AutomaticallyAfterDays: 30 }, RotateImmediately: true }),
    );
  const deploy = () =>
    h.fx
      .provisioner({ clock: () => new Date() })
      .handle(events.update({ tenant: key.spec.tenant, name: key.spec.name, secretArn: key.secretArn, specDigest: `digest-${randomBytes(2).toString('hex')}` }, {
        tenant: key.spec.tenant,
        name: key.spec.name,
        secretArn: key.secretArn,
        specDigest: 'digest-1',
      }));
  const sweepNow = () => invoke<SweepReport>({ keyroll: 'sweep' });

  const [first, second, deployed, ...sweeps] = await Promise.allSettled([rotate(), rotate(), deploy(), sweepNow(), sweepNow()]);
  // Secrets Manager starts one rotation and refuses the other while it runs.
  const started = [first, second].filter((outcome) => outcome.status === 'fulfilled');
  const refused = [first, second].filter((outcome) => outcome.status === 'rejected');
  expect(started).toHaveLength(1);
  expect(refused).toEqual([expect.objectContaining({ reason: expect.objectContaining({ name: 'InvalidRequestException' }) })]);
  expect(deployed.status).toBe('fulfilled');
  expect(sweeps.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled']);
  const token = (started[0] as PromiseFulfilledResult<{ VersionId?: string }>).value.VersionId!;

  // While the emulator runs the four steps, deploys and sweeps keep taking the key's lease: a step
  // that finds it taken waits for it rather than fail the rotation.
  const succeeded = waitForRotationEvent(endpoint, { secretId: key.secretArn, versionId: token, eventName: 'RotationSucceeded', since, timeoutMs: 30_000 });
  let done = false;
  void succeeded.finally(() => {
    done = true;
  });
  let rounds = 0;
  while (!done) {
    const round = await Promise.allSettled([deploy(), sweepNow(), sweepNow()]);
    expect(round.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    rounds += 1;
  }
  await succeeded;
  expect(rounds).toBeGreaterThan(1);
  const rotationEvents = await readRotationEvents(endpoint, { secretId: key.secretArn, since });
  expect(rotationEvents.map((e) => e.eventName)).toEqual(['RotationStarted', 'RotationSucceeded']);

  // One rotation: AWSCURRENT, both rules and the key on the one new credential; the old in grace.
  const current = (await h.secretAt(key, 'AWSCURRENT'))!;
  expect(current.apiKey).not.toBe(old);
  expect(await h.labels(key)).toEqual({ current: token, pending: undefined });
  const { Versions = [] } = await h.fx.secrets.send(new ListSecretVersionIdsCommand({ SecretId: key.secretArn }));
  expect(Versions.map((v) => v.VersionId).sort()).toEqual([key.firstVersionId, token].sort());
  expect(await h.ruleHashes(key)).toEqual([hashCredential(current.apiKey), hashCredential(current.apiKey)]);
  const record = await h.keyRecord(key);
  expect({ current: record.credentialHash, pending: record.pendingCredential, grace: record.graceCredentials.map((g) => g.hash) }).toEqual({
    current: hashCredential(current.apiKey),
    pending: undefined,
    grace: [hashCredential(old)],
  });
  expect(Date.parse(record.graceCredentials[0].validUntil) - Date.parse((await h.state(key)).retiring[0].cutoverAt)).toBe(GRACE_MINUTES * 60_000);
  expect(await h.state(key)).toMatchObject({ phase: 'draining', versionId: token });
  expect(await h.verifies(old)).toBe(true);
  expect(await h.verifies(current.apiKey)).toBe(true);

  // Past the horizon, two sweeps at once: one retires, the other finds the key busy or done.
  const cutoverAt = Date.parse((await h.state(key)).retiring[0].cutoverAt);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, cutoverAt + HORIZON_SECONDS * 1000 + 50 - Date.now())));
  const reports = await Promise.all([sweepNow(), sweepNow()]);
  const retirements = reports.flatMap((report) => report.outcomes).filter((o) => o.name === key.spec.name && o.action === 'retired');
  expect(retirements).toHaveLength(1);
  expect(await h.verifies(old)).toBe(false);
  expect(await h.verifies(current.apiKey)).toBe(true);

  const status = (await invoke<KeyRotationStatus[]>({ keyroll: 'status', tenant: key.spec.tenant })).find((s) => s.name === key.spec.name);
  expect(status).toMatchObject({ phase: 'idle', rotationEnabled: true, keyId: key.keyId, nextDueAt: expect.any(String), lastRetirement: { reason: 'drained' } });

  const messages = await logMessages();
  expect(messages).toContain('rotation step done');
  expect(messages.match(KEY_PATTERN_GLOBAL) ?? []).toEqual([]);
  for (const credential of [old, current.apiKey]) expect(messages.includes(credential.slice(12))).toBe(false);
  await h.assertNoPlaintext(key, [JSON.stringify(status), JSON.stringify(reports)]);
});

async function waitUntil(probe: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
