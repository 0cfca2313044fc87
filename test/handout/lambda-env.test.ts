/**
 * The lambda-env consumer writer against Lambda on the emulator: one variable written, everything
 * else of the function kept, a change made between the read and the update not lost, busy
 * functions waited for (bounded), read back as a hash, and removed variable by variable.
 */
import {
  type FunctionConfiguration,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
  type UpdateFunctionConfigurationCommandInput,
} from '@aws-sdk/client-lambda';
import { consumerOwner } from '../../lambda/handout/consumers/consumer-owner';
import { lambdaEnvWriter, type LambdaEnvWriterOptions } from '../../lambda/handout/consumers/lambda-env';
import { consumerClients, createConsumerWriter } from '../../lambda/handout/consumers/registry';
import { HandoutError } from '../../lambda/handout/errors';
import { hashCredential } from '../../lambda/keys/credential-hash';
import { generateKey, KEY_PATTERN } from '../../lambda/keys/key-format';
import type { LambdaEnvConsumer } from '../../lambda/declared-key/contract';
import { createNodeFunction, decodePayload, emulatorClientConfig, uniqueName } from '../local-aws/fixtures';

const admin = new LambdaClient(emulatorClientConfig());
const owner = consumerOwner({ tenant: 'acme', name: uniqueName('ingest') });
const clients: LambdaClient[] = [admin];
afterAll(() => clients.forEach((client) => client.destroy()));

/** The function reports the hash of the variable it runs with (never the value) and one other variable. */
const HANDLER = `
  const { createHash } = require('node:crypto');
  exports.handler = async () => ({
    keyHash: process.env.KEYROLL_API_KEY && createHash('sha256').update(process.env.KEYROLL_API_KEY).digest('base64url'),
    other: process.env.OTHER,
  });`;

async function userFunction(variables: Record<string, string> = { OTHER: 'kept', LOG_LEVEL: 'debug' }): Promise<LambdaEnvConsumer> {
  const functionName = await createNodeFunction(
    admin,
    { 'index.js': HANDLER },
    { Environment: { Variables: variables }, Description: 'the ingest service', MemorySize: 384, Timeout: 9 },
  );
  return { type: 'lambda-env', functionName, variable: 'KEYROLL_API_KEY' };
}

const configOf = (functionName: string) => admin.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));

interface Hooks {
  /** Runs before each UpdateFunctionConfiguration this client sends; may throw to stand in for Lambda's answer. */
  beforeUpdate?: (input: UpdateFunctionConfigurationCommandInput, count: number) => Promise<void>;
  /** Changes each GetFunctionConfiguration answer. */
  afterRead?: (output: FunctionConfiguration, count: number) => void;
}

/** A Lambda client to the emulator that records the updates it sends and runs `hooks` around them. */
function observedLambda(hooks: Hooks = {}) {
  const updates: UpdateFunctionConfigurationCommandInput[] = [];
  let reads = 0;
  const client = new LambdaClient({ ...emulatorClientConfig(), maxAttempts: 1 });
  clients.push(client);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UpdateFunctionConfigurationCommand') {
        const input = args.input as UpdateFunctionConfigurationCommandInput;
        updates.push(structuredClone(input));
        await hooks.beforeUpdate?.(input, updates.length);
      }
      const result = await next(args);
      if (context.commandName === 'GetFunctionConfigurationCommand') hooks.afterRead?.(result.output as FunctionConfiguration, ++reads);
      return result;
    },
    { step: 'initialize', name: 'observeUpdates' },
  );
  return { client, updates };
}

/** Waits recorded instead of slept, so the bounded waits cost no test time. */
function fastWaits(overrides: LambdaEnvWriterOptions = {}) {
  const slept: number[] = [];
  const options: LambdaEnvWriterOptions = { busyWaitsMs: [10, 20, 30], sleep: async (ms) => void slept.push(ms), ...overrides };
  return { slept, options };
}

const lambdaError = (name: string, message = 'stand-in for Lambda') => Object.assign(new Error(message), { name, $metadata: {} });

async function refusal(promise: Promise<unknown>): Promise<HandoutError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HandoutError);
  return error as HandoutError;
}

describe('write', () => {
  it("sets only its variable: the function's other variables and settings stay, and the function runs with the credential", async () => {
    const consumer = await userFunction();
    const before = await configOf(consumer.functionName);
    const { client, updates } = observedLambda();
    const credential = generateKey('production');

    const arn = await createConsumerWriter(consumerClients({ lambda: client })).write(consumer, credential, owner);

    const after = await configOf(consumer.functionName);
    expect(arn).toBe(before.FunctionArn);
    expect(after.Environment?.Variables).toEqual({ OTHER: 'kept', LOG_LEVEL: 'debug', KEYROLL_API_KEY: credential });
    for (const setting of ['Description', 'MemorySize', 'Timeout', 'Handler', 'Runtime', 'Role', 'CodeSha256', 'Architectures'] as const) {
      expect(after[setting]).toEqual(before[setting]);
    }
    // Nothing of the configuration but the variables is sent, guarded by the revision read.
    expect(updates).toHaveLength(1);
    expect(Object.keys(updates[0]).sort()).toEqual(['Environment', 'FunctionName', 'RevisionId']);
    expect(before.RevisionId).toEqual(expect.any(String));
    expect(updates[0].RevisionId).toBe(before.RevisionId);

    const invoked = await admin.send(new InvokeCommand({ FunctionName: consumer.functionName, Payload: Buffer.from('{}') }));
    expect(decodePayload(invoked.Payload)).toEqual({ keyHash: hashCredential(credential), other: 'kept' });
  });

  it('sends no update when the variable already holds the credential (a re-run apply, a retried setSecret)', async () => {
    const consumer = await userFunction();
    const { client, updates } = observedLambda();
    const variables = lambdaEnvWriter({ lambda: client });
    const credential = generateKey('production');
    await variables.write(consumer, credential, owner);
    const revision = (await configOf(consumer.functionName)).RevisionId;

    await variables.write(consumer, credential, owner);

    expect(updates).toHaveLength(1);
    expect((await configOf(consumer.functionName)).RevisionId).toBe(revision);
  });

  it('replaces an earlier keyroll credential in the variable (a rotation)', async () => {
    const consumer = await userFunction();
    const variables = lambdaEnvWriter({ lambda: admin });
    const [first, second] = [generateKey('production'), generateKey('production')];

    await variables.write(consumer, first, owner);
    await variables.write(consumer, second, owner);

    expect((await configOf(consumer.functionName)).Environment?.Variables).toEqual({ OTHER: 'kept', LOG_LEVEL: 'debug', KEYROLL_API_KEY: second });
  });
});

describe('a change to the function between the read and the update', () => {
  it('is kept: the update is refused on the stale RevisionId, and the write starts over from a fresh read', async () => {
    const consumer = await userFunction();
    const { client, updates } = observedLambda({
      // Someone deploys the function (a new variable) after keyroll read its configuration.
      beforeUpdate: async (_input, count) => {
        if (count !== 1) return;
        const current = await configOf(consumer.functionName);
        await admin.send(
          new UpdateFunctionConfigurationCommand({ FunctionName: consumer.functionName, Environment: { Variables: { ...current.Environment?.Variables, ADDED: 'by a deploy' } } }),
        );
      },
    });
    const credential = generateKey('production');

    await lambdaEnvWriter({ lambda: client }).write(consumer, credential, owner);

    expect((await configOf(consumer.functionName)).Environment?.Variables).toEqual({ OTHER: 'kept', LOG_LEVEL: 'debug', ADDED: 'by a deploy', KEYROLL_API_KEY: credential });
    expect(updates).toHaveLength(2);
  });

  it('that keeps happening ends in CONSUMER_BUSY after the retries, and leaves the other change in place', async () => {
    const consumer = await userFunction();
    const { client, updates } = observedLambda({
      beforeUpdate: async (_input, count) => {
        const current = await configOf(consumer.functionName);
        await admin.send(
          new UpdateFunctionConfigurationCommand({ FunctionName: consumer.functionName, Environment: { Variables: { ...current.Environment?.Variables, DEPLOY: String(count) } } }),
        );
      },
    });

    const error = await refusal(lambdaEnvWriter({ lambda: client }, { changedRetries: 2 }).write(consumer, generateKey('production'), owner));

    expect(error.code).toBe('CONSUMER_BUSY');
    expect(error.message).toContain(consumer.functionName);
    expect(error.message).not.toMatch(KEY_PATTERN);
    expect(updates).toHaveLength(3);
    expect((await configOf(consumer.functionName)).Environment?.Variables).toEqual({ OTHER: 'kept', LOG_LEVEL: 'debug', DEPLOY: '3' });
  });
});

describe('a function mid-update', () => {
  it('is waited for while its LastUpdateStatus is InProgress, and no update is sent until it is not', async () => {
    const consumer = await userFunction();
    const { client, updates } = observedLambda({
      afterRead: (output, count) => {
        if (count <= 2) output.LastUpdateStatus = 'InProgress';
      },
    });
    const { slept, options } = fastWaits();
    const credential = generateKey('production');

    await lambdaEnvWriter({ lambda: client }, options).write(consumer, credential, owner);

    expect(slept).toEqual([10, 20]);
    expect(updates).toHaveLength(1);
    expect((await configOf(consumer.functionName)).Environment?.Variables?.KEYROLL_API_KEY).toBe(credential);
  });

  it('is retried after ResourceConflictException, within the waits', async () => {
    const consumer = await userFunction();
    const { client, updates } = observedLambda({
      beforeUpdate: async (_input, count) => {
        if (count <= 2) throw lambdaError('ResourceConflictException', 'An update is in progress for resource');
      },
    });
    const { slept, options } = fastWaits();
    const credential = generateKey('production');

    await lambdaEnvWriter({ lambda: client }, options).write(consumer, credential, owner);

    expect(slept).toEqual([10, 20]);
    expect(updates).toHaveLength(3);
    expect((await configOf(consumer.functionName)).Environment?.Variables?.KEYROLL_API_KEY).toBe(credential);
  });

  it('that stays busy past the waits ends in CONSUMER_BUSY, the function unchanged', async () => {
    const consumer = await userFunction();
    const { client } = observedLambda({
      beforeUpdate: async () => {
        throw lambdaError('ResourceConflictException', 'An update is in progress for resource');
      },
    });
    const { slept, options } = fastWaits();

    const error = await refusal(lambdaEnvWriter({ lambda: client }, options).write(consumer, generateKey('production'), owner));

    expect(error.code).toBe('CONSUMER_BUSY');
    expect(slept).toEqual([10, 20, 30]);
    expect((await configOf(consumer.functionName)).Environment?.Variables).toEqual({ OTHER: 'kept', LOG_LEVEL: 'debug' });
  });
});

describe('readBackHash', () => {
  it('is the hash of the value the variable holds, never the value, and follows each write', async () => {
    const consumer = await userFunction();
    const variables = createConsumerWriter(consumerClients({ lambda: admin }));
    const [first, second] = [generateKey('production'), generateKey('production')];

    expect(await variables.readBackHash(consumer)).toBeUndefined();
    await variables.write(consumer, first, owner);
    const afterFirst = await variables.readBackHash(consumer);
    await variables.write(consumer, second, owner);

    expect(afterFirst).toBe(hashCredential(first));
    expect(afterFirst).not.toMatch(KEY_PATTERN);
    expect(await variables.readBackHash(consumer)).toBe(hashCredential(second));
  });

  it('is undefined for a function that does not exist, and after an update that failed (the function runs the previous configuration)', async () => {
    const variables = lambdaEnvWriter({ lambda: admin });
    expect(await variables.readBackHash({ type: 'lambda-env', functionName: uniqueName('missing'), variable: 'KEYROLL_API_KEY' })).toBeUndefined();

    const consumer = await userFunction();
    await variables.write(consumer, generateKey('production'), owner);
    const { client } = observedLambda({ afterRead: (output) => void (output.LastUpdateStatus = 'Failed') });
    expect(await lambdaEnvWriter({ lambda: client }).readBackHash(consumer)).toBeUndefined();
  });
});

describe('refusals', () => {
  it('a variable holding something that is not a keyroll credential is not overwritten (CONSUMER_NOT_OWNED), nor removed', async () => {
    const consumer = await userFunction({ OTHER: 'kept', KEYROLL_API_KEY: 'postgres://db.internal/ingest' });
    const variables = createConsumerWriter(consumerClients({ lambda: admin }));
    const credential = generateKey('production');

    const error = await refusal(variables.write(consumer, credential, owner));

    expect(error.code).toBe('CONSUMER_NOT_OWNED');
    expect(error.message).toContain(`variable KEYROLL_API_KEY of Lambda function ${consumer.functionName}`);
    expect(error.message).not.toContain('postgres://');
    expect(error.message).not.toMatch(KEY_PATTERN);
    expect(await variables.remove(consumer, owner)).toBe('not-owned');
    expect((await configOf(consumer.functionName)).Environment?.Variables).toEqual({ OTHER: 'kept', KEYROLL_API_KEY: 'postgres://db.internal/ingest' });
  });

  it('a function that does not exist is CONSUMER_NOT_FOUND: keyroll never creates one', async () => {
    const consumer: LambdaEnvConsumer = { type: 'lambda-env', functionName: uniqueName('missing'), variable: 'KEYROLL_API_KEY' };

    const error = await refusal(lambdaEnvWriter({ lambda: admin }).write(consumer, generateKey('production'), owner));

    expect(error.code).toBe('CONSUMER_NOT_FOUND');
    expect(error.message).toContain(consumer.functionName);
  });

  it('variables Lambda cannot show (a KMS key keyroll may not use) are CONSUMER_UNREADABLE, and nothing is sent that would drop them', async () => {
    const consumer = await userFunction();
    const { client, updates } = observedLambda({
      afterRead: (output) => {
        output.Environment = { Error: { ErrorCode: 'AccessDeniedException', Message: 'Lambda was unable to decrypt the environment variables' } };
      },
    });

    const error = await refusal(lambdaEnvWriter({ lambda: client }).write(consumer, generateKey('production'), owner));

    expect(error.code).toBe('CONSUMER_UNREADABLE');
    expect(error.message).toContain('kms:Decrypt');
    expect(updates).toHaveLength(0);
    expect((await configOf(consumer.functionName)).Environment?.Variables).toEqual({ OTHER: 'kept', LOG_LEVEL: 'debug' });
  });

  it("a failed update's message is left out, for Lambda's can quote every variable", async () => {
    const consumer = await userFunction({ OTHER: 'kept', DB_PASSWORD: 'hunter2' });
    const credential = generateKey('production');
    const { client } = observedLambda({
      beforeUpdate: async (input) => {
        throw lambdaError('InvalidParameterValueException', `exceeded the 4KB limit. String measured: ${JSON.stringify(input.Environment?.Variables)}`);
      },
    });

    const error = await refusal(lambdaEnvWriter({ lambda: client }).write(consumer, credential, owner));

    expect(error.code).toBe('AWS_REQUEST_FAILED');
    expect(error.message).toContain('InvalidParameterValueException');
    expect(error.message).toContain('4 KB');
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain(credential.slice(8, 20));
  });
});

describe('remove', () => {
  it('deletes only its variable, keeps the function, and is repeatable; a missing function is absent', async () => {
    const consumer = await userFunction();
    const variables = createConsumerWriter(consumerClients({ lambda: admin }));
    await variables.write(consumer, generateKey('production'), owner);
    const ref = { type: 'lambda-env' as const, functionName: consumer.functionName, variable: consumer.variable };

    expect(await variables.remove(ref, owner)).toBe('deleted');
    expect(await variables.remove(ref, owner)).toBe('absent');
    expect((await configOf(consumer.functionName)).Environment?.Variables).toEqual({ OTHER: 'kept', LOG_LEVEL: 'debug' });
    expect(await variables.remove({ ...ref, functionName: uniqueName('missing') }, owner)).toBe('absent');
    expect(variables.describe(ref)).toBe(`variable KEYROLL_API_KEY of Lambda function ${consumer.functionName}`);
  });

  it('keeps a change made between its read and its update', async () => {
    const consumer = await userFunction();
    await lambdaEnvWriter({ lambda: admin }).write(consumer, generateKey('production'), owner);
    const { client } = observedLambda({
      beforeUpdate: async (_input, count) => {
        if (count !== 1) return;
        const current = await configOf(consumer.functionName);
        await admin.send(
          new UpdateFunctionConfigurationCommand({ FunctionName: consumer.functionName, Environment: { Variables: { ...current.Environment?.Variables, ADDED: 'meanwhile' } } }),
        );
      },
    });

    expect(await lambdaEnvWriter({ lambda: client }).remove(consumer, owner)).toBe('deleted');

    expect((await configOf(consumer.functionName)).Environment?.Variables).toEqual({ OTHER: 'kept', LOG_LEVEL: 'debug', ADDED: 'meanwhile' });
  });
});
