/** The secret's staging-label operations (rotation's createSecret and finishSecret, and their repair) against Secrets Manager on the emulator. */
import { randomUUID } from 'node:crypto';
import { CreateSecretCommand, SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { HandoutError } from '../../lambda/handout/errors';
import {
  AWSCURRENT,
  AWSPENDING,
  describeVersions,
  moveCurrentTo,
  putPendingVersion,
  readKeySecret,
  readSecretVersion,
  removePendingLabel,
} from '../../lambda/handout/key-secret';
import { generateKey, KEY_PATTERN } from '../../lambda/keys/key-format';
import type { KeySecretValue } from '../../lambda/provision/key-spec';
import { uniqueName } from '../local-aws/fixtures';

const secrets = new SecretsManagerClient({});
afterAll(() => secrets.destroy());

const valueOf = (apiKey = generateKey('production')): KeySecretValue => ({ apiKey, keyId: 'key_1', tenant: 'acme', name: 'sensors', environment: 'production' });

/** A secret holding `current` as AWSCURRENT; returns its ARN and that version's id. */
async function secretHolding(current: KeySecretValue): Promise<{ arn: string; currentVersion: string }> {
  const created = await secrets.send(new CreateSecretCommand({ Name: uniqueName('keyroll/handout'), SecretString: JSON.stringify(current) }));
  return { arn: created.ARN!, currentVersion: created.VersionId! };
}

/** A client that counts the requests it sends, by command name. */
function countingClient(): { client: SecretsManagerClient; sent: string[] } {
  const sent: string[] = [];
  const client = new SecretsManagerClient({});
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return { client, sent };
}

async function rejection(promise: Promise<unknown>): Promise<HandoutError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HandoutError);
    expect((error as Error).message).not.toMatch(KEY_PATTERN);
    return error as HandoutError;
  }
  throw new Error('expected a HandoutError');
}

describe('putPendingVersion', () => {
  it('stores the value as version `token` with AWSPENDING only, leaving AWSCURRENT where it was', async () => {
    const old = valueOf();
    const { arn, currentVersion } = await secretHolding(old);
    const token = randomUUID();
    const next = valueOf();

    expect(await putPendingVersion(secrets, arn, token, next)).toBe('written');

    expect(await describeVersions(secrets, arn)).toEqual({
      current: currentVersion,
      pending: token,
      stagesByVersion: { [currentVersion]: [AWSCURRENT], [token]: [AWSPENDING] },
    });
    expect(await readKeySecret(secrets, arn)).toMatchObject({ status: 'present', value: old, versionId: currentVersion });
    expect(await readSecretVersion(secrets, arn, { stage: AWSPENDING })).toMatchObject({ status: 'present', value: next, versionId: token });
  });

  it('writes nothing when version `token` already holds the value, also after it became current', async () => {
    const { arn } = await secretHolding(valueOf());
    const token = randomUUID();
    const next = valueOf();
    await putPendingVersion(secrets, arn, token, next);
    const { client, sent } = countingClient();

    expect(await putPendingVersion(client, arn, token, next)).toBe('unchanged');
    await moveCurrentTo(secrets, arn, token);
    expect(await putPendingVersion(client, arn, token, next)).toBe('unchanged');

    expect(sent).not.toContain('PutSecretValueCommand');
    expect((await describeVersions(secrets, arn)).stagesByVersion[token]).toEqual([AWSCURRENT]);
    client.destroy();
  });

  it('refuses another value under a token already used (SECRET_VERSION_CONFLICT), and keeps the version as it was', async () => {
    const { arn } = await secretHolding(valueOf());
    const token = randomUUID();
    const first = valueOf();
    await putPendingVersion(secrets, arn, token, first);

    const error = await rejection(putPendingVersion(secrets, arn, token, valueOf()));

    expect(error.code).toBe('SECRET_VERSION_CONFLICT');
    expect(error.message).toContain(token);
    expect(error.message).toContain('rotate-secret');
    expect(await readSecretVersion(secrets, arn, { versionId: token })).toMatchObject({ status: 'present', value: first });
  });

  it('settles a write that lost a race for the token by reading the version back', async () => {
    const { arn } = await secretHolding(valueOf());
    const token = randomUUID();
    const theirs = valueOf();
    // Another writer puts the same token between our read and our write; AWS then answers
    // ResourceExistsException (the emulator would overwrite a pending version instead).
    const client = new SecretsManagerClient({});
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'PutSecretValueCommand') return next(args);
        await putPendingVersion(secrets, arn, token, theirs);
        throw Object.assign(new Error('You can\'t use ClientRequestToken because that value is already in use.'), { name: 'ResourceExistsException' });
      },
      { step: 'initialize', name: 'raceForToken' },
    );

    expect(await putPendingVersion(client, arn, token, theirs)).toBe('unchanged');
    expect((await rejection(putPendingVersion(client, arn, randomUUID(), valueOf()))).code).toBe('SECRET_VERSION_CONFLICT');
    client.destroy();
  });

  it('gives the first version of an empty secret AWSCURRENT too, as Secrets Manager does', async () => {
    const arn = (await secrets.send(new CreateSecretCommand({ Name: uniqueName('keyroll/handout') }))).ARN!;
    const token = randomUUID();

    await putPendingVersion(secrets, arn, token, valueOf());

    expect(await describeVersions(secrets, arn)).toMatchObject({ current: token, pending: token });
  });
});

describe('readSecretVersion', () => {
  it('reads a version by id, by label, or by id only when it carries the label', async () => {
    const old = valueOf();
    const { arn, currentVersion } = await secretHolding(old);
    const token = randomUUID();
    await putPendingVersion(secrets, arn, token, valueOf());

    expect(await readSecretVersion(secrets, arn, { versionId: currentVersion })).toMatchObject({ status: 'present', value: old, stages: [AWSCURRENT] });
    expect(await readSecretVersion(secrets, arn)).toMatchObject({ status: 'present', versionId: currentVersion });
    expect(await readSecretVersion(secrets, arn, { versionId: token, stage: AWSPENDING })).toMatchObject({ status: 'present', versionId: token });
    expect(await readSecretVersion(secrets, arn, { versionId: token, stage: AWSCURRENT })).toEqual({ status: 'absent', reason: 'not-found' });
    expect(await readSecretVersion(secrets, arn, { versionId: randomUUID() })).toEqual({ status: 'absent', reason: 'not-found' });
  });

  it('reads no pending version when no rotation is under way, and nothing from a secret with no value', async () => {
    const { arn } = await secretHolding(valueOf());
    const empty = (await secrets.send(new CreateSecretCommand({ Name: uniqueName('keyroll/handout') }))).ARN!;

    expect(await readSecretVersion(secrets, arn, { stage: AWSPENDING })).toEqual({ status: 'absent', reason: 'not-found' });
    expect(await readSecretVersion(secrets, empty)).toEqual({ status: 'absent', reason: 'not-found' });
    expect(await describeVersions(secrets, empty)).toEqual({ current: undefined, pending: undefined, stagesByVersion: {} });
  });
});

describe('moveCurrentTo', () => {
  it('moves AWSCURRENT to the token, clears its AWSPENDING, and leaves the old version AWSPREVIOUS', async () => {
    const { arn, currentVersion } = await secretHolding(valueOf());
    const token = randomUUID();
    const next = valueOf();
    await putPendingVersion(secrets, arn, token, next);

    await moveCurrentTo(secrets, arn, token);

    expect(await describeVersions(secrets, arn)).toEqual({
      current: token,
      pending: undefined,
      stagesByVersion: { [currentVersion]: ['AWSPREVIOUS'], [token]: [AWSCURRENT] },
    });
    expect(await readKeySecret(secrets, arn)).toMatchObject({ status: 'present', value: next, versionId: token });
  });

  it('is repeatable: a second call changes nothing and moves no label', async () => {
    const { arn } = await secretHolding(valueOf());
    const token = randomUUID();
    await putPendingVersion(secrets, arn, token, valueOf());
    await moveCurrentTo(secrets, arn, token);
    const before = await describeVersions(secrets, arn);
    const { client, sent } = countingClient();

    await moveCurrentTo(client, arn, token);

    expect(sent).toEqual(['DescribeSecretCommand']);
    expect(await describeVersions(secrets, arn)).toEqual(before);
    client.destroy();
  });

  it('finishes what an earlier attempt started: AWSCURRENT already moved, AWSPENDING still on the token', async () => {
    const { arn, currentVersion } = await secretHolding(valueOf());
    const token = randomUUID();
    await putPendingVersion(secrets, arn, token, valueOf());
    await secrets.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: AWSCURRENT, MoveToVersionId: token, RemoveFromVersionId: currentVersion }));
    const { client, sent } = countingClient();

    await moveCurrentTo(client, arn, token);

    expect(sent.filter((name) => name === 'UpdateSecretVersionStageCommand')).toHaveLength(1);
    expect(await describeVersions(secrets, arn)).toMatchObject({ current: token, pending: undefined });
    client.destroy();
  });

  it('counts a move another caller made in between as done', async () => {
    const { arn, currentVersion } = await secretHolding(valueOf());
    const token = randomUUID();
    await putPendingVersion(secrets, arn, token, valueOf());
    // A concurrent finishSecret completes the whole move after our DescribeSecret, before our UpdateSecretVersionStage.
    const client = new SecretsManagerClient({});
    let raced = false;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateSecretVersionStageCommand' && !raced) {
          raced = true;
          await moveCurrentTo(secrets, arn, token);
        }
        return next(args);
      },
      { step: 'initialize', name: 'concurrentFinish' },
    );

    await moveCurrentTo(client, arn, token);

    expect(await describeVersions(secrets, arn)).toMatchObject({ current: token, pending: undefined, stagesByVersion: { [currentVersion]: ['AWSPREVIOUS'] } });
    client.destroy();
  });

  it('names the secret, the version and the fix when the version does not exist', async () => {
    const { arn } = await secretHolding(valueOf());
    const missing = randomUUID();

    const error = await rejection(moveCurrentTo(secrets, arn, missing));

    expect(error.code).toBe('AWS_REQUEST_FAILED');
    expect(error.message).toContain(`Moving AWSCURRENT of secret ${arn} to version ${missing} failed`);
    expect(error.message).toContain('list-secret-version-ids');
  });
});

describe('removePendingLabel', () => {
  it('takes AWSPENDING off the token and leaves AWSCURRENT alone; nothing to do the second time', async () => {
    const old = valueOf();
    const { arn, currentVersion } = await secretHolding(old);
    const token = randomUUID();
    await putPendingVersion(secrets, arn, token, valueOf());

    await removePendingLabel(secrets, arn, token);
    const { client, sent } = countingClient();
    await removePendingLabel(client, arn, token);

    expect(sent).toEqual(['DescribeSecretCommand']);
    expect(await describeVersions(secrets, arn)).toMatchObject({ current: currentVersion, pending: undefined });
    expect(await readKeySecret(secrets, arn)).toMatchObject({ status: 'present', value: old });
    client.destroy();
  });

  it('leaves a pending version of another token alone', async () => {
    const { arn } = await secretHolding(valueOf());
    const token = randomUUID();
    await putPendingVersion(secrets, arn, token, valueOf());

    await removePendingLabel(secrets, arn, randomUUID());

    expect((await describeVersions(secrets, arn)).pending).toBe(token);
  });
});
