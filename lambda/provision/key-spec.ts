/**
 * The declared key ("spec"): what a keys-as-code stack says a key should be. Terraform writes it as
 * a DynamoDB item it owns; the provisioner reads it and makes the real key match. The runtime never
 * writes a spec (its IAM role cannot: see specItemKey), so Terraform never sees drift in it. It holds
 * configuration only, never a secret.
 */
import { z } from 'zod';
import { specItemKey } from '../store/table-layout';
import {
  createKeyInputSchema,
  customerIdSchema,
  environmentSchema,
  expiresAtSchema,
  nameSchema,
  permissionsSchema,
  rateLimitSchema,
  tagsSchema,
  tenantSchema,
} from '../keys/key-input';

export const HEADER_NAME_PATTERN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
export const TOPIC_RULE_NAME_PATTERN = /^[a-zA-Z0-9_]{1,128}$/;

/**
 * An IoT topic rule whose HTTP action carries the key inline in a header. Terraform cannot own
 * such a rule: its refresh would copy the header, and so the key, into state. The provisioner
 * creates it from this definition, rebuilds it from it on every apply (only its disabled switch is
 * kept), and deletes it with the key.
 */
export const inlineIotRuleSchema = z.strictObject({
  type: z.literal('iot-rule-inline'),
  ruleName: z.string().regex(TOPIC_RULE_NAME_PATTERN, 'must be 1-128 letters, digits or underscores'),
  sql: z.string().min(1).max(4096),
  sqlVersion: z.string().default('2016-03-23'),
  url: z.url({ protocol: /^https$/, error: 'must be the https URL of the telemetry endpoint (IoT only posts over https)' }),
  headerName: z.string().regex(HEADER_NAME_PATTERN, 'must be an HTTP header name'),
  description: z.string().max(1024).optional(),
});
export type InlineIotRule = z.infer<typeof inlineIotRuleSchema>;

export const keySpecSchema = z.strictObject({
  tenant: tenantSchema,
  /** Unique within the tenant; the key's stable handle in code. */
  name: nameSchema,
  environment: environmentSchema,
  permissions: permissionsSchema,
  rateLimit: rateLimitSchema,
  expiresAt: expiresAtSchema.optional(),
  tags: tagsSchema,
  customerId: customerIdSchema.optional(),
  rotation: z
    .strictObject({
      everyDays: z.int().min(1).max(365),
      graceMinutes: z.int().min(0).max(7 * 24 * 60),
    })
    .optional(),
  /** Consumers the provisioner itself must write the key into. */
  inlineConsumers: z.array(inlineIotRuleSchema).max(20),
});
export type KeySpec = z.infer<typeof keySpecSchema>;

/**
 * Where a spec lives in the keys table: a partition of its own per tenant, apart from `TENANT#…` and
 * `SECRET#…`, the only partitions the key service's role may touch (a `dynamodb:LeadingKeys`
 * condition), so the internet-facing service can never write what the provisioner acts on.
 */
export { specItemKey };

/** The spec as the input the key manager takes to create a key. */
export function createInputFromSpec(spec: KeySpec) {
  return createKeyInputSchema.parse({
    name: spec.name,
    environment: spec.environment,
    permissions: spec.permissions,
    rateLimit: spec.rateLimit,
    expiresAt: spec.expiresAt,
    tags: spec.tags,
    customerId: spec.customerId,
  });
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
