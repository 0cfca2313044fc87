/**
 * The Secrets Manager secret that hands a declared key to its consumers: its value, as KeySecretValue
 * JSON, and its versions' staging labels. The provisioner writes new current versions; rotation
 * writes a pending version under Secrets Manager's ClientRequestToken and then moves AWSCURRENT to it.
 *
 * Every read names a version or a label. AWS reads AWSCURRENT when given neither, but the emulator
 * reads a default version that its UpdateSecretVersionStage does not move.
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
  type UpdateSecretVersionStageCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { parseKey } from '../keys/key-format';
import type { ApiKeyRecord } from '../keys/key-record';
import type { KeySecretValue } from '../provision/key-spec';
import { awsCall, awsErrorName } from './aws-errors';
import { handoutErrors } from './errors';

/**
 * The staging labels keyroll reads and moves. AWSCURRENT is what consumers (and `get_secret`) read;
 * AWSPENDING marks the version a rotation is handing out.
 * See https://docs.aws.amazon.com/secretsmanager/latest/userguide/whats-in-a-secret.html
 */
export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';
export type StagingLabel = typeof AWSCURRENT | typeof AWSPENDING;

export type KeySecretRead =
  | {
      readonly status: 'present';
      readonly value: KeySecretValue;
      readonly versionId: string;
      /** The version's staging labels. */
      readonly stages: readonly string[];
      readonly createdAt?: Date;
    }
  | {
      readonly status: 'absent';
      /**
       * `not-found`: no such secret, no such version or label (Terraform creates the secret with no
       * value at all), or the version does not carry the label asked for; `deleted`: scheduled for
       * deletion; `not-a-key`: its value is not a keyroll key secret.
       */
      readonly reason: 'not-found' | 'deleted' | 'not-a-key';
    };

/** Which version to read: by id, by label, or by id when it carries that label. @default { stage: AWSCURRENT } */
export interface VersionSelector {
  readonly versionId?: string;
  readonly stage?: StagingLabel;
}

/** Which version holds each of keyroll's labels. */
export interface SecretVersions {
  /** Undefined while the secret has no value. */
  readonly current?: string;
  /** Undefined when no rotation is under way. */
  readonly pending?: string;
  /** Every version that carries a label, with its labels. */
  readonly stagesByVersion: Readonly<Record<string, readonly string[]>>;
}

const keySecretValueSchema = z.object({
  apiKey: z.string().refine((key) => parseKey(key) !== undefined),
  keyId: z.string().min(1),
  tenant: z.string().min(1),
  name: z.string().min(1),
  environment: z.string().min(1),
});

const READ_FIX = "Check that this function's role may secretsmanager:GetSecretValue on it (and kms:Decrypt on its KMS key).";
const DESCRIBE_FIX = "Check that the secret exists and that this function's role may secretsmanager:DescribeSecret on it.";
const stageFix = (secretArn: string) =>
  `Check that the version exists (aws secretsmanager list-secret-version-ids --secret-id ${secretArn}) and that this function's role may secretsmanager:UpdateSecretVersionStage on the secret.`;

/** The secret's value for a key and its plaintext. */
export function keySecretValue(record: ApiKeyRecord, apiKey: string): KeySecretValue {
  return { apiKey, keyId: record.id, tenant: record.tenant, name: record.name, environment: record.environment };
}

export function sameSecretValue(a: KeySecretValue | undefined, b: KeySecretValue): boolean {
  return !!a && a.apiKey === b.apiKey && a.keyId === b.keyId && a.tenant === b.tenant && a.name === b.name && a.environment === b.environment;
}

/**
 * Reads the key a secret holds now (AWSCURRENT). A secret that is missing, empty, scheduled for
 * deletion or holds something else reads as absent, so callers decide what that means (issue a key,
 * or nothing to revoke).
 */
export async function readKeySecret(secrets: SecretsManagerClient, secretArn: string): Promise<KeySecretRead> {
  return getVersion(
    secrets,
    secretArn,
    { stage: AWSCURRENT },
    `Reading secret ${secretArn}`,
    "Check that the provisioner's role may secretsmanager:GetSecretValue on it (and kms:Decrypt on its KMS key).",
  );
}

/**
 * Reads one version of the secret, by id and/or label (see VersionSelector); absent as for
 * readKeySecret.
 *
 * @example
 * const pending = await readSecretVersion(secrets, secretArn, { versionId: token, stage: AWSPENDING });
 */
export async function readSecretVersion(secrets: SecretsManagerClient, secretArn: string, version: VersionSelector = {}): Promise<KeySecretRead> {
  const which = version.versionId ? `version ${version.versionId}` : `the ${version.stage ?? AWSCURRENT} version`;
  return getVersion(secrets, secretArn, version, `Reading ${which} of secret ${secretArn}`, READ_FIX);
}

/** The secret's JSON as a KeySecretValue, or undefined. Never reports why: the text may hold a key. */
export function parseKeySecret(secretString: string): KeySecretValue | undefined {
  let json: unknown;
  try {
    json = JSON.parse(secretString);
  } catch {
    return undefined;
  }
  const parsed = keySecretValueSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** Writes a new current version of the secret. Consumers that read it from now on get this key. */
export async function writeKeySecret(secrets: SecretsManagerClient, secretArn: string, value: KeySecretValue): Promise<void> {
  await awsCall(
    `Writing key ${value.keyId} to secret ${secretArn}`,
    "Check that the secret exists and is not scheduled for deletion, and that the provisioner's role may secretsmanager:PutSecretValue on it (and kms:GenerateDataKey on its KMS key).",
    () => secrets.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: JSON.stringify(value) })),
  );
}

/**
 * Stores `value` as version `token` of the secret, labelled AWSPENDING: rotation's createSecret, with
 * Secrets Manager's ClientRequestToken as `token`. Repeatable: when version `token` already holds
 * this value nothing is written, whatever its labels are by now. When it holds another value,
 * throws SECRET_VERSION_CONFLICT: a version's value never changes (the emulator would overwrite a
 * pending one, so this is checked here rather than left to the service). The secret's very first
 * version gets AWSCURRENT as well, as Secrets Manager gives it to every first version.
 *
 * @returns `written`, or `unchanged` when the version was already there.
 */
export async function putPendingVersion(secrets: SecretsManagerClient, secretArn: string, token: string, value: KeySecretValue): Promise<'written' | 'unchanged'> {
  const existing = await readSecretVersion(secrets, secretArn, { versionId: token });
  if (existing.status === 'present' || existing.reason === 'not-a-key') return unchangedOrConflict(existing, secretArn, token, value);
  const put = await awsCall(
    `Writing key ${value.keyId} to secret ${secretArn} as pending version ${token}`,
    "Check that the secret exists and is not scheduled for deletion, and that this function's role may secretsmanager:PutSecretValue on it (and kms:GenerateDataKey on its KMS key).",
    async () => {
      try {
        await secrets.send(new PutSecretValueCommand({ SecretId: secretArn, ClientRequestToken: token, SecretString: JSON.stringify(value), VersionStages: [AWSPENDING] }));
        return 'written' as const;
      } catch (error) {
        // Another writer created the version between our read and our write.
        if (awsErrorName(error) === 'ResourceExistsException') return 'exists' as const;
        throw error;
      }
    },
  );
  if (put === 'written') return put;
  return unchangedOrConflict(await readSecretVersion(secrets, secretArn, { versionId: token }), secretArn, token, value);
}

/** Which version holds AWSCURRENT and which AWSPENDING, and every labelled version's labels. */
export async function describeVersions(secrets: SecretsManagerClient, secretArn: string): Promise<SecretVersions> {
  const { VersionIdsToStages: stagesByVersion = {} } = await awsCall(`Describing secret ${secretArn}`, DESCRIBE_FIX, () =>
    secrets.send(new DescribeSecretCommand({ SecretId: secretArn })),
  );
  const holding = (label: StagingLabel) => Object.keys(stagesByVersion).find((versionId) => stagesByVersion[versionId]?.includes(label));
  return { current: holding(AWSCURRENT), pending: holding(AWSPENDING), stagesByVersion };
}

/**
 * Makes version `token` the secret's current one: rotation's finishSecret. Moves AWSCURRENT to it
 * from the version holding it (which Secrets Manager then labels AWSPREVIOUS), then removes
 * AWSPENDING from it: a rotation must end with AWSPENDING on the current version or on none, or the
 * next RotateSecret fails as "still in progress". Each part is skipped when already done, so a
 * retried finishSecret completes what an earlier attempt started.
 */
export async function moveCurrentTo(secrets: SecretsManagerClient, secretArn: string, token: string): Promise<void> {
  const versions = await describeVersions(secrets, secretArn);
  if (versions.current !== token) {
    await updateStage(
      secrets,
      `Moving AWSCURRENT of secret ${secretArn} to version ${token}`,
      { SecretId: secretArn, VersionStage: AWSCURRENT, MoveToVersionId: token, ...(versions.current ? { RemoveFromVersionId: versions.current } : {}) },
      (now) => now.current === token,
    );
  }
  if (versions.stagesByVersion[token]?.includes(AWSPENDING)) await removeStage(secrets, secretArn, AWSPENDING, token);
}

/** Removes AWSPENDING from version `token` (a rotation given up or repaired); nothing to do when it is not there. */
export async function removePendingLabel(secrets: SecretsManagerClient, secretArn: string, token: string): Promise<void> {
  const versions = await describeVersions(secrets, secretArn);
  if (versions.stagesByVersion[token]?.includes(AWSPENDING)) await removeStage(secrets, secretArn, AWSPENDING, token);
}

async function removeStage(secrets: SecretsManagerClient, secretArn: string, label: StagingLabel, versionId: string): Promise<void> {
  await updateStage(
    secrets,
    `Removing ${label} from version ${versionId} of secret ${secretArn}`,
    { SecretId: secretArn, VersionStage: label, RemoveFromVersionId: versionId },
    (now) => !now.stagesByVersion[versionId]?.includes(label),
  );
}

/**
 * UpdateSecretVersionStage, repeatable: when it is refused as invalid (the label is no longer where
 * we saw it), the secret is described once more, and labels that are already as `done` wants them
 * count as success: a concurrent or earlier attempt did the move.
 */
async function updateStage(
  secrets: SecretsManagerClient,
  what: string,
  input: UpdateSecretVersionStageCommandInput & { SecretId: string },
  done: (versions: SecretVersions) => boolean,
): Promise<void> {
  try {
    await secrets.send(new UpdateSecretVersionStageCommand(input));
  } catch (error) {
    if (awsErrorName(error) === 'InvalidParameterException' && done(await describeVersions(secrets, input.SecretId))) return;
    throw handoutErrors.awsRequestFailed(what, error, stageFix(input.SecretId));
  }
}

function unchangedOrConflict(existing: KeySecretRead, secretArn: string, token: string, value: KeySecretValue): 'unchanged' {
  if (existing.status === 'present' && sameSecretValue(existing.value, value)) return 'unchanged';
  throw handoutErrors.secretVersionConflict(secretArn, token);
}

async function getVersion(secrets: SecretsManagerClient, secretArn: string, version: VersionSelector, what: string, fix: string): Promise<KeySecretRead> {
  const { versionId, stage } = version;
  const output = await awsCall<GetSecretValueCommandOutput | { absent: 'not-found' | 'deleted' }>(what, fix, async () => {
    try {
      // By id alone when given: AWS and the emulator refuse an id and a label that do not match
      // with different errors, so the label is checked below instead.
      return await secrets.send(new GetSecretValueCommand({ SecretId: secretArn, ...(versionId ? { VersionId: versionId } : { VersionStage: stage ?? AWSCURRENT }) }));
    } catch (error) {
      const name = awsErrorName(error);
      if (name === 'ResourceNotFoundException') return { absent: 'not-found' };
      if (name === 'InvalidRequestException' && /marked.*delet/i.test((error as Error).message)) return { absent: 'deleted' };
      throw error;
    }
  });
  if ('absent' in output) return { status: 'absent', reason: output.absent };
  const stages = output.VersionStages ?? [];
  if (versionId && stage && !stages.includes(stage)) return { status: 'absent', reason: 'not-found' };
  const value = parseKeySecret(output.SecretString ?? '');
  if (!value || !output.VersionId) return { status: 'absent', reason: 'not-a-key' };
  return { status: 'present', value, versionId: output.VersionId, stages, ...(output.CreatedDate ? { createdAt: output.CreatedDate } : {}) };
}
