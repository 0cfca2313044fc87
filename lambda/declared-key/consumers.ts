/**
 * A declared key's consumers: the integrations that hold its credential. As declared (keys.yaml,
 * `new ApiKey()`) and as the spec lists them for the provisioner and rotation. A *written* consumer
 * is one keyroll itself writes the credential into (every type but the reference rule, which reads
 * the secret through IoT's `get_secret` and is Terraform's).
 */
import { z } from 'zod';
import { headerNameSchema, httpsUrlSchema, kmsKeyArnSchema, lambdaFunctionSchema, envVariableSchema, ruleNameSchema, ssmParameterNameSchema, topicFilterSchema } from './fields';

/** An IoT topic rule posting telemetry with the key in a header, as declared. */
export const iotRuleConsumerSchema = z.strictObject({
  type: z.literal('iot-rule'),
  /** The topic rule's name: letters, digits and underscores. */
  ruleName: ruleNameSchema,
  /**
   * MQTT topic filter the rule selects from, e.g. `acme/telemetry/+`, with a `+` (or a final `#`)
   * at the level that names the device: a reading without its own `deviceId` gets that level
   * (see lambda/provision/consumers/rule-sql.ts).
   */
  topic: topicFilterSchema,
  /**
   * `reference`: the header is an IoT `get_secret` template, so the key never leaves Secrets Manager.
   * `inline`: the provisioner writes the key itself into the header, for rules that cannot use `get_secret`.
   * @default 'reference'
   */
  mode: z.enum(['reference', 'inline'], { error: 'must be "reference" or "inline"' }).optional(),
  /** @default 'x-api-key' */
  headerName: headerNameSchema.optional(),
  /** @default the platform's `/v1/telemetry` URL */
  url: httpsUrlSchema.optional(),
});

/**
 * A Lambda function's environment variable. Only that variable is written; the rest of the
 * function's configuration is kept. Written at deploy, moved by rotation.
 */
export const lambdaEnvConsumerSchema = z.strictObject({
  type: z.literal('lambda-env'),
  /** The function's name or ARN (unqualified: only `$LATEST`'s configuration can change). */
  functionName: lambdaFunctionSchema,
  /** The variable the function reads the key from, e.g. `KEYROLL_API_KEY`. */
  variable: envVariableSchema,
});

/** An SSM Parameter Store SecureString holding the key. Written at deploy, moved by rotation. */
export const ssmParameterConsumerSchema = z.strictObject({
  type: z.literal('ssm-parameter'),
  /** The parameter's name, e.g. `/acme/ingest/api-key`. */
  name: ssmParameterNameSchema,
  /** Customer-managed KMS key for the SecureString. @default the account's aws/ssm key */
  kmsKeyArn: kmsKeyArnSchema.optional(),
});

const CONSUMER_TYPES = ['iot-rule', 'lambda-env', 'ssm-parameter'] as const;
const CONSUMER_EXAMPLE = '{ type: iot-rule, ruleName, topic }, { type: lambda-env, functionName, variable } or { type: ssm-parameter, name }';

export const consumerSchema = z.discriminatedUnion('type', [iotRuleConsumerSchema, lambdaEnvConsumerSchema, ssmParameterConsumerSchema], {
  error: (issue) =>
    issue.code === 'invalid_union'
      ? `must be one of ${CONSUMER_TYPES.map((type) => `"${type}"`).join(', ')}`
      : issue.code === 'invalid_type'
        ? `must be a consumer: a map like ${CONSUMER_EXAMPLE}`
        : undefined,
});

export type IotRuleConsumerProps = z.input<typeof iotRuleConsumerSchema>;
export type LambdaEnvConsumer = z.infer<typeof lambdaEnvConsumerSchema>;
export type SsmParameterConsumer = z.infer<typeof ssmParameterConsumerSchema>;
export type ConsumerProps = z.input<typeof consumerSchema>;
export type ConsumerType = ConsumerProps['type'];

/**
 * An IoT topic rule whose HTTP action carries the key inline in a header. Terraform cannot own
 * such a rule: its refresh would copy the header, and so the key, into state. The provisioner
 * creates it from this definition, rebuilds it from it on every apply (only its disabled switch is
 * kept), and deletes it with the key.
 */
export const inlineIotRuleSchema = z.strictObject({
  type: z.literal('iot-rule-inline'),
  ruleName: ruleNameSchema,
  sql: z.string().min(1).max(4096),
  sqlVersion: z.string().default('2016-03-23'),
  url: httpsUrlSchema,
  headerName: headerNameSchema,
  description: z.string().max(1024).optional(),
});
export type InlineIotRule = z.infer<typeof inlineIotRuleSchema>;

/** The consumers keyroll writes the credential into, as the spec lists them. */
export const writtenConsumerSchema = z.discriminatedUnion('type', [inlineIotRuleSchema, lambdaEnvConsumerSchema, ssmParameterConsumerSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'must be one of "iot-rule-inline", "lambda-env", "ssm-parameter"' : undefined),
});
export type WrittenConsumer = z.infer<typeof writtenConsumerSchema>;
export type WrittenConsumerType = WrittenConsumer['type'];

/**
 * The spec's written consumers of one type, in declared order.
 * @example
 * writtenConsumersOfType(spec, 'lambda-env'); // [{ type: 'lambda-env', functionName: 'ingest', variable: 'KEYROLL_API_KEY' }]
 */
export function writtenConsumersOfType<T extends WrittenConsumerType>(spec: { readonly consumers: readonly WrittenConsumer[] }, type: T): Extract<WrittenConsumer, { type: T }>[] {
  return spec.consumers.filter((consumer): consumer is Extract<WrittenConsumer, { type: T }> => consumer.type === type);
}

/** The inline IoT rules of a spec; none without a spec (a key whose declaration is gone). */
export function inlineConsumersOf(spec: { readonly consumers: readonly WrittenConsumer[] } | undefined): InlineIotRule[] {
  return spec ? writtenConsumersOfType(spec, 'iot-rule-inline') : [];
}
