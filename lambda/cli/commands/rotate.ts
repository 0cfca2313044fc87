/**
 * `keyroll rotate --tenant T (--key NAME | --all) [--emergency] [--wait [seconds]] [--json]`:
 * starts rotations of declared keys now, through Secrets Manager's RotateSecret on their secrets
 * (the rotation function and schedule the deploy configured). Progress per key on stderr, a
 * summary, and exit 1 if any could not be started. `--json` prints what was started on stdout.
 */
import { randomUUID } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Command, InvalidArgumentError } from 'commander';
import { KEY_NAME_PATTERN } from '../../declared-key/fields';
import { consumerCacheSecondsFromEnv } from '../../deploy-env/consumer-cache';
import { tenantSchema } from '../../keys/key-input';
import { RotationRecordStore } from '../../rotate/rotation-record';
import { createDocumentClient } from '../../store/dynamodb-client';
import { tableNamesFromEnv } from '../../tables/table-names';
import { resolveAwsTarget } from '../aws-target';
import { CliError } from '../cli-error';
import { RotationFunction } from '../rotation/rotation-function';
import { emergencyWarning } from '../rotation/rotation-text';
import { rotatableKeys, startRotation, type StartedRotation } from '../rotation/start-rotation';
import { waitForRotations } from '../rotation/wait-for-rotation';

export interface RotateOptions {
  readonly tenant: string;
  readonly key?: string;
  readonly all?: boolean;
  readonly emergency?: boolean;
  /** Seconds; `true` for a bare `--wait`. */
  readonly wait?: number | true;
  readonly json?: boolean;
}

/** A bare `--wait`: a rotation's four steps take seconds, SM's retries of a failing one minutes. */
export const DEFAULT_WAIT_SECONDS = 300;

const err = (line: string) => process.stderr.write(`${line}\n`);

export function registerRotateCommand(program: Command): void {
  program
    .command('rotate')
    .description(
      'Rotate declared keys now, through Secrets Manager (RotateSecret): every consumer moves to a new credential before the old one stops working. Watch with `keyroll rotation status`.',
    )
    .requiredOption('--tenant <tenant>', 'tenant whose keys to rotate')
    .option('--key <name>', 'the declared key to rotate (its name in keys.yaml)')
    .option('--all', 'every declared key of the tenant that has rotation configured')
    .option('--emergency', 'the old credential leaked: retire it as soon as the declared consumers hold the new one, with no drain')
    .option('--wait [seconds]', `wait until each rotation is done (draining, idle or failed), at most this long (default ${DEFAULT_WAIT_SECONDS})`, parseWaitSeconds)
    .option('--json', 'print the rotations started as JSON on stdout')
    .action(rotateCommand);
}

export function parseWaitSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new InvalidArgumentError('must be a number of seconds, more than 0.');
  return seconds;
}

export async function rotateCommand(options: RotateOptions): Promise<void> {
  const { tenant } = options;
  if (!tenantSchema.safeParse(tenant).success) {
    throw new CliError('INVALID_TENANT', `--tenant ${JSON.stringify(tenant)} is not a tenant: it must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit.`);
  }
  if (options.key !== undefined && options.all) throw new CliError('KEY_OR_ALL', 'Give --key <name> or --all, not both.');
  if (options.key === undefined && !options.all) {
    throw new CliError('KEY_OR_ALL', `Name the key to rotate with --key <name>, or rotate every declared key of ${tenant} with --all.`);
  }
  if (options.key !== undefined && !KEY_NAME_PATTERN.test(options.key)) {
    throw new CliError(
      'INVALID_KEY_NAME',
      `--key ${JSON.stringify(options.key)} is not a declared key's name: those are 1-63 lowercase letters, digits or dashes, as in keys.yaml. \`keyroll rotation status --tenant ${tenant}\` lists them.`,
    );
  }

  const target = await resolveAwsTarget();
  const secrets = new SecretsManagerClient({ ...(target.endpoint ? { endpoint: target.endpoint } : {}), maxAttempts: 3 });
  const keysTable = tableNamesFromEnv().keys;
  let records: RotationRecordStore | undefined;
  const deps = {
    secrets,
    target,
    keysTable,
    leaseOwner: `cli-rotate:${randomUUID()}`,
    records: () => (records ??= new RotationRecordStore(createDocumentClient(), keysTable)),
  };
  try {
    const names = options.key !== undefined ? [options.key] : await rotatableKeys(deps, tenant);
    if (names.length === 0) {
      throw new CliError(
        'NO_ROTATION_CONFIGURED',
        `Tenant ${tenant} has no declared key with rotation configured on ${target.description} (no secret keyroll/${tenant}/* rotates). ` +
          `Declare \`rotation: { everyDays, graceMinutes }\` for its keys in keys.yaml and deploy (\`${target.deployCommand}\`).`,
      );
    }
    if (options.emergency) err(emergencyWarning(consumerCacheSecondsFromEnv()));

    const started: StartedRotation[] = [];
    const failed: { name: string; code: string; message: string }[] = [];
    for (const name of names) {
      process.stderr.write(`rotating ${tenant}/${name} … `);
      try {
        const rotation = await startRotation(deps, tenant, name, { emergency: options.emergency ?? false });
        started.push(rotation);
        process.stderr.write(`started (version ${rotation.versionId})${rotation.emergency ? ', emergency' : ''}\n`);
      } catch (error) {
        if (!(error instanceof CliError)) {
          process.stderr.write('failed\n');
          throw error;
        }
        failed.push({ name, code: error.code, message: error.message });
        process.stderr.write(`failed: ${error.code}: ${error.message}\n`);
      }
    }
    err(summary(tenant, started.length, failed.length));
    if (started.length > 0 && options.wait === undefined) {
      err(`Watch with \`keyroll rotation status --tenant ${tenant}\` (or CloudTrail's RotationStarted, RotationSucceeded and RotationFailed events); the sweep retires each old credential once nothing uses it.`);
    }

    /** Rotations that did not end well within the wait: still rotating, or failed. */
    let unfinished = 0;
    if (started.length > 0 && options.wait !== undefined) {
      const rotation = new RotationFunction(target);
      try {
        const seconds = options.wait === true ? DEFAULT_WAIT_SECONDS : options.wait;
        const waited = await waitForRotations((t) => rotation.status(t), started, { timeoutMs: seconds * 1000, intervalMs: target.local ? 500 : 2000, say: err });
        unfinished = waited.unsettled.length;
        if (unfinished > 0) {
          err(
            `Still rotating after ${seconds} s: ${waited.unsettled.map((r) => `${r.tenant}/${r.name}`).join(', ')}. ` +
              `\`keyroll rotation status --tenant ${tenant}\` follows it; a failing step shows there, in CloudTrail's RotationFailed events and in /aws/lambda/${rotation.functionName}.`,
          );
        }
        unfinished += waited.settled.filter((status) => status.phase === 'failed').length;
      } finally {
        rotation.destroy();
      }
    }
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ started, failed }, null, 2)}\n`);
    }
    if (failed.length > 0 || unfinished > 0) process.exitCode = 1;
  } finally {
    secrets.destroy();
  }
}

function summary(tenant: string, started: number, failed: number): string {
  const rotations = (n: number) => (n === 1 ? '1 rotation' : `${n} rotations`);
  if (failed === 0) return `Started ${rotations(started)} for tenant ${tenant}.`;
  return `Started ${rotations(started)} for tenant ${tenant}; ${failed} could not be started (above, with what to do).`;
}
