/** Helpers for the rotation and scheduler tests: an emulator of their own (short retries, own tick), a rotation function that follows AWS's template, and what its steps logged. */
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type LocalAws, type LocalAwsOptions, startLocalAws } from '../../lambda/local-aws';
import { uniqueName, zip } from './fixtures';

export interface Emulator {
  readonly aws: LocalAws;
  readonly endpoint: string;
  readonly sm: SecretsManagerClient;
  readonly lambda: LambdaClient;
  readonly logs: CloudWatchLogsClient;
  readonly iam: IAMClient;
  stop(): Promise<void>;
}

/**
 * An emulator for one test file: these tests shorten the retry wait or the tick, which the shared
 * emulator must keep at AWS's values for everyone else.
 */
export async function startEmulator(options: LocalAwsOptions): Promise<Emulator> {
  const aws = await startLocalAws({ quiet: true, ...options });
  const config = { endpoint: aws.endpoint, region: process.env.AWS_REGION ?? 'us-east-1' };
  const clients = { sm: new SecretsManagerClient(config), lambda: new LambdaClient(config), logs: new CloudWatchLogsClient(config), iam: new IAMClient(config) };
  return {
    aws,
    endpoint: aws.endpoint,
    ...clients,
    async stop() {
      for (const client of Object.values(clients)) client.destroy();
      await aws.stop();
    },
  };
}

/**
 * A rotation function after AWS's template (lambda_function.py of SecretsManagerRotationTemplate):
 * createSecret puts an AWSPENDING value for the token unless there is one, finishSecret moves
 * AWSCURRENT to the token and removes AWSPENDING. Every step logs one `STEP {json}` line, with the
 * error it threw if any (never a secret value). Told through its environment:
 * - FAIL_AT: steps (comma-separated) that throw;
 * - HOLD_AT + HOLD_MS: steps that first wait that long;
 * - SKIP_PROMOTE=1: finishSecret returns without moving AWSCURRENT.
 */
const ROTATION_FUNCTION = `
const { SecretsManagerClient, DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, UpdateSecretVersionStageCommand } = require('@aws-sdk/client-secrets-manager');
const sm = new SecretsManagerClient({});
const listed = (name) => (process.env[name] || '').split(',').filter(Boolean);
const record = (fields) => console.log('STEP ' + JSON.stringify(fields));

async function hasPendingValue(arn, token) {
  try {
    await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionId: token, VersionStage: 'AWSPENDING' }));
    return true;
  } catch (error) {
    if (error.name !== 'ResourceNotFoundException') throw error;
    return false;
  }
}

exports.handler = async (event) => {
  const seen = {
    step: event.Step,
    token: event.ClientRequestToken,
    secretIdIsArn: event.SecretId.startsWith('arn:'),
    hasRotationToken: typeof event.RotationToken === 'string' && event.RotationToken.length > 0,
  };
  try {
    await run(event, seen);
  } catch (error) {
    record({ ...seen, error: error.message });
    throw error;
  }
  record(seen);
};

async function run(event, seen) {
  const { Step: step, SecretId: arn, ClientRequestToken: token } = event;
  if (listed('HOLD_AT').includes(step)) await new Promise((resolve) => setTimeout(resolve, Number(process.env.HOLD_MS || 1000)));
  if (listed('FAIL_AT').includes(step)) throw new Error('told to fail at ' + step);
  const metadata = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
  if (!metadata.RotationEnabled) throw new Error('rotation is not enabled for ' + arn);
  const versions = metadata.VersionIdsToStages || {};
  const stages = versions[token];
  if (!stages) throw new Error('version ' + token + ' has no stage');
  if (stages.includes('AWSCURRENT')) {
    seen.alreadyCurrent = true;
    return;
  }
  if (!stages.includes('AWSPENDING')) throw new Error('version ' + token + ' is not AWSPENDING');
  if (step === 'createSecret') {
    await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSCURRENT' }));
    if (!(await hasPendingValue(arn, token))) {
      await sm.send(new PutSecretValueCommand({ SecretId: arn, ClientRequestToken: token, SecretString: JSON.stringify({ credential: 'rotated-' + token }), VersionStages: ['AWSPENDING'] }));
    }
  } else if (step === 'testSecret') {
    seen.pendingHasValue = await hasPendingValue(arn, token);
  } else if (step === 'finishSecret' && process.env.SKIP_PROMOTE !== '1') {
    const current = Object.keys(versions).find((id) => versions[id].includes('AWSCURRENT'));
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: current }));
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSPENDING', RemoveFromVersionId: token }));
  }
}
`;

/** What one step invocation logged. */
export interface StepSeen {
  readonly step: string;
  readonly token: string;
  readonly secretIdIsArn: boolean;
  readonly hasRotationToken: boolean;
  /** The message of the error the step threw. */
  readonly error?: string;
  readonly alreadyCurrent?: boolean;
  readonly pendingHasValue?: boolean;
}

/** moto, like Lambda, refuses CreateFunction unless the execution role exists in that emulator. */
async function executionRoleArn(emulator: Emulator): Promise<string> {
  const assumeRole = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
  const created = await emulator.iam.send(new CreateRoleCommand({ RoleName: uniqueName('rotation-role'), AssumeRolePolicyDocument: JSON.stringify(assumeRole) }));
  return created.Role!.Arn!;
}

/** Creates a Node function from source files on `emulator`; returns its name and ARN. */
export async function createFunction(emulator: Emulator, source: string, variables: Record<string, string> = {}): Promise<{ name: string; arn: string }> {
  const name = uniqueName('fn');
  const created = await emulator.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Role: await executionRoleArn(emulator),
      Code: { ZipFile: zip({ 'index.js': source }) },
      Timeout: 15,
      Environment: { Variables: variables },
    }),
  );
  return { name, arn: created.FunctionArn! };
}

export function createRotationFunction(emulator: Emulator, variables: Record<string, string> = {}): Promise<{ name: string; arn: string }> {
  return createFunction(emulator, ROTATION_FUNCTION, variables);
}

/** A secret with one AWSCURRENT version; returns its ARN and that version's id. */
export async function createSecret(emulator: Emulator, value = '{"credential":"first"}'): Promise<{ arn: string; versionId: string }> {
  const created = await emulator.sm.send(new CreateSecretCommand({ Name: uniqueName('keyroll/test'), SecretString: value }));
  return { arn: created.ARN!, versionId: created.VersionId! };
}

/** Every line a function logged that starts with `prefix`, in order. */
export async function loggedLines(emulator: Emulator, functionName: string, prefix: string): Promise<string[]> {
  const lines: Array<{ at: number; text: string }> = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await emulator.logs.send(new FilterLogEventsCommand({ logGroupName: `/aws/lambda/${functionName}`, nextToken }));
      for (const event of page.events ?? []) {
        const at = (event.message ?? '').indexOf(prefix);
        if (at >= 0) lines.push({ at: event.timestamp ?? 0, text: (event.message ?? '').slice(at + prefix.length) });
      }
      nextToken = page.nextToken;
    } while (nextToken);
  } catch (error) {
    // No invocation yet: no log group.
    if ((error as Error).name === 'ResourceNotFoundException') return [];
    throw error;
  }
  return lines.sort((a, b) => a.at - b.at).map((line) => line.text);
}

export async function stepsSeen(emulator: Emulator, functionName: string): Promise<StepSeen[]> {
  return (await loggedLines(emulator, functionName, 'STEP ')).map((line) => JSON.parse(line) as StepSeen);
}

/** Polls `probe` until it returns a value that is not undefined. */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
