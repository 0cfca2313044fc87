/** The Secrets Manager secret that hands a declared key to its consumers, read and written as KeySecretValue JSON. */
import { GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { parseKey } from '../keys/key-format';
import type { ApiKeyRecord } from '../keys/key-record';
import { awsCall, awsErrorName } from './errors';
import type { KeySecretValue } from './key-spec';

export type KeySecretRead =
  | { readonly status: 'present'; readonly value: KeySecretValue }
  | {
      readonly status: 'absent';
      /**
       * `not-found`: no such secret, or it has no current value yet (Terraform creates it empty);
       * `deleted`: scheduled for deletion; `not-a-key`: its value is not a keyroll key secret.
       */
      readonly reason: 'not-found' | 'deleted' | 'not-a-key';
    };

const keySecretValueSchema = z.object({
  apiKey: z.string().refine((key) => parseKey(key) !== undefined),
  keyId: z.string().min(1),
  tenant: z.string().min(1),
  name: z.string().min(1),
  environment: z.string().min(1),
});

/** The secret's value for a key and its plaintext. */
export function keySecretValue(record: ApiKeyRecord, apiKey: string): KeySecretValue {
  return { apiKey, keyId: record.id, tenant: record.tenant, name: record.name, environment: record.environment };
}

/**
 * Reads the key a secret holds. A secret that is missing, empty, scheduled for deletion or holds
 * something else reads as absent, so callers decide what that means (issue a key, or nothing to revoke).
 */
export async function readKeySecret(secrets: SecretsManagerClient, secretArn: string): Promise<KeySecretRead> {
  const secretString = await awsCall(
    `Reading secret ${secretArn}`,
    "Check that the provisioner's role may secretsmanager:GetSecretValue on it (and kms:Decrypt on its KMS key).",
    async () => {
      try {
        return (await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString ?? '';
      } catch (error) {
        const name = awsErrorName(error);
        if (name === 'ResourceNotFoundException') return { absent: 'not-found' as const };
        if (name === 'InvalidRequestException' && /marked.*delet/i.test((error as Error).message)) return { absent: 'deleted' as const };
        throw error;
      }
    },
  );
  if (typeof secretString !== 'string') return { status: 'absent', reason: secretString.absent };
  const value = parseKeySecret(secretString);
  return value ? { status: 'present', value } : { status: 'absent', reason: 'not-a-key' };
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
