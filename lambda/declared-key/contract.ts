/**
 * The contract of a declared key: what keys.yaml and `new ApiKey()` take (`apiKeyPropsSchema`), and
 * the spec the ApiKey construct derives from it for the provisioner and rotation (`keySpecSchema`).
 * Both are built from the same field schemas (fields.ts, consumers.ts), and their types are
 * inferred from them, so a field is listed once. The checks that need more than one field (an
 * expiry in the past, a grace under IoT's cache, a repeated consumer) are stacks/keys/api-key-props.ts.
 */
import { z } from 'zod';
import { customerIdSchema, environmentSchema, expiresAtSchema, nameSchema, permissionsSchema, rateLimitSchema, tagsSchema, tenantSchema } from '../keys/key-input';
import { consumerSchema, writtenConsumerSchema } from './consumers';
import { keyNameSchema, kmsKeyArnSchema, MAX_CONSUMERS, ruleNameSchema, rotationSchema } from './fields';

export * from './consumers';
export * from './fields';

/** One declared key, as keys.yaml and the ApiKey construct take it. */
export const apiKeyPropsSchema = z.strictObject({
  tenant: tenantSchema,
  /**
   * The key's handle in code and in AWS names (the secret `keyroll/<tenant>/<name>`): 1-63
   * lowercase letters, digits and dashes. Stricter than the API's free-text names for that reason.
   */
  name: keyNameSchema,
  environment: environmentSchema,
  permissions: permissionsSchema,
  /** @default { limit: 6000, windowSeconds: 60 } */
  rateLimit: rateLimitSchema.optional(),
  /** ISO-8601 date-time. @default never expires */
  expiresAt: expiresAtSchema.optional(),
  /** At most 10. @default [] */
  tags: tagsSchema.optional(),
  /** Scope the key to one customer's resources. @default none */
  customerId: customerIdSchema.optional(),
  /**
   * The rotation schedule: a new credential every `everyDays`, the old one retired at the latest
   * `graceMinutes` after the cutover. @default not rotated
   */
  rotation: rotationSchema.optional(),
  /** Integrations that hold the key. @default [] */
  consumers: z.array(consumerSchema, { error: 'must be a list of consumers' }).max(MAX_CONSUMERS, `must hold at most ${MAX_CONSUMERS} consumers`).optional(),
  /** Customer-managed KMS key for the secret. @default the account's aws/secretsmanager key */
  kmsKeyArn: kmsKeyArnSchema.optional(),
});
export type ApiKeyProps = z.input<typeof apiKeyPropsSchema>;

/**
 * The declared key ("spec") as Terraform writes it into the keys table for the provisioner and
 * rotation: the props with their defaults filled in (the secret's KMS key stays Terraform's), and
 * the consumers resolved into what keyroll writes (`consumers`) and the reference rules Terraform
 * owns (`referenceRules`, by name, for status). Configuration only, never a credential.
 */
export const keySpecItemSchema = apiKeyPropsSchema.omit({ consumers: true, kmsKeyArn: true }).extend({
  /** The API's name rules, looser than the props': a spec is read as written, by whichever tool wrote it. */
  name: nameSchema,
  rateLimit: rateLimitSchema,
  tags: tagsSchema,
  /** Every consumer keyroll writes the credential into (at deploy, and again at each rotation), in declared order. */
  consumers: z.array(writtenConsumerSchema).max(MAX_CONSUMERS),
  /** The key's reference rules (they read the secret themselves). */
  referenceRules: z.array(ruleNameSchema).max(MAX_CONSUMERS),
});

/**
 * A spec item as read back. Items written before lambda-env and ssm-parameter consumers existed
 * list their inline rules as `inlineConsumers` and no reference rules: they read as the same
 * consumers, with `referenceRules` empty until the next deploy rewrites the item.
 */
export const keySpecSchema = z.preprocess(fromInlineConsumersItem, keySpecItemSchema);
export type KeySpec = z.infer<typeof keySpecSchema>;

function fromInlineConsumersItem(item: unknown): unknown {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
  // Both fields: neither can be trusted to be the newer, so the strict schema refuses the item.
  if (!('inlineConsumers' in item) || 'consumers' in item) return item;
  const { inlineConsumers, ...rest } = item as Record<string, unknown>;
  return { ...rest, consumers: inlineConsumers, referenceRules: rest.referenceRules ?? [] };
}
