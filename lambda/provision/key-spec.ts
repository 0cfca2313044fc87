/**
 * The provisioner's side of a declared key ("spec"): where its item lives, how it becomes a key,
 * and what a deploy passes to the provisioner and gets back. Terraform writes the spec as a DynamoDB
 * item it owns (its shape: lambda/declared-key/contract.ts); the provisioner reads it and makes the
 * real key match. The runtime never writes a spec (its IAM role cannot: see specItemKey), so
 * Terraform never sees drift in it. It holds configuration only, never a secret.
 */
import { z } from 'zod';
import { type KeySpec } from '../declared-key/contract';
import { specItemKey } from '../tables/table-layout';
import { createKeyInputSchema, nameSchema, tenantSchema } from '../keys/key-input';

/** The spec's shape is the declared-key contract's; re-exported for the provisioner's modules. */
export { type InlineIotRule, inlineConsumersOf, inlineIotRuleSchema, type KeySpec, keySpecSchema, type WrittenConsumer, writtenConsumersOfType } from '../declared-key/contract';

/**
 * Where a spec lives in the keys table: a partition of its own per tenant, apart from `TENANT#…` and
 * `SECRET#…`, the only partitions the key service's role may touch (a `dynamodb:LeadingKeys`
 * condition), so the internet-facing service can never write what the provisioner acts on.
 */
export { specItemKey };

/** The spec as the input the key manager takes to create a key: the fields the two share. */
export function createInputFromSpec(spec: KeySpec) {
  const fields = Object.keys(createKeyInputSchema.shape) as (keyof typeof createKeyInputSchema.shape)[];
  return createKeyInputSchema.parse(Object.fromEntries(fields.map((field) => [field, spec[field]])));
}

/**
 * What a deploy passes to the provisioner Lambda (through `aws_lambda_invocation`, so it lands in
 * Terraform state): ids, ARNs and a digest of the spec, never the key.
 */
export const provisionInputSchema = z.strictObject({
  tenant: tenantSchema,
  name: nameSchema,
  secretArn: z.string().startsWith('arn:', 'must be the ARN of the Secrets Manager secret that holds the key'),
  /** Changes whenever the spec does, so Terraform sends an update. */
  specDigest: z.string().min(1),
});
export type ProvisionInput = z.infer<typeof provisionInputSchema>;

/** What the provisioner returns, stored in state as the invocation's result: ids and ARNs only. */
export interface ProvisionResult {
  readonly keyId: string;
  readonly secretArn: string;
  readonly inlineRuleArns: readonly string[];
}

/** The secret's JSON: the consumers read `apiKey`; the rest tells the rotation which key it is. */
export interface KeySecretValue {
  readonly apiKey: string;
  readonly keyId: string;
  readonly tenant: string;
  readonly name: string;
  readonly environment: string;
}
