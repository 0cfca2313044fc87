/**
 * The ssm-parameter consumer writer against SSM on the emulator: a SecureString created tagged for
 * the key (with the declared KMS key, or SSM's own), overwritten only while it carries that tag,
 * read back as a hash, and deleted only if it is this key's.
 */
import {
  DeleteParameterCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  ListTagsForResourceCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { consumerOwner } from '../../lambda/handout/consumers/consumer-owner';
import { consumerClients, createConsumerWriter } from '../../lambda/handout/consumers/registry';
import { DEFAULT_PARAMETER_KEY, ssmParameterWriter } from '../../lambda/handout/consumers/ssm-parameter';
import { HandoutError } from '../../lambda/handout/errors';
import { hashCredential } from '../../lambda/keys/credential-hash';
import { generateKey, KEY_PATTERN } from '../../lambda/keys/key-format';
import type { SsmParameterConsumer } from '../../lambda/declared-key/contract';
import { emulatorClientConfig, uniqueName } from '../local-aws/fixtures';

const ssm = new SSMClient(emulatorClientConfig());
const consumers = createConsumerWriter(consumerClients({ ssm }));
const keyName = uniqueName('ingest').replace(/_/g, '-');
const owner = consumerOwner({ tenant: 'acme', name: keyName });
afterAll(() => ssm.destroy());

const parameterOf = (overrides: Partial<SsmParameterConsumer> = {}): SsmParameterConsumer => ({
  type: 'ssm-parameter',
  name: `/acme/${uniqueName('ingest')}/api-key`,
  ...overrides,
});

const tagsOf = async (name: string) =>
  (await ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: name }))).TagList ?? [];

async function described(name: string) {
  const { Parameters } = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: [name] }] }));
  return Parameters?.[0];
}

const decrypted = async (name: string) => (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter?.Value;

/** A customer managed key in the emulator's KMS (a plain request: moto routes on the credential scope and checks no signature). */
async function createKmsKey(): Promise<string> {
  const { endpoint, region } = emulatorClientConfig();
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'TrentService.CreateKey',
      authorization: `AWS4-HMAC-SHA256 Credential=test/20240101/${region}/kms/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify({ Description: 'keyroll test: ssm-parameter consumer' }),
  });
  const body = (await response.json()) as { KeyMetadata: { Arn: string } };
  return body.KeyMetadata.Arn;
}

async function refusal(promise: Promise<unknown>): Promise<HandoutError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HandoutError);
  return error as HandoutError;
}

describe('write', () => {
  it("creates a SecureString tagged for the key, encrypted with SSM's own key when none is declared", async () => {
    const parameter = parameterOf();
    const credential = generateKey('production');

    const arn = await consumers.write(parameter, credential, owner);

    expect(arn).toMatch(new RegExp(`^arn:aws:ssm:[a-z0-9-]+:\\d{12}:parameter${parameter.name}$`));
    expect(await decrypted(parameter.name)).toBe(credential);
    expect(await described(parameter.name)).toMatchObject({ Type: 'SecureString', KeyId: DEFAULT_PARAMETER_KEY });
    expect(await tagsOf(parameter.name)).toEqual([{ Key: 'keyroll:key', Value: `acme/${keyName}` }]);
  });

  it('encrypts with the declared KMS key, and moves the parameter back to SSM\'s key when the declaration drops it', async () => {
    const kmsKeyArn = await createKmsKey();
    const parameter = parameterOf({ kmsKeyArn });
    const [first, second] = [generateKey('production'), generateKey('production')];

    await consumers.write(parameter, first, owner);
    const withKey = await described(parameter.name);
    await consumers.write({ type: 'ssm-parameter', name: parameter.name }, second, owner);

    expect(withKey).toMatchObject({ Type: 'SecureString', KeyId: kmsKeyArn });
    expect(await described(parameter.name)).toMatchObject({ Type: 'SecureString', KeyId: DEFAULT_PARAMETER_KEY });
    expect(await decrypted(parameter.name)).toBe(second);
  });

  it('overwrites a parameter tagged for the key (a rotation): a new version, the tag kept', async () => {
    const parameter = parameterOf();
    const [first, second] = [generateKey('production'), generateKey('production')];

    await consumers.write(parameter, first, owner);
    await consumers.write(parameter, second, owner);

    expect(await decrypted(parameter.name)).toBe(second);
    expect((await described(parameter.name))?.Version).toBe(2);
    expect(await tagsOf(parameter.name)).toEqual([{ Key: 'keyroll:key', Value: `acme/${keyName}` }]);
  });

  it('takes over a parameter tagged with the earlier name of a renamed key, and re-tags it', async () => {
    const parameter = parameterOf();
    const before = consumerOwner({ tenant: 'acme', name: `${keyName}-old` });
    await consumers.write(parameter, generateKey('production'), before);
    const renamed = consumerOwner({ tenant: 'acme', name: keyName }, { tenant: 'acme', name: `${keyName}-old` });
    const credential = generateKey('production');

    await consumers.write(parameter, credential, renamed);

    expect(await decrypted(parameter.name)).toBe(credential);
    expect(await tagsOf(parameter.name)).toEqual([{ Key: 'keyroll:key', Value: `acme/${keyName}` }]);
  });

  it('creates the parameter after all when it is deleted between finding it and reading its tags', async () => {
    const parameter = parameterOf();
    await consumers.write(parameter, generateKey('production'), owner);
    const racing = new SSMClient(emulatorClientConfig());
    let deleted = false;
    racing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ListTagsForResourceCommand' && !deleted) {
          deleted = true;
          await ssm.send(new DeleteParameterCommand({ Name: parameter.name }));
        }
        return next(args);
      },
      { step: 'initialize', name: 'deleteBeforeTagRead' },
    );
    const credential = generateKey('production');

    await ssmParameterWriter({ ssm: racing }).write(parameter, credential, owner);
    racing.destroy();

    expect(deleted).toBe(true);
    expect(await decrypted(parameter.name)).toBe(credential);
    expect(await tagsOf(parameter.name)).toEqual([{ Key: 'keyroll:key', Value: `acme/${keyName}` }]);
  });
});

describe('readBackHash', () => {
  it('is the hash of the decrypted value, never the value, and follows each write', async () => {
    const parameter = parameterOf({ kmsKeyArn: await createKmsKey() });
    const [first, second] = [generateKey('production'), generateKey('production')];

    expect(await consumers.readBackHash(parameter)).toBeUndefined();
    await consumers.write(parameter, first, owner);
    const afterFirst = await consumers.readBackHash(parameter);
    await consumers.write(parameter, second, owner);

    expect(afterFirst).toBe(hashCredential(first));
    expect(afterFirst).not.toMatch(KEY_PATTERN);
    expect(await consumers.readBackHash(parameter)).toBe(hashCredential(second));
  });

  it('is undefined for a parameter someone rewrote as a plain String', async () => {
    const parameter = parameterOf();
    await consumers.write(parameter, generateKey('production'), owner);
    await ssm.send(new PutParameterCommand({ Name: parameter.name, Value: generateKey('production'), Type: 'String', Overwrite: true }));

    expect(await consumers.readBackHash(parameter)).toBeUndefined();
  });
});

describe('a parameter that is not this key\'s', () => {
  it.each([
    ['untagged (made by hand)', undefined],
    ['tagged for another key', 'acme/someone-else'],
  ])('%s is refused with CONSUMER_NOT_OWNED and left as it was, and not removed', async (_, tag) => {
    const parameter = parameterOf();
    const theirs = generateKey('production');
    await ssm.send(
      new PutParameterCommand({ Name: parameter.name, Value: theirs, Type: 'SecureString', ...(tag ? { Tags: [{ Key: 'keyroll:key', Value: tag }] } : {}) }),
    );

    const error = await refusal(consumers.write(parameter, generateKey('production'), owner));

    expect(error.code).toBe('CONSUMER_NOT_OWNED');
    expect(error.message).toContain(`SSM parameter ${parameter.name}`);
    expect(error.message).toContain(`aws ssm add-tags-to-resource --resource-type Parameter --resource-id ${parameter.name}`);
    expect(error.message).not.toMatch(KEY_PATTERN);
    expect(await decrypted(parameter.name)).toBe(theirs);
    expect((await described(parameter.name))?.Version).toBe(1);
    expect(await consumers.remove(parameter, owner)).toBe('not-owned');
    expect(await decrypted(parameter.name)).toBe(theirs);
  });
});

describe('remove', () => {
  it('deletes the parameter tagged for the key, by the ref alone, repeatably', async () => {
    const parameter = parameterOf();
    await consumers.write(parameter, generateKey('production'), owner);
    const ref = { type: 'ssm-parameter' as const, name: parameter.name };

    expect(await consumers.remove(ref, owner)).toBe('deleted');
    expect(await consumers.remove(ref, owner)).toBe('absent');
    await expect(ssm.send(new GetParameterCommand({ Name: parameter.name }))).rejects.toThrow(/ParameterNotFound|not found/);
    expect(await consumers.readBackHash(parameter)).toBeUndefined();
    expect(consumers.describe(ref)).toBe(`SSM parameter ${parameter.name}`);
  });
});
