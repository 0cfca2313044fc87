/** Secrets Manager rotation on the emulator behaves as on AWS: in the background, stopped by a failing step, retried, logged like CloudTrail. */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  type RotateSecretCommandInput,
  UpdateSecretVersionStageCommand,
  CreateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { readRotationEvents, startDueRotations, waitForRotationEvent } from '../../lambda/local-aws';
import { uniqueName } from './fixtures';
import { createRotationFunction, createSecret, type Emulator, eventually, startEmulator, stepsSeen } from './rotation-fixtures';

const DAY_MS = 86_400_000;
let emulator: Emulator;
/** A rotation function that follows AWS's template and does not fail. */
let healthy: { name: string; arn: string };

beforeAll(async () => {
  // Retries 1 s apart instead of AWS's minutes; no ticker, so only the test starts rotations.
  emulator = await startEmulator({ rotationRetries: 2, rotationRetrySeconds: 1, schedulerTickSeconds: 0 });
  healthy = await createRotationFunction(emulator);
});

afterAll(async () => {
  await emulator?.stop();
});

async function rotate(input: RotateSecretCommandInput) {
  return emulator.sm.send(new RotateSecretCommand(input));
}

async function stages(secretId: string): Promise<Record<string, string[]>> {
  return (await emulator.sm.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages ?? {};
}

async function succeeded(secretId: string, versionId: string) {
  return waitForRotationEvent(emulator.endpoint, { secretId, versionId, eventName: 'RotationSucceeded' });
}

describe('happy path', () => {
  it('answers RotateSecret at once and runs the four steps in the background, with the secret ARN, the token and a RotationToken', async () => {
    const fn = await createRotationFunction(emulator, { HOLD_AT: 'setSecret', HOLD_MS: '1500' });
    const secret = await createSecret(emulator);

    const answer = await rotate({ SecretId: secret.arn, RotationLambdaARN: fn.arn, RotationRules: { AutomaticallyAfterDays: 30 } });
    const token = answer.VersionId!;

    // Still rotating: the call did not wait for the steps (setSecret holds 1.5 s).
    expect((await stages(secret.arn))[token]).toEqual(['AWSPENDING']);
    expect((await readRotationEvents(emulator.endpoint, { secretId: secret.arn })).map((e) => e.eventName)).toEqual(['RotationStarted']);

    await succeeded(secret.arn, token);
    expect(await stages(secret.arn)).toEqual({ [secret.versionId]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] });
    expect((await stepsSeen(emulator, fn.name)).map((s) => [s.step, s.token, s.secretIdIsArn, s.hasRotationToken])).toEqual([
      ['createSecret', token, true, true],
      ['setSecret', token, true, true],
      ['testSecret', token, true, true],
      ['finishSecret', token, true, true],
    ]);
    // The function moved AWSCURRENT; GetSecretValue without a stage follows it.
    const current = await emulator.sm.send(new GetSecretValueCommand({ SecretId: secret.arn }));
    expect(current.VersionId).toBe(token);
    expect(current.SecretString).toBe(JSON.stringify({ credential: `rotated-${token}` }));
    const described = await emulator.sm.send(new DescribeSecretCommand({ SecretId: secret.arn }));
    expect(described.LastRotatedDate).toBeDefined();
  });

  it('rotates a second time: a finished rotation leaves nothing in progress', async () => {
    const secret = await createSecret(emulator);
    const tokens: string[] = [];
    for (let round = 0; round < 2; round++) {
      const { VersionId } = await rotate({ SecretId: secret.arn, RotationLambdaARN: healthy.arn });
      await succeeded(secret.arn, VersionId!);
      tokens.push(VersionId!);
    }

    // The first version lost its last label: deprecated, so DescribeSecret no longer lists it.
    expect(await stages(secret.arn)).toEqual({ [tokens[0]]: ['AWSPREVIOUS'], [tokens[1]]: ['AWSCURRENT'] });
  });

  it('keeps the stored function and rules when RotateSecret gets only SecretId', async () => {
    const secret = await createSecret(emulator);
    const rules = { ScheduleExpression: 'rate(10 days)', Duration: '3h' };
    const first = await rotate({ SecretId: secret.arn, RotationLambdaARN: healthy.arn, RotationRules: rules });
    await succeeded(secret.arn, first.VersionId!);

    const again = await rotate({ SecretId: secret.arn });
    await succeeded(secret.arn, again.VersionId!);

    const described = await emulator.sm.send(new DescribeSecretCommand({ SecretId: secret.arn }));
    expect(described.RotationLambdaARN).toBe(healthy.arn);
    expect(described.RotationEnabled).toBe(true);
    expect(described.RotationRules).toEqual(rules);
    expect((await stages(secret.arn))[again.VersionId!]).toEqual(['AWSCURRENT']);
  });

  it('stores ScheduleExpression and Duration as given, so Terraform sees no drift, and dates the next rotation from them', async () => {
    const cases = [
      { rules: { AutomaticallyAfterDays: 7 }, nextInMs: 7 * DAY_MS },
      { rules: { ScheduleExpression: 'rate(10 days)', Duration: '3h' }, nextInMs: 10 * DAY_MS },
      { rules: { ScheduleExpression: 'rate(6 hours)' }, nextInMs: 6 * 3_600_000 },
    ];
    for (const { rules, nextInMs } of cases) {
      const secret = await createSecret(emulator);
      const before = Date.now();
      // RotateImmediately=false, as keyroll deploys it: configure only.
      const { VersionId } = await rotate({ SecretId: secret.arn, RotationLambdaARN: healthy.arn, RotationRules: rules, RotateImmediately: false });

      const described = await emulator.sm.send(new DescribeSecretCommand({ SecretId: secret.arn }));
      expect(described.RotationRules).toEqual(rules);
      expect(described.RotationEnabled).toBe(true);
      const next = described.NextRotationDate!.getTime();
      expect(next).toBeGreaterThanOrEqual(Math.floor((before + nextInMs) / 1000) * 1000 - 1000);
      expect(next).toBeLessThanOrEqual(Date.now() + nextInMs + 1000);
      await eventually(async () => ((await stages(secret.arn))[VersionId!] ? undefined : true), 'the test-only version to go');
    }
  });

  it('dates the next rotation of a cron() schedule at its next time', async () => {
    const secret = await createSecret(emulator);
    await rotate({ SecretId: secret.arn, RotationLambdaARN: healthy.arn, RotationRules: { ScheduleExpression: 'cron(0 16 1 * ? *)' }, RotateImmediately: false });

    const next = (await emulator.sm.send(new DescribeSecretCommand({ SecretId: secret.arn }))).NextRotationDate!;
    expect([next.getUTCDate(), next.getUTCHours(), next.getUTCMinutes()]).toEqual([1, 16, 0]);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getTime()).toBeLessThanOrEqual(Date.now() + 32 * DAY_MS);
  });

  it('with RotateImmediately=false runs only testSecret, on a pending version with no value, then removes that version', async () => {
    const fn = await createRotationFunction(emulator);
    const secret = await createSecret(emulator);

    const { VersionId } = await rotate({ SecretId: secret.arn, RotationLambdaARN: fn.arn, RotationRules: { AutomaticallyAfterDays: 30 }, RotateImmediately: false });

    const seen = await eventually(async () => {
      const steps = await stepsSeen(emulator, fn.name);
      return steps.length > 0 ? steps : undefined;
    }, 'the testSecret step');
    expect(seen).toEqual([{ step: 'testSecret', token: VersionId, secretIdIsArn: true, hasRotationToken: true, pendingHasValue: false }]);
    await eventually(async () => ((await stages(secret.arn))[VersionId!] ? undefined : true), 'the test-only version to go');
    expect(await stages(secret.arn)).toEqual({ [secret.versionId]: ['AWSCURRENT'] });
    // Not a rotation: the next RotateSecret starts one.
    const next = await rotate({ SecretId: secret.arn });
    await succeeded(secret.arn, next.VersionId!);
  });

  it('moves the default version with AWSCURRENT, so GetSecretValue without a stage reads the new current', async () => {
    const secret = await createSecret(emulator, 'old');
    const put = await emulator.sm.send(new PutSecretValueCommand({ SecretId: secret.arn, SecretString: 'new', VersionStages: ['AWSPENDING'] }));

    await emulator.sm.send(
      new UpdateSecretVersionStageCommand({ SecretId: secret.arn, VersionStage: 'AWSCURRENT', MoveToVersionId: put.VersionId, RemoveFromVersionId: secret.versionId }),
    );

    const read = await emulator.sm.send(new GetSecretValueCommand({ SecretId: secret.arn }));
    expect([read.VersionId, read.SecretString]).toEqual([put.VersionId, 'new']);
  });

  it('starts due rotations on request, as if it were `asOf`, and leaves the rest alone', async () => {
    const due = await createSecret(emulator);
    const notDue = await createSecret(emulator);
    await rotate({ SecretId: due.arn, RotationLambdaARN: healthy.arn, RotationRules: { AutomaticallyAfterDays: 1 }, RotateImmediately: false });
    await rotate({ SecretId: notDue.arn, RotationLambdaARN: healthy.arn, RotationRules: { AutomaticallyAfterDays: 5 }, RotateImmediately: false });
    await eventually(async () => (Object.keys(await stages(due.arn)).length === 1 && Object.keys(await stages(notDue.arn)).length === 1 ? true : undefined), 'the test-only runs');

    expect((await startDueRotations(emulator.endpoint)).started.map((s) => s.secretArn)).not.toContain(due.arn);
    const answer = await startDueRotations(emulator.endpoint, { asOf: new Date(Date.now() + 2 * DAY_MS) });

    const started = answer.started.find((s) => s.secretArn === due.arn);
    expect(started).toMatchObject({ reattempt: false });
    expect(answer.started.map((s) => s.secretArn)).not.toContain(notDue.arn);
    const done = await succeeded(due.arn, started!.versionId);
    expect(done.trigger).toBe('schedule');
    const described = await emulator.sm.send(new DescribeSecretCommand({ SecretId: due.arn }));
    expect(described.NextRotationDate!.getTime()).toBeGreaterThan(Date.now() + DAY_MS - 60_000);
  });
});

describe('errors', () => {
  it('stops at the first failing step, never promotes, retries with the same token, then gives up and leaves AWSPENDING', async () => {
    const fn = await createRotationFunction(emulator, { FAIL_AT: 'setSecret' });
    const secret = await createSecret(emulator);

    const { VersionId: token } = await rotate({ SecretId: secret.arn, RotationLambdaARN: fn.arn });

    // 1 try + 2 retries, 1 s apart.
    const gaveUp = await eventually(async () => {
      const failed = (await readRotationEvents(emulator.endpoint, { secretId: secret.arn })).filter((e) => e.eventName === 'RotationFailed');
      return failed.length === 3 ? failed : undefined;
    }, 'three RotationFailed events');
    expect(gaveUp.map((e) => [e.versionId, e.step, e.attempt, e.willRetry, e.error])).toEqual([1, 2, 3].map((attempt) => [
      token,
      'setSecret',
      attempt,
      attempt < 3,
      { type: 'Error', message: 'told to fail at setSecret' },
    ]));
    const steps = (await stepsSeen(emulator, fn.name)).map((s) => `${s.step}:${s.token === token}`);
    expect(steps).toEqual(['createSecret:true', 'setSecret:true', 'createSecret:true', 'setSecret:true', 'createSecret:true', 'setSecret:true']);
    expect(await stages(secret.arn)).toEqual({ [secret.versionId]: ['AWSCURRENT'], [token!]: ['AWSPENDING'] });
    expect((await emulator.sm.send(new GetSecretValueCommand({ SecretId: secret.arn }))).VersionId).toBe(secret.versionId);
    // Given up: nothing more happens, and the pending version blocks the next rotation.
    await expect(rotate({ SecretId: secret.arn })).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: "A previous rotation isn't complete. That rotation will be reattempted.",
    });
  });

  it('counts a finishSecret that left AWSCURRENT where it was as a failed rotation', async () => {
    const fn = await createRotationFunction(emulator, { SKIP_PROMOTE: '1' });
    const secret = await createSecret(emulator);

    const { VersionId } = await rotate({ SecretId: secret.arn, RotationLambdaARN: fn.arn });

    const failed = await waitForRotationEvent(emulator.endpoint, { secretId: secret.arn, versionId: VersionId, eventName: 'RotationFailed' });
    expect(failed).toMatchObject({ step: 'finishSecret', error: { type: 'RotationIncomplete', message: expect.stringContaining(VersionId!) } });
    expect((await emulator.sm.send(new GetSecretValueCommand({ SecretId: secret.arn }))).VersionId).toBe(secret.versionId);
  });

  it('refuses a second RotateSecret while a rotation is in progress, and of two at once starts exactly one', async () => {
    const fn = await createRotationFunction(emulator, { HOLD_AT: 'createSecret', HOLD_MS: '1000' });
    const secrets = await Promise.all([1, 2, 3].map(() => createSecret(emulator)));

    const outcomes = await Promise.all(
      secrets.map((secret) => Promise.allSettled([1, 2].map(() => rotate({ SecretId: secret.arn, RotationLambdaARN: fn.arn })))),
    );

    // Still in progress (createSecret holds 1 s): a later call is refused too.
    const later = await Promise.allSettled(secrets.map((secret) => rotate({ SecretId: secret.arn })));
    for (const [index, pair] of outcomes.entries()) {
      expect(pair.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
      const refused = pair.find((o): o is PromiseRejectedResult => o.status === 'rejected')!;
      expect(refused.reason).toMatchObject({ name: 'InvalidRequestException', message: "A previous rotation isn't complete. That rotation will be reattempted." });
      expect(later[index]).toMatchObject({ status: 'rejected', reason: { name: 'InvalidRequestException' } });
      const started = pair.find((o) => o.status === 'fulfilled')!;
      await succeeded(secrets[index].arn, (started as PromiseFulfilledResult<{ VersionId?: string }>).value.VersionId!);
      const events = await readRotationEvents(emulator.endpoint, { secretId: secrets[index].arn });
      expect(events.filter((e) => e.eventName === 'RotationStarted')).toHaveLength(1);
    }
  });

  it('answers a secret with no value with a 400 that says to store one first', async () => {
    const created = await emulator.sm.send(new CreateSecretCommand({ Name: uniqueName('keyroll/empty') }));

    const refused = rotate({ SecretId: created.ARN, RotationLambdaARN: healthy.arn });

    await expect(refused).rejects.toMatchObject({ name: 'InvalidRequestException', $metadata: { httpStatusCode: 400 }, message: expect.stringContaining('PutSecretValue') });
  });

  it('refuses RotateSecret with no function stored or given, and rules AWS would refuse', async () => {
    const secret = await createSecret(emulator);

    await expect(rotate({ SecretId: secret.arn })).rejects.toMatchObject({ name: 'InvalidRequestException', message: expect.stringContaining('RotationLambdaARN') });
    await expect(rotate({ SecretId: secret.arn, RotationLambdaARN: healthy.arn, RotationRules: { ScheduleExpression: 'rate(5 minutes)' } })).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining('rate(4 hours)'),
    });
    await expect(rotate({ SecretId: secret.arn, RotationLambdaARN: healthy.arn, RotationRules: { ScheduleExpression: 'cron(0 * * * ? *)' } })).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining('every 4 hours'),
    });
    await expect(rotate({ SecretId: secret.arn, RotationLambdaARN: healthy.arn, RotationRules: { AutomaticallyAfterDays: 3, ScheduleExpression: 'rate(3 days)' } })).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    await expect(rotate({ SecretId: secret.arn, RotationLambdaARN: healthy.arn, RotationRules: { AutomaticallyAfterDays: 3, Duration: '3 hours' } })).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining('Duration'),
    });
    expect(await stages(secret.arn)).toEqual({ [secret.versionId]: ['AWSCURRENT'] });
  });

  it('abandons the rotation when a new AWSCURRENT value is put by hand meanwhile: AWSPENDING goes, RotationAbandoned is logged', async () => {
    const fn = await createRotationFunction(emulator, { HOLD_AT: 'setSecret', HOLD_MS: '1000' });
    const secret = await createSecret(emulator);
    const { VersionId: token } = await rotate({ SecretId: secret.arn, RotationLambdaARN: fn.arn });
    await eventually(async () => ((await stepsSeen(emulator, fn.name)).length === 1 ? true : undefined), 'createSecret to finish');

    const manual = await emulator.sm.send(new PutSecretValueCommand({ SecretId: secret.arn, SecretString: '{"credential":"by hand"}' }));

    const abandoned = await waitForRotationEvent(emulator.endpoint, { secretId: secret.arn, eventName: 'RotationAbandoned' });
    expect(abandoned).toMatchObject({ versionId: token, replacedByVersionId: manual.VersionId });
    expect(await stages(secret.arn)).toEqual({ [secret.versionId]: ['AWSPREVIOUS'], [manual.VersionId!]: ['AWSCURRENT'] });
    // The held setSecret then finds its version no longer AWSPENDING; no further step runs and nothing is promoted.
    await eventually(async () => ((await stepsSeen(emulator, fn.name)).length === 2 ? true : undefined), 'setSecret to end');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await stepsSeen(emulator, fn.name)).map((s) => [s.step, s.error])).toEqual([
      ['createSecret', undefined],
      ['setSecret', `version ${token} has no stage`],
    ]);
    expect((await emulator.sm.send(new GetSecretValueCommand({ SecretId: secret.arn }))).VersionId).toBe(manual.VersionId);
    const names = (await readRotationEvents(emulator.endpoint, { secretId: secret.arn })).map((e) => e.eventName);
    expect(names).toEqual(['RotationStarted', 'RotationAbandoned']);
    // Nothing in progress any more.
    const next = await rotate({ SecretId: secret.arn });
    await succeeded(secret.arn, next.VersionId!);
  });

  it('answers bad trigger bodies and queries with a 400 that names the field', async () => {
    const bad = await fetch(`${emulator.endpoint}/keyroll-local/secretsmanager/rotate-due`, { method: 'POST', body: JSON.stringify({ asOf: 'tomorrow' }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ code: 'INVALID_BODY', message: expect.stringContaining('asOf') });
    const query = await fetch(`${emulator.endpoint}/keyroll-local/secretsmanager/rotation-events?since=soon`);
    expect(query.status).toBe(400);
    expect((await fetch(`${emulator.endpoint}/keyroll-local/secretsmanager/rotate-due`)).headers.get('allow')).toBe('POST');
  });
});
