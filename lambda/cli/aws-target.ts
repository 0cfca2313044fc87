/**
 * Where a CLI command that calls AWS itself (rotate, rotation) sends its calls: the emulator that
 * AWS_ENDPOINT_URL names (loopback), else the one a running `keyroll start` started (so the commands
 * `npm start` prints work as printed from another terminal), else AWS. The same rule as
 * `keyroll devices` (devices/iot-target.ts) and `keyroll status`.
 */
import { isLocalEndpoint, localAwsAnswers, useLocalAwsDefaults } from '../deploy-env/local-endpoint';
import { CliError } from './cli-error';
import { noLocalAws } from './local-aws-probe';
import { readLiveRunFile } from './run-file';

export interface AwsTarget {
  /** The endpoint SDK clients must use; absent for AWS's own. */
  readonly endpoint?: string;
  /** Whether it is the emulator. */
  readonly local: boolean;
  /** For people: `local AWS at http://127.0.0.1:4566 (AWS_ENDPOINT_URL)`, `AWS`. */
  readonly description: string;
  /** The command that deploys the platform and the keys file to this target, for fixes. */
  readonly deployCommand: string;
}

/** @throws CliError LOCAL_AWS_UNREACHABLE when the emulator it would use does not answer */
export async function resolveAwsTarget(env: NodeJS.ProcessEnv = process.env): Promise<AwsTarget> {
  const configured = env.AWS_ENDPOINT_URL;
  const live = configured ? undefined : readLiveRunFile();
  const emulator = configured && isLocalEndpoint(configured) ? configured : live?.emulatorEndpoint;
  if (emulator) {
    // Without this, a stopped emulator shows up as the SDK's retries ending in ECONNREFUSED.
    if (!(await localAwsAnswers(emulator))) throw noLocalAws(emulator);
    // A start's emulator: every SDK client this command makes goes there too (region, test credentials).
    if (!configured) useLocalAwsDefaults(emulator, env);
    const from = configured ? 'AWS_ENDPOINT_URL' : `the running keyroll start, pid ${live!.pid}`;
    return { endpoint: emulator, local: true, description: `local AWS at ${emulator} (${from})`, deployCommand: `AWS_ENDPOINT_URL=${emulator} npm run deploy:local` };
  }
  if (configured) return { endpoint: configured, local: false, description: `the AWS endpoint ${configured} (AWS_ENDPOINT_URL)`, deployCommand: 'npm run deploy' };
  return { local: false, description: 'AWS', deployCommand: 'npm run deploy' };
}

const CREDENTIALS_FIX =
  'For local AWS, run `npm start` (which this command then finds) or set AWS_ENDPOINT_URL to a running `npx keyroll local-aws`. For AWS, set AWS_REGION and credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).';

/**
 * An AWS SDK failure as a CliError saying what was being done and what to check. Only the error's
 * name and message are kept: none of the calls this wraps carries a credential.
 * @param permission the IAM action the call needs, e.g. `lambda:InvokeFunction on keyroll-rotation`
 */
export function awsFailure(error: unknown, what: string, permission: string): CliError {
  const name = (error as { name?: string }).name ?? 'Error';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'CredentialsProviderError' || /could not load credentials|region is missing/i.test(message)) {
    return new CliError('NO_AWS_CREDENTIALS', `${what}: no AWS credentials or region (${message}). ${CREDENTIALS_FIX}`);
  }
  if (/AccessDenied|UnauthorizedOperation|NotAuthorized/i.test(name)) {
    return new CliError('AWS_ACCESS_DENIED', `${what}: ${name}: ${message} Your credentials need ${permission}.`);
  }
  return new CliError('AWS_REQUEST_FAILED', `${what}: ${name}: ${message} Check that AWS answers, and that your credentials allow ${permission}; then rerun.`);
}
