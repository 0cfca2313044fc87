/**
 * Starts the rotation of a declared key from the API (`POST …/regenerate`), through Secrets
 * Manager's own RotateSecret, as `aws secretsmanager rotate-secret` would: the rotation Lambda then
 * moves every consumer to the new credential before the old one stops working. No credential
 * passes through here; the service only asks Secrets Manager to begin.
 */
import { DescribeSecretCommand, type DescribeSecretCommandOutput, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { errors } from '../errors';
import type { ApiKeyRecord, DeclaredKey } from '../keys/key-record';

/** What the API answers (202) once Secrets Manager has accepted the rotation. */
export interface StartedRotation {
  readonly keyId: string;
  readonly name: string;
  readonly secretArn: string;
  /** The new secret version, Secrets Manager's ClientRequestToken for the rotation's steps. */
  readonly versionId: string;
  readonly state: 'rotating';
  /** The same, in `keyroll rotation status`'s words. */
  readonly phase: 'rotating';
}

export interface KeyRotationsOptions {
  /** @default new SecretsManagerClient({ maxAttempts: 3 }) (region and endpoint from the SDK's configuration) */
  readonly secrets?: SecretsManagerClient;
}

export class KeyRotations {
  private readonly secrets: SecretsManagerClient;

  constructor(options: KeyRotationsOptions = {}) {
    this.secrets = options.secrets ?? new SecretsManagerClient({ maxAttempts: 3 });
  }

  /**
   * Refuses with ROTATION_NOT_CONFIGURED or ROTATION_IN_PROGRESS (409) when Secrets Manager would,
   * judged from DescribeSecret first: RotateSecret answers both with the same InvalidRequest, and a
   * secret without a rotation function must never be "rotated" (the emulator would then promote an
   * empty version over the key's credential).
   */
  async start(record: ApiKeyRecord, declared: DeclaredKey): Promise<StartedRotation> {
    const secret = await this.describe(record, declared);
    const notConfigured = (reason: string) => errors.rotationNotConfigured(record.id, declared.name, reason);
    if (secret.DeletedDate) throw notConfigured(`its secret \`${declared.secretArn}\` is scheduled for deletion`);
    if (!secret.RotationEnabled || !secret.RotationLambdaARN) throw notConfigured(`its secret \`${declared.secretArn}\` has no rotation configured`);
    const pendingVersion = Object.entries(secret.VersionIdsToStages ?? {}).find(
      ([, stages]) => stages.includes('AWSPENDING') && !stages.includes('AWSCURRENT'),
    )?.[0];
    if (pendingVersion) throw errors.rotationInProgress(record.id, `Secrets Manager version \`${pendingVersion}\` of its secret is AWSPENDING`);
    try {
      // SecretId alone: the secret's own rotation function and schedule, as the deploy configured them.
      const rotated = await this.secrets.send(new RotateSecretCommand({ SecretId: declared.secretArn }));
      return { keyId: record.id, name: declared.name, secretArn: rotated.ARN ?? declared.secretArn, versionId: rotated.VersionId ?? '', state: 'rotating', phase: 'rotating' };
    } catch (error) {
      throw refusal(error, record, declared) ?? error;
    }
  }

  private async describe(record: ApiKeyRecord, declared: DeclaredKey): Promise<DescribeSecretCommandOutput> {
    try {
      return await this.secrets.send(new DescribeSecretCommand({ SecretId: declared.secretArn }));
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') {
        throw errors.rotationNotConfigured(record.id, declared.name, `its secret \`${declared.secretArn}\` does not exist`);
      }
      throw error;
    }
  }
}

/** RotateSecret's refusals that are the caller's to fix (or wait out), as 409s; anything else stays a fault. */
function refusal(error: unknown, record: ApiKeyRecord, declared: DeclaredKey) {
  const name = errorName(error);
  if (name !== 'InvalidRequestException' && name !== 'ResourceNotFoundException') return undefined;
  const message = error instanceof Error ? error.message : String(error);
  // A rotation started between our DescribeSecret and RotateSecret (AWS: "A previous rotation isn't complete").
  if (name === 'InvalidRequestException' && /previous rotation|in progress|isn.t complete/i.test(message)) {
    return errors.rotationInProgress(record.id, `Secrets Manager: ${message}`);
  }
  return errors.rotationNotConfigured(record.id, declared.name, `Secrets Manager refused to rotate its secret (${name}: ${message})`);
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}
