/**
 * Starting a declared key's rotation now, as `aws secretsmanager rotate-secret` would: RotateSecret
 * on its secret `keyroll/<tenant>/<name>`, with the rotation function and schedule the deploy
 * configured. Checked first from DescribeSecret, so each refusal says what to do. An emergency
 * rotation is asked for in the key's rotation record first (under its lease), where the rotation's
 * createSecret takes it up.
 */
import { DescribeSecretCommand, type DescribeSecretCommandOutput, paginateListSecrets, RotateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { KEY_NAME_PATTERN } from '../../declared-key/fields';
import { type RotationState, withEmergencyRequested } from '../../rotate/rotation-plan';
import { KeyBusyError, type RotationRecordStore, withKeyLease } from '../../rotate/rotation-record';
import { type AwsTarget, awsFailure } from '../aws-target';
import { CliError } from '../cli-error';

export interface StartRotationDeps {
  readonly secrets: SecretsManagerClient;
  /** The keys table's rotation records; only an emergency rotation writes one. */
  readonly records: () => RotationRecordStore;
  readonly target: AwsTarget;
  /** Who takes the key's lease while marking an emergency, e.g. `cli-rotate:<uuid>`. */
  readonly leaseOwner: string;
  /** The keys table, for messages. */
  readonly keysTable: string;
}

export interface StartedRotation {
  readonly tenant: string;
  readonly name: string;
  readonly secretArn: string;
  /** The new secret version: Secrets Manager's ClientRequestToken for the four steps. */
  readonly versionId: string;
  readonly emergency: boolean;
}

/** The lease is held only to write the mark: a few calls. */
const MARK_LEASE_MS = 15_000;
/** How long to wait for a lease another holder has (a step, the sweep, a deploy) before KEY_BUSY. */
const MARK_LEASE_WAIT_MS = 5_000;

export const secretNameOf = (tenant: string, name: string) => `keyroll/${tenant}/${name}`;

/**
 * The tenant's declared keys whose secrets have rotation configured, by name: ListSecrets filtered
 * on the name prefix `keyroll/<tenant>/` (one call per page, no DescribeSecret per key).
 */
export async function rotatableKeys(deps: Pick<StartRotationDeps, 'secrets' | 'target'>, tenant: string): Promise<string[]> {
  const prefix = `keyroll/${tenant}/`;
  const names: string[] = [];
  try {
    for await (const page of paginateListSecrets({ client: deps.secrets }, { Filters: [{ Key: 'name', Values: [prefix] }], MaxResults: 100 })) {
      for (const secret of page.SecretList ?? []) {
        // The filter is a prefix match that AWS documents as case-insensitive: check exactly.
        const name = secret.Name?.startsWith(prefix) ? secret.Name.slice(prefix.length) : undefined;
        if (name && KEY_NAME_PATTERN.test(name) && secret.RotationEnabled && !secret.DeletedDate) names.push(name);
      }
    }
  } catch (error) {
    throw awsFailure(error, `Listing the secrets of tenant ${tenant} (${prefix}*) on ${deps.target.description}`, 'secretsmanager:ListSecrets');
  }
  return names.sort();
}

/** @throws CliError KEY_NOT_DEPLOYED, ROTATION_NOT_CONFIGURED, ROTATION_IN_PROGRESS, KEY_BUSY, ROTATION_REFUSED, … */
export async function startRotation(deps: StartRotationDeps, tenant: string, name: string, options: { readonly emergency?: boolean } = {}): Promise<StartedRotation> {
  const key = `${tenant}/${name}`;
  const secretName = secretNameOf(tenant, name);
  const secret = await describe(deps, tenant, name);
  if (!secret.RotationEnabled || !secret.RotationLambdaARN) {
    throw new CliError(
      'ROTATION_NOT_CONFIGURED',
      `Key ${key} has no rotation configured (its secret ${secretName} has no rotation function). Declare \`rotation: { everyDays, graceMinutes }\` for it in keys.yaml and deploy (\`${deps.target.deployCommand}\`), then rotate.`,
    );
  }
  const pending = Object.entries(secret.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSPENDING') && !stages.includes('AWSCURRENT'))?.[0];
  if (pending) throw inProgress(key, tenant, `version ${pending} is still AWSPENDING`);

  const emergency = options.emergency ?? false;
  const marked = emergency ? await markEmergency(deps, tenant, name) : undefined;
  try {
    // SecretId alone: the secret's own rotation function and schedule, as the deploy configured them.
    const rotated = await deps.secrets.send(new RotateSecretCommand({ SecretId: secret.ARN ?? secretName }));
    return { tenant, name, secretArn: rotated.ARN ?? secret.ARN ?? secretName, versionId: rotated.VersionId ?? '', emergency };
  } catch (error) {
    // Not rotated: a mark left behind would make the next scheduled rotation an emergency.
    if (marked) await unmarkEmergency(deps, tenant, name, marked).catch(() => undefined);
    throw rotateFailure(deps, error, tenant, name);
  }
}

async function describe(deps: StartRotationDeps, tenant: string, name: string): Promise<DescribeSecretCommandOutput> {
  const secretName = secretNameOf(tenant, name);
  const notDeployed = (why: string) =>
    new CliError(
      'KEY_NOT_DEPLOYED',
      `Key ${tenant}/${name} is not deployed: ${why} on ${deps.target.description}. Check the name (\`keyroll rotation status --tenant ${tenant}\` lists the tenant's declared keys), or declare it in keys.yaml and deploy (\`${deps.target.deployCommand}\`).`,
    );
  let secret: DescribeSecretCommandOutput;
  try {
    secret = await deps.secrets.send(new DescribeSecretCommand({ SecretId: secretName }));
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') throw notDeployed(`there is no secret ${secretName}`);
    throw awsFailure(error, `Describing secret ${secretName} on ${deps.target.description}`, `secretsmanager:DescribeSecret on ${secretName}`);
  }
  if (secret.DeletedDate) throw notDeployed(`its secret ${secretName} is scheduled for deletion`);
  return secret;
}

function inProgress(key: string, tenant: string, why: string): CliError {
  return new CliError(
    'ROTATION_IN_PROGRESS',
    `The previous rotation of ${key} isn't complete (${why}). \`keyroll rotation status --tenant ${tenant}\` shows where it stands; ` +
      'Secrets Manager retries a failed one, and `keyroll rotation sweep` repairs a stuck one (every consumer back on the current credential). Rotate again once it is done.',
  );
}

function rotateFailure(deps: StartRotationDeps, error: unknown, tenant: string, keyName: string): CliError {
  if (error instanceof CliError) return error;
  const key = `${tenant}/${keyName}`;
  const name = (error as Error).name;
  const message = error instanceof Error ? error.message : String(error);
  // A rotation that began between DescribeSecret and RotateSecret: AWS's "A previous rotation isn't complete".
  if (name === 'InvalidRequestException' && /previous rotation|isn.t complete|in progress/i.test(message)) return inProgress(key, tenant, `Secrets Manager: ${message}`);
  if (name === 'InvalidRequestException' || name === 'ResourceNotFoundException') {
    return new CliError(
      'ROTATION_REFUSED',
      `Secrets Manager refused to rotate ${key}: ${name}: ${message} If its rotation function is gone, deploy the platform and the keys again (\`${deps.target.deployCommand}\`).`,
    );
  }
  return awsFailure(error, `Rotating ${key} (RotateSecret) on ${deps.target.description}`, `secretsmanager:RotateSecret on ${secretNameOf(tenant, keyName)}`);
}

interface Mark {
  /** The rotation the record named before the mark: a createSecret since then took the mark up. */
  readonly versionId?: string;
}

/** Asks for an emergency in the key's rotation record: the next createSecret takes it up (rotation-plan.ts). */
async function markEmergency(deps: StartRotationDeps, tenant: string, name: string): Promise<Mark> {
  return recordCall(deps, tenant, name, 'marking the emergency', async (records) => {
    const record = await records.get(tenant, name);
    await records.save(tenant, name, withEmergencyRequested(record.state), record.version);
    return { ...(record.state.versionId ? { versionId: record.state.versionId } : {}) };
  });
}

async function unmarkEmergency(deps: StartRotationDeps, tenant: string, name: string, mark: Mark): Promise<void> {
  await recordCall(deps, tenant, name, 'taking the emergency mark back', async (records) => {
    const record = await records.get(tenant, name);
    if (!record.state.emergencyRequested || record.state.versionId !== mark.versionId) return;
    const { emergencyRequested: _dropped, ...state }: RotationState = record.state;
    await records.save(tenant, name, state, record.version);
  });
}

async function recordCall<T>(deps: StartRotationDeps, tenant: string, name: string, what: string, work: (records: RotationRecordStore) => Promise<T>): Promise<T> {
  const records = deps.records();
  try {
    // A step or a sweep holds the lease well under a second: wait that out rather than refuse.
    return await withKeyLease(records, tenant, name, deps.leaseOwner, MARK_LEASE_MS, () => work(records), { waitMs: MARK_LEASE_WAIT_MS });
  } catch (error) {
    if (error instanceof KeyBusyError) {
      throw new CliError('KEY_BUSY', `${error.message} \`keyroll rotation status --tenant ${tenant}\` shows what it is doing; rerun \`keyroll rotate --emergency\` after that.`);
    }
    if ((error as { code?: string }).code === 'ROTATION_CONFLICT') {
      throw new CliError('KEY_BUSY', `The rotation record of ${tenant}/${name} changed while ${what}: a rotation step or the sweep got there first. Rerun \`keyroll rotate --emergency\`.`);
    }
    if ((error as Error).name === 'ResourceNotFoundException') {
      throw new CliError(
        'KEYS_TABLE_NOT_FOUND',
        `No keys table ${deps.keysTable} on ${deps.target.description} (needed for ${what}). Deploy the platform first (\`${deps.target.deployCommand}\`), or set KEYROLL_KEYS_TABLE to its name.`,
      );
    }
    throw awsFailure(error, `${what[0].toUpperCase()}${what.slice(1)} of ${tenant}/${name} in table ${deps.keysTable}`, `dynamodb:GetItem, UpdateItem and TransactWriteItems on ${deps.keysTable}`);
  }
}
