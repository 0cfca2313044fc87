/** Small helpers for inline IAM policy documents, so each grant reads as what it allows. */

/** IAM condition block: operator → condition key → value(s), e.g. `{ StringEquals: { 'aws:SourceAccount': account } }`. */
export type Conditions = Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;

export interface Grant {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  /** @default none */
  readonly conditions?: Conditions;
}

export function policyDocument(...grants: Grant[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: grants.map((grant) => ({
      Effect: 'Allow',
      Action: grant.actions,
      Resource: grant.resources,
      ...(grant.conditions ? { Condition: grant.conditions } : {}),
    })),
  });
}

/** A role's trust policy: `service` (e.g. `lambda.amazonaws.com`) may assume it, under `conditions` if given. */
export function assumeRolePolicy(service: string, conditions?: Conditions): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole', ...(conditions ? { Condition: conditions } : {}) }],
  });
}

/**
 * Use of a customer-managed KMS key, only through Secrets Manager and only for one secret (the
 * encryption context Secrets Manager sets carries the secret's ARN).
 * See https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html
 */
export function secretKmsGrant(actions: readonly string[], kmsKeyArn: string, secretArn: string, region: string): Grant {
  return {
    actions,
    resources: [kmsKeyArn],
    conditions: {
      StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com`, 'kms:EncryptionContext:SecretARN': secretArn },
    },
  };
}
