/** Helpers for the local AWS emulator tests: client settings, function zips and Node functions. */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CreateRoleCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { type CreateFunctionCommandInput, CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';

/** Settings for SDK clients, from the variables test/support/global-setup.ts sets. */
export function emulatorClientConfig(): { endpoint: string; region: string } {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (!endpoint) throw new Error('AWS_ENDPOINT_URL is not set: run these tests through jest, whose globalSetup starts the emulator.');
  return { endpoint, region: process.env.AWS_REGION ?? 'us-east-1' };
}

/** A name no other test in this run uses, since all share one emulator. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** Zips `files` (path → content) with Python's zipfile, which the emulator already requires. */
export function zip(files: Record<string, string>): Uint8Array {
  const script = [
    'import io, json, sys, zipfile',
    'buffer = io.BytesIO()',
    'with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:',
    '    for name, content in json.load(sys.stdin).items(): archive.writestr(name, content)',
    'sys.stdout.buffer.write(buffer.getvalue())',
  ].join('\n');
  return execFileSync(process.env.KEYROLL_PYTHON ?? 'python3', ['-c', script], { input: JSON.stringify(files) });
}

const ROLE_NAME = 'keyroll-local-aws-test';

/** moto, like Lambda, refuses CreateFunction unless the execution role exists. */
async function executionRoleArn(): Promise<string> {
  const iam = new IAMClient(emulatorClientConfig());
  try {
    return (await iam.send(new GetRoleCommand({ RoleName: ROLE_NAME }))).Role!.Arn!;
  } catch {
    const assumeRole = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    const created = await iam.send(new CreateRoleCommand({ RoleName: ROLE_NAME, AssumeRolePolicyDocument: JSON.stringify(assumeRole) }));
    return created.Role!.Arn!;
  } finally {
    iam.destroy();
  }
}

/** Creates a Node function from source files; returns its generated name. */
export async function createNodeFunction(
  lambda: LambdaClient,
  files: Record<string, string>,
  config: Partial<Omit<CreateFunctionCommandInput, 'Code' | 'FunctionName'>> = {},
): Promise<string> {
  const name = uniqueName('fn');
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Role: await executionRoleArn(),
      Code: { ZipFile: zip(files) },
      ...config,
    }),
  );
  return name;
}

export function decodePayload(payload: Uint8Array | undefined): unknown {
  return JSON.parse(Buffer.from(payload ?? []).toString('utf8'));
}
