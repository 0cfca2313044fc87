/** Lambda Invoke on the local AWS emulator: Node handlers really run, see the emulator, and log to CloudWatch. */
import { CloudWatchLogsClient, FilterLogEventsCommand, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { createNodeFunction, decodePayload, emulatorClientConfig } from './fixtures';

const lambda = new LambdaClient(emulatorClientConfig());
const logs = new CloudWatchLogsClient(emulatorClientConfig());

afterAll(() => {
  lambda.destroy();
  logs.destroy();
});

async function invoke(name: string, event: unknown, extra: Partial<ConstructorParameters<typeof InvokeCommand>[0]> = {}) {
  return lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(event)), ...extra }));
}

async function logMessages(name: string): Promise<string[]> {
  const events: FilteredLogEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await logs.send(new FilterLogEventsCommand({ logGroupName: `/aws/lambda/${name}`, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events.map((event) => event.message ?? '');
}

describe('happy path', () => {
  it("returns the handler's result for the event it was given", async () => {
    const name = await createNodeFunction(lambda, {
      'index.js': 'exports.handler = async (event, context) => ({ doubled: event.n * 2, name: context.functionName });',
    });

    const response = await invoke(name, { n: 21 });

    expect(response.StatusCode).toBe(200);
    expect(response.FunctionError).toBeUndefined();
    expect(decodePayload(response.Payload)).toEqual({ doubled: 42, name });
  });

  it("gives the handler the function's variables and an AWS_ENDPOINT_URL that reaches this emulator", async () => {
    // The handler asks the emulator for its own configuration with a plain fetch; moto routes on
    // the credential scope and does not check signatures.
    const name = await createNodeFunction(
      lambda,
      {
        'index.js': `
          exports.handler = async () => {
            const endpoint = process.env.AWS_ENDPOINT_URL;
            const response = await fetch(endpoint + '/2015-03-31/functions/' + process.env.AWS_LAMBDA_FUNCTION_NAME, {
              headers: { authorization: 'AWS4-HMAC-SHA256 Credential=test/20240101/' + process.env.AWS_REGION + '/lambda/aws4_request, SignedHeaders=host, Signature=0' },
            });
            const body = await response.json();
            return {
              endpoint,
              status: response.status,
              seenName: body.Configuration.FunctionName,
              tenantTable: process.env.TENANT_TABLE,
              region: process.env.AWS_REGION,
              hasCredentials: Boolean(process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY),
            };
          };`,
      },
      { Environment: { Variables: { TENANT_TABLE: 'tenants-local' } } },
    );

    const response = await invoke(name, {});

    expect(response.FunctionError).toBeUndefined();
    expect(decodePayload(response.Payload)).toEqual({
      endpoint: process.env.AWS_ENDPOINT_URL,
      status: 200,
      seenName: name,
      tenantTable: 'tenants-local',
      region: emulatorClientConfig().region,
      hasCredentials: true,
    });
  });

  it('offers handlers the AWS SDK v3 as Lambda does, and the SDK finds the emulator with no configuration', async () => {
    // Bundles usually mark @aws-sdk/* external because Lambda's Node runtime provides it.
    const name = await createNodeFunction(lambda, {
      'index.js': `
        const { LambdaClient, GetFunctionCommand } = require('@aws-sdk/client-lambda');
        exports.handler = async () => {
          const client = new LambdaClient({});
          const { Configuration } = await client.send(new GetFunctionCommand({ FunctionName: process.env.AWS_LAMBDA_FUNCTION_NAME }));
          return Configuration.FunctionName;
        };`,
    });

    const response = await invoke(name, {});

    expect(response.FunctionError).toBeUndefined();
    expect(decodePayload(response.Payload)).toBe(name);
  });

  it("builds the handler's environment from scratch instead of copying the emulator's", async () => {
    // The launcher sets MOTO_PORT in its own environment, so a copied environment would show it.
    const name = await createNodeFunction(lambda, { 'index.js': 'exports.handler = async () => process.env.MOTO_PORT ?? "absent";' });

    const response = await invoke(name, {});

    expect(decodePayload(response.Payload)).toBe('absent');
  });

  it('runs ES module handlers (.mjs) and nested handler paths', async () => {
    const name = await createNodeFunction(
      lambda,
      { 'src/handlers/rotate.mjs': 'export const handler = async (event) => ({ step: event.Step, esm: typeof require === "undefined" });' },
      { Handler: 'src/handlers/rotate.handler' },
    );

    const response = await invoke(name, { Step: 'createSecret' });

    expect(response.FunctionError).toBeUndefined();
    expect(decodePayload(response.Payload)).toEqual({ step: 'createSecret', esm: true });
  });

  it("stores the handler's console lines in /aws/lambda/<name>, one event per console call", async () => {
    const name = await createNodeFunction(lambda, {
      'index.js': 'exports.handler = async () => { console.log("rotating tenant %s", "t-1"); console.error("first line\\nsecond line"); return "done"; };',
    });

    const response = await invoke(name, {}, { LogType: 'Tail' });

    const messages = await logMessages(name);
    expect(messages.some((message) => /\tINFO\trotating tenant t-1$/.test(message))).toBe(true);
    expect(messages.some((message) => message.endsWith('\tERROR\tfirst line\nsecond line'))).toBe(true);
    expect(messages.filter((message) => message.startsWith('START RequestId: '))).toHaveLength(1);
    expect(messages.filter((message) => message.startsWith('REPORT RequestId: '))).toHaveLength(1);
    // LogType=Tail returns the same lines with the response.
    expect(Buffer.from(response.LogResult ?? '', 'base64').toString('utf8')).toContain('rotating tenant t-1');
  });

  it('runs Event invocations in the background and still logs them', async () => {
    const name = await createNodeFunction(lambda, {
      'index.js': 'exports.handler = async (event) => { await new Promise((r) => setTimeout(r, 300)); console.log("scheduled run", event.id); };',
    });

    const started = Date.now();
    const response = await invoke(name, { id: 'evt-7' }, { InvocationType: 'Event' });

    expect(response.StatusCode).toBe(202);
    expect(Date.now() - started).toBeLessThan(300);
    let messages: string[] = [];
    for (let attempt = 0; attempt < 50 && !messages.some((m) => m.endsWith('scheduled run evt-7')); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      messages = await logMessages(name);
    }
    expect(messages.some((message) => message.endsWith('\tINFO\tscheduled run evt-7'))).toBe(true);
  });
});

describe('errors', () => {
  it('reports a thrown error as an Unhandled function error with errorType and errorMessage', async () => {
    const name = await createNodeFunction(lambda, {
      'index.js': 'class RotationError extends Error { name = "RotationError"; }\nexports.handler = async () => { throw new RotationError("consumer unreachable"); };',
    });

    const response = await invoke(name, {});

    expect(response.StatusCode).toBe(200);
    expect(response.FunctionError).toBe('Unhandled');
    expect(decodePayload(response.Payload)).toMatchObject({ errorType: 'RotationError', errorMessage: 'consumer unreachable' });
    expect((await logMessages(name)).some((message) => message.includes('\tERROR\tInvoke Error') && message.includes('consumer unreachable'))).toBe(true);
  });

  it("enforces the function's Timeout and kills the handler", async () => {
    const name = await createNodeFunction(
      lambda,
      { 'index.js': 'exports.handler = async () => { await new Promise((r) => setTimeout(r, 10_000)); console.log("should never print"); return "late"; };' },
      { Timeout: 1 },
    );

    const started = Date.now();
    const response = await invoke(name, {});
    const elapsed = Date.now() - started;

    expect(response.FunctionError).toBe('Unhandled');
    expect(decodePayload(response.Payload)).toMatchObject({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringContaining('Task timed out after 1.00 seconds') });
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(5000);
    const messages = await logMessages(name);
    expect(messages.some((message) => message.endsWith('Task timed out after 1.00 seconds'))).toBe(true);
    expect(messages.some((message) => message.includes('should never print'))).toBe(false);
  });

  it('reports a missing handler export as Runtime.HandlerNotFound', async () => {
    const name = await createNodeFunction(lambda, { 'index.js': 'exports.other = async () => 1;' });

    const response = await invoke(name, {});

    expect(response.FunctionError).toBe('Unhandled');
    expect(decodePayload(response.Payload)).toMatchObject({ errorType: 'Runtime.HandlerNotFound' });
  });

  it('rejects a payload that is not JSON, as Lambda does', async () => {
    const name = await createNodeFunction(lambda, { 'index.js': 'exports.handler = async () => 1;' });

    await expect(lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from('not json') }))).rejects.toMatchObject({
      name: 'InvalidRequestContentException',
    });
  });
});
