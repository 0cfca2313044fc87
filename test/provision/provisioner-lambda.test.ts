/** The provisioner deployed as a real Lambda function on the emulator and invoked as aws_lambda_invocation does. */
import { join } from 'node:path';
import { CloudWatchLogsClient, FilterLogEventsCommand, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { KEY_PATTERN } from '../../lambda/keys/key-format';
import type { ProvisionResult } from '../../lambda/provision/key-spec';
import { createNodeFunction, decodePayload, emulatorClientConfig } from '../local-aws/fixtures';
import { bundleLambda } from '../support/bundle-lambda';
import { createProvisionFixture, events, headerSentTo, inlineRule, inputOf, type ProvisionFixture, specOf, TELEMETRY_URL } from './provision-fixture';

const lambda = new LambdaClient(emulatorClientConfig());
const logs = new CloudWatchLogsClient(emulatorClientConfig());
let fx: ProvisionFixture;
let functionName: string;

beforeAll(async () => {
  fx = await createProvisionFixture();
  const code = await bundleLambda(join(__dirname, '../../lambda/provision/handler.ts'));
  functionName = await createNodeFunction(
    lambda,
    { 'index.js': code },
    { Timeout: 60, MemorySize: 256, Environment: { Variables: { KEYROLL_KEYS_TABLE: fx.keysTable, POWERTOOLS_LOG_LEVEL: 'DEBUG' } } },
  );
});

afterAll(() => {
  fx.destroy();
  lambda.destroy();
  logs.destroy();
});

async function invoke(event: unknown) {
  const response = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)) }));
  return { functionError: response.FunctionError, payload: decodePayload(response.Payload) };
}

async function logMessages(): Promise<string[]> {
  const found: FilteredLogEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await logs.send(new FilterLogEventsCommand({ logGroupName: `/aws/lambda/${functionName}`, nextToken }));
    found.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return found.map((event) => event.message ?? '');
}

it('provisions, fails clearly and destroys through the Lambda Invoke API, and never logs a key', async () => {
  const rule = inlineRule();
  const spec = specOf({ consumers: [rule] });
  await fx.putSpec(spec);
  const input = inputOf(spec, await fx.createSecret());

  const created = await invoke(events.create(input));

  expect(created.functionError).toBeUndefined();
  const result = created.payload as ProvisionResult;
  const secret = (await fx.readSecret(input.secretArn))!;
  expect(result).toEqual({ keyId: secret.keyId, secretArn: input.secretArn, inlineRuleArns: [(await fx.getRule(rule.ruleName))!.ruleArn] });
  expect(await fx.verify(secret.apiKey, 'production')).toMatchObject({ ok: true, key: { tenant: 'acme', permissions: spec.permissions } });
  expect(headerSentTo(await fx.getRule(rule.ruleName), TELEMETRY_URL, 'x-api-key')).toBe(secret.apiKey);

  const malformed = await invoke({ ...input, secretArn: 'not-an-arn', tf: { action: 'update', prev_input: input } });
  expect(malformed.functionError).toBe('Unhandled');
  expect(malformed.payload).toMatchObject({ errorType: 'ProvisionError', errorMessage: expect.stringContaining('`input.secretArn` must be the ARN') });

  const deleted = await invoke(events.delete(input));
  expect(deleted.functionError).toBeUndefined();
  expect((await fx.manager.get('acme', secret.keyId)).revokedAt).toBeDefined();
  expect(await fx.getRule(rule.ruleName)).toBeUndefined();

  const messages = await logMessages();
  expect(messages.some((message) => message.includes('"message":"provisioned"'))).toBe(true);
  expect(messages.join('\n')).not.toMatch(KEY_PATTERN);
  expect(messages.join('\n')).not.toContain(secret.apiKey.slice(12));
});
