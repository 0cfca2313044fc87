/**
 * What a declared key looks like in code, and the checks run at synth time so a bad declaration
 * fails before anything is deployed, with a message naming the key, the prop and the fix.
 */
import { z } from 'zod';
import type { Environment } from '../../lambda/keys/environments';
import type { RateLimit } from '../../lambda/keys/key-record';
import { HEADER_NAME_PATTERN, TOPIC_RULE_NAME_PATTERN, keySpecSchema } from '../../lambda/provision/key-spec';

/** IoT Core caches a `get_secret` result for up to 15 minutes; a shorter grace would break rules. */
export const IOT_SECRET_CACHE_MINUTES = 15;
export const DEFAULT_HEADER_NAME = 'x-api-key';

export interface IotRuleConsumerProps {
  readonly type: 'iot-rule';
  /** The topic rule's name: letters, digits and underscores. */
  readonly ruleName: string;
  /** MQTT topic filter the rule selects from, e.g. `acme/telemetry/+`. */
  readonly topic: string;
  /**
   * `reference`: the header is an IoT `get_secret` template, so the key never leaves Secrets Manager.
   * `inline`: the provisioner writes the key itself into the header, for rules that cannot use `get_secret`.
   * @default 'reference'
   */
  readonly mode?: 'reference' | 'inline';
  /** @default 'x-api-key' */
  readonly headerName?: string;
  /** @default the platform's `/v1/telemetry` URL */
  readonly url?: string;
}

export type ConsumerProps = IotRuleConsumerProps;

export interface ApiKeyProps {
  readonly tenant: string;
  /** The key's handle in code and in AWS names: lowercase letters, digits and dashes. */
  readonly name: string;
  readonly environment: Environment;
  readonly permissions: readonly string[];
  /** @default { limit: 6000, windowSeconds: 60 } */
  readonly rateLimit?: RateLimit;
  /** ISO-8601 date-time. @default never expires */
  readonly expiresAt?: string;
  /** At most 10. @default [] */
  readonly tags?: readonly string[];
  /** Scope the key to one customer's resources. @default none */
  readonly customerId?: string;
  /** Scheduled rotation (used by the rotation Lambda). @default not rotated */
  readonly rotation?: { readonly everyDays: number; readonly graceMinutes: number };
  /** Integrations that hold the key. @default [] */
  readonly consumers?: readonly ConsumerProps[];
  /** Customer-managed KMS key for the secret. @default the account's aws/secretsmanager key */
  readonly kmsKeyArn?: string;
}

const KEY_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

const consumerSchema = z.strictObject({
  type: z.literal('iot-rule', { error: 'must be "iot-rule" (the only consumer type so far)' }),
  ruleName: z.string().regex(TOPIC_RULE_NAME_PATTERN, 'must be 1-128 letters, digits or underscores (an IoT rule name)'),
  topic: z.string().min(1, 'must be an MQTT topic filter, e.g. acme/telemetry/+').max(256).refine((t) => !t.includes("'"), 'must not contain quotes'),
  mode: z.enum(['reference', 'inline'], { error: 'must be "reference" or "inline"' }).optional(),
  headerName: z.string().regex(HEADER_NAME_PATTERN, 'must be an HTTP header name, e.g. x-api-key').optional(),
  url: z.url({ protocol: /^https$/, error: 'must be an https URL (IoT topic rules only post over https)' }).optional(),
});

const propsSchema = keySpecSchema
  .omit({ inlineConsumers: true, rateLimit: true, tags: true })
  .extend({
    name: z.string().regex(KEY_NAME, 'must be 1-63 lowercase letters, digits or dashes (it names AWS resources)'),
    rateLimit: keySpecSchema.shape.rateLimit.optional(),
    tags: keySpecSchema.shape.tags.optional(),
    consumers: z.array(consumerSchema).max(20, 'must hold at most 20 consumers').optional(),
    kmsKeyArn: z.string().startsWith('arn:', 'must be a KMS key ARN').optional(),
  });

/** Throws an Error naming the key and every problem, each with its fix. */
export function validateApiKeyProps(props: ApiKeyProps, now = new Date()): void {
  const label = `ApiKey "${props.tenant}/${props.name}"`;
  const parsed = propsSchema.safeParse(props);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) =>
        issue.code === 'unrecognized_keys'
          ? `unknown prop(s) ${issue.keys.map((k) => `\`${k}\``).join(', ')}: remove them or check their spelling`
          : `\`${issue.path.join('.') || 'props'}\` ${issue.message}`,
      );
  if (props.expiresAt && Date.parse(props.expiresAt) <= now.getTime()) {
    problems.push('`expiresAt` is in the past: give a future date-time or remove it');
  }
  const referenceConsumers = (props.consumers ?? []).filter((c) => (c.mode ?? 'reference') === 'reference');
  if (props.rotation && referenceConsumers.length > 0 && props.rotation.graceMinutes < IOT_SECRET_CACHE_MINUTES) {
    problems.push(
      `\`rotation.graceMinutes\` is ${props.rotation.graceMinutes}, but IoT Core caches get_secret results for up to ${IOT_SECRET_CACHE_MINUTES} minutes, so rule ${referenceConsumers[0].ruleName} would keep sending the old key after it stops working: set graceMinutes to at least ${IOT_SECRET_CACHE_MINUTES}, or use mode "inline"`,
    );
  }
  const ruleNames = (props.consumers ?? []).map((c) => c.ruleName);
  const repeated = ruleNames.find((name, i) => ruleNames.indexOf(name) !== i);
  if (repeated) problems.push(`\`consumers\` names rule ${repeated} twice: give each consumer its own rule`);
  if (problems.length > 0) throw new Error(`${label} is invalid:\n  - ${problems.join('\n  - ')}`);
}

/** Keys are unique per tenant and name; a second declaration would fight the first over one key. */
export function assertUniqueKeys(keys: readonly Pick<ApiKeyProps, 'tenant' | 'name'>[]): void {
  const seen = new Set<string>();
  for (const key of keys) {
    const id = `${key.tenant}/${key.name}`;
    if (seen.has(id)) throw new Error(`ApiKey "${id}" is declared twice: key names must be unique within a tenant. Rename or remove one.`);
    seen.add(id);
  }
}
