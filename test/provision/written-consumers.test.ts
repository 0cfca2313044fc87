/**
 * Every written consumer of a spec goes through the consumer registry, against the emulator: an
 * inline rule, a Lambda function's variable and an SSM parameter get the key at create, are put
 * back on the working key when a replacement fails half-way, are removed once no longer declared
 * and on delete; the record remembers them by ref (and reads records from before, which list only
 * inline rule names). Keys it issues carry their declaration; keys issued before that get it.
 */
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LambdaEnvConsumer, SsmParameterConsumer } from '../../lambda/declared-key/contract';
import { KEY_PATTERN } from '../../lambda/keys/key-format';
import { provisionedKeyItemKey } from '../../lambda/handout/provisioned-key';
import { createNodeFunction, emulatorClientConfig, uniqueName } from '../local-aws/fixtures';
import { createProvisionFixture, events, headerSentTo, inlineRule, inputOf, type ProvisionFixture, specOf, TELEMETRY_URL } from './provision-fixture';

let fx: ProvisionFixture;
const lambda = new LambdaClient(emulatorClientConfig());
const ssm = new SSMClient(emulatorClientConfig());
beforeAll(async () => {
  fx = await createProvisionFixture();
});
afterAll(() => {
  fx.destroy();
  lambda.destroy();
  ssm.destroy();
});
afterEach(() => {
  expect(fx.logLines.join('\n')).not.toMatch(KEY_PATTERN);
});

const uniqueTenant = (prefix: string) => uniqueName(prefix).toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63);

/** A function of the user's, with a variable of its own that must survive every write. */
async function userFunction(): Promise<LambdaEnvConsumer> {
  const functionName = await createNodeFunction(lambda, { 'index.js': 'exports.handler = async () => ({})' }, { Environment: { Variables: { OTHER: 'kept' } } });
  return { type: 'lambda-env', functionName, variable: 'KEYROLL_API_KEY' };
}

const parameter = (): SsmParameterConsumer => ({ type: 'ssm-parameter', name: `/keyroll-test/${uniqueName('key')}` });

async function variables(functionName: string): Promise<Record<string, string>> {
  return (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }))).Environment?.Variables ?? {};
}

async function parameterValue(name: string): Promise<string | undefined> {
  try {
    return (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter?.Value;
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') return undefined;
    throw error;
  }
}

/** An SSM client whose PutParameter fails, as when SSM throttles. */
function failingSsm(): SSMClient {
  const client = new SSMClient(emulatorClientConfig());
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutParameterCommand') throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      return next(args);
    },
    { step: 'initialize', name: 'injectPutParameterFault' },
  );
  return client;
}

describe('every written consumer', () => {
  it('gets the key at create, is recorded by ref, is removed once no longer declared, and on delete', async () => {
    const rule = inlineRule();
    const variable = await userFunction();
    const stored = parameter();
    const spec = specOf({ tenant: uniqueTenant('consumers'), consumers: [variable, rule, stored] });
    await fx.putSpec(spec);
    const input = inputOf(spec, await fx.createSecret());

    const created = await fx.provisioner().handle(events.create(input));

    const secret = (await fx.readSecret(input.secretArn))!;
    expect(await variables(variable.functionName)).toEqual({ OTHER: 'kept', KEYROLL_API_KEY: secret.apiKey });
    expect(headerSentTo(await fx.getRule(rule.ruleName), TELEMETRY_URL, 'x-api-key')).toBe(secret.apiKey);
    expect(await parameterValue(stored.name)).toBe(secret.apiKey);
    // The result lists inline rules only, as before.
    expect(created.inlineRuleArns).toEqual([(await fx.getRule(rule.ruleName))!.ruleArn]);
    expect(await fx.readRecord(spec.tenant, spec.name)).toMatchObject({
      consumers: [
        { type: 'lambda-env', functionName: variable.functionName, variable: 'KEYROLL_API_KEY' },
        { type: 'iot-rule-inline', ruleName: rule.ruleName },
        { type: 'ssm-parameter', name: stored.name },
      ],
    });

    await fx.putSpec({ ...spec, consumers: [rule] });
    await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input));

    expect(await variables(variable.functionName)).toEqual({ OTHER: 'kept' });
    expect(await parameterValue(stored.name)).toBeUndefined();
    expect(await fx.getRule(rule.ruleName)).toBeDefined();
    expect((await fx.readRecord(spec.tenant, spec.name))!.consumers).toEqual([{ type: 'iot-rule-inline', ruleName: rule.ruleName }]);
    expect(fx.logLines.join('\n')).toMatch(new RegExp(`consumers no longer declared removed.*${variable.functionName}.*${stored.name.replace(/\//g, '\\/')}`));

    await fx.putSpec({ ...spec, consumers: [variable, stored] });
    await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-3' }, { ...input, specDigest: 'digest-2' }));
    await fx.provisioner().handle(events.delete({ ...input, specDigest: 'digest-3' }));

    expect(await variables(variable.functionName)).toEqual({ OTHER: 'kept' });
    expect(await parameterValue(stored.name)).toBeUndefined();
    expect(await fx.getRule(rule.ruleName)).toBeUndefined();
    expect((await fx.manager.get(spec.tenant, created.keyId)).revokedAt).toBeDefined();
  });

  it('leaves a parameter that is not the key\'s alone, and fails the create naming it', async () => {
    const stored = parameter();
    await ssm.send(new PutParameterCommand({ Name: stored.name, Value: 'someone else', Type: 'SecureString' }));
    const spec = specOf({ tenant: uniqueTenant('not-owned'), consumers: [stored] });
    await fx.putSpec(spec);

    const error = await fx.provisioner().handle(events.create(inputOf(spec, await fx.createSecret()))).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'CONSUMER_NOT_OWNED', message: expect.stringContaining(stored.name) });
    expect(await parameterValue(stored.name)).toBe('someone else');
    expect((await fx.manager.list(spec.tenant)).every((key) => key.revokedAt)).toBe(true);
  });

  it('puts every consumer back on the working key when a replacement fails half-way', async () => {
    const variable = await userFunction();
    const rule = inlineRule();
    const stored = parameter();
    const spec = specOf({ tenant: uniqueTenant('replace-fails'), consumers: [variable, rule] });
    await fx.putSpec(spec);
    const input = inputOf(spec, await fx.createSecret());
    const { keyId } = await fx.provisioner().handle(events.create(input));
    const secret = (await fx.readSecret(input.secretArn))!;
    await fx.putSpec({ ...spec, environment: 'staging', consumers: [variable, rule, stored] });
    const failing = failingSsm();

    try {
      const error = await fx.provisioner({ consumerClients: { ssm: failing } }).handle(events.update({ ...input, specDigest: 'digest-2' }, input)).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'AWS_REQUEST_FAILED' });
    } finally {
      failing.destroy();
    }

    expect(await fx.readSecret(input.secretArn)).toEqual(secret);
    expect((await variables(variable.functionName)).KEYROLL_API_KEY).toBe(secret.apiKey);
    expect(headerSentTo(await fx.getRule(rule.ruleName), TELEMETRY_URL, 'x-api-key')).toBe(secret.apiKey);
    expect(await fx.verify(secret.apiKey, 'production')).toMatchObject({ ok: true, key: { id: keyId } });
  });
});

describe('records written before consumer refs', () => {
  /** Rewrites the record as the provisioner wrote it before: inline rule names, no consumer refs. */
  async function asOldRecord(tenant: string, name: string, ruleNames: string[]): Promise<void> {
    const { consumers: _refs, ...rest } = (await fx.readRecord(tenant, name))!;
    await fx.documentClient.send(new PutCommand({ TableName: fx.keysTable, Item: { ...rest, ...provisionedKeyItemKey(tenant, name), inlineRuleNames: ruleNames } }));
  }

  it('reads their inline rule names: a rule the spec dropped is deleted, and the record is rewritten with refs', async () => {
    const kept = inlineRule();
    const dropped = inlineRule();
    const spec = specOf({ tenant: uniqueTenant('old-record'), consumers: [kept, dropped] });
    await fx.putSpec(spec);
    const input = inputOf(spec, await fx.createSecret());
    await fx.provisioner().handle(events.create(input));
    await asOldRecord(spec.tenant, spec.name, [kept.ruleName, dropped.ruleName]);
    await fx.putSpec({ ...spec, consumers: [kept] });

    await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input));

    expect(await fx.getRule(dropped.ruleName)).toBeUndefined();
    const record = (await fx.readRecord(spec.tenant, spec.name))!;
    expect(record.consumers).toEqual([{ type: 'iot-rule-inline', ruleName: kept.ruleName }]);
    expect(record).not.toHaveProperty('inlineRuleNames');
  });

  it('deletes the rules an old record names when the spec is already gone', async () => {
    const rule = inlineRule();
    const spec = specOf({ tenant: uniqueTenant('old-delete'), consumers: [rule] });
    await fx.putSpec(spec);
    const input = inputOf(spec, await fx.createSecret());
    await fx.provisioner().handle(events.create(input));
    await asOldRecord(spec.tenant, spec.name, [rule.ruleName]);
    await fx.deleteSpec(spec.tenant, spec.name);

    await fx.provisioner().handle(events.delete(input));

    expect(await fx.getRule(rule.ruleName)).toBeUndefined();
  });
});

describe('declared keys', () => {
  it('issues keys that name their declaration: the secret and the spec', async () => {
    const spec = specOf({ tenant: uniqueTenant('declared') });
    await fx.putSpec(spec);
    const input = inputOf(spec, await fx.createSecret());

    const { keyId } = await fx.provisioner().handle(events.create(input));

    // With how many consumers it has, which decides whether regenerating it rotates it.
    expect((await fx.manager.get(spec.tenant, keyId)).declared).toEqual({ secretArn: input.secretArn, name: spec.name, consumers: spec.consumers.length + spec.referenceRules.length });
  });

  it('marks a key issued before keys carried their declaration on the next apply, and follows a rename', async () => {
    const spec = specOf({ tenant: uniqueTenant('undeclared') });
    await fx.putSpec(spec);
    const input = inputOf(spec, await fx.createSecret());
    const { keyId } = await fx.provisioner().handle(events.create(input));
    // As a key issued by an earlier provisioner is stored: no `declared`.
    await fx.documentClient.send(
      new UpdateCommand({ TableName: fx.keysTable, Key: { pk: `TENANT#${spec.tenant}`, sk: `KEY#${keyId}` }, UpdateExpression: 'REMOVE declared' }),
    );
    expect((await fx.manager.get(spec.tenant, keyId)).declared).toBeUndefined();

    await fx.provisioner().handle(events.update({ ...input, specDigest: 'digest-2' }, input));
    const consumers = spec.consumers.length + spec.referenceRules.length;
    expect((await fx.manager.get(spec.tenant, keyId)).declared).toEqual({ secretArn: input.secretArn, name: spec.name, consumers });

    const renamed = { ...spec, name: `${spec.name}-renamed` };
    await fx.putSpec(renamed);
    await fx.provisioner().handle(events.update({ ...input, name: renamed.name, specDigest: 'digest-3' }, { ...input, specDigest: 'digest-2' }));
    expect((await fx.manager.get(spec.tenant, keyId)).declared).toEqual({ secretArn: input.secretArn, name: renamed.name, consumers });
  });
});
