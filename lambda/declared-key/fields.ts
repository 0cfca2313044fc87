/**
 * The field schemas of a declared key, each defined once: the props (keys.yaml, `new ApiKey()`)
 * and the spec Terraform writes are both built from these, so their rules and messages never drift.
 * Messages are worded as the fix ("must …"): `keyroll check` and the construct print them as is.
 */
import { z } from 'zod';
import { MAX_GRACE_SECONDS } from '../keys/key-input';
import { topicFilterProblem } from '../provision/consumers/rule-sql';

/** IoT Core caches a `get_secret` result for up to 15 minutes; a shorter grace would break reference rules. */
export const IOT_SECRET_CACHE_MINUTES = 15;
export const DEFAULT_HEADER_NAME = 'x-api-key';
/** Consumers per key, of all types together (reference rules included). */
export const MAX_CONSUMERS = 20;

/** The bounds of a rotation schedule. The grace ends where the API's regenerate grace does (7 days). */
export const ROTATION_BOUNDS = {
  everyDays: { min: 1, max: 365 },
  graceMinutes: { min: 0, max: MAX_GRACE_SECONDS / 60 },
} as const;

export const KEY_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const HEADER_NAME_PATTERN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
export const TOPIC_RULE_NAME_PATTERN = /^[a-zA-Z0-9_]{1,128}$/;
/**
 * A function name, or its full ARN, without a version or alias: only `$LATEST` has a configuration
 * that can change, so a qualified name could never be moved to a new credential.
 * See https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html
 */
export const LAMBDA_FUNCTION_PATTERN = /^(arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:function:)?[a-zA-Z0-9_-]{1,64}$/;
/** Lambda's own rule for a variable name (at least two characters). See API_Environment.html. */
export const ENV_VARIABLE_PATTERN = /^[A-Za-z][A-Za-z0-9_]+$/;
/** Names Lambda sets itself and refuses in a function's configuration. See configuration-envvars.html#configuration-envvars-runtime */
const RESERVED_VARIABLES = new Set(['LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR', 'TZ']);
export const SSM_PARAMETER_NAME_PATTERN = /^\/?[a-zA-Z0-9_.\-/]{1,2048}$/;

const KEY_NAME_RULE =
  "must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit, because a declared key's name becomes part of AWS resource names (its secret is keyroll/<tenant>/<name>); the API's free-text names cannot be declared here";
const RULE_NAME_RULE = 'must be 1-128 letters, digits or underscores (an IoT rule name)';
const TOPIC_RULE = 'must be an MQTT topic filter, e.g. acme/telemetry/+';
const FUNCTION_RULE = 'must be a Lambda function name (1-64 letters, digits, dashes or underscores) or its ARN, without a version or alias';
const VARIABLE_RULE = 'must be an environment variable name: a letter, then letters, digits or underscores, at least 2 characters, e.g. KEYROLL_API_KEY';
const PARAMETER_RULE = 'must be an SSM parameter name: letters, digits and _ . - /, e.g. /acme/ingest/api-key';

/** The declared key's name, stricter than the API's free-text names (see KEY_NAME_RULE). */
export const keyNameSchema = z.string(KEY_NAME_RULE).regex(KEY_NAME_PATTERN, KEY_NAME_RULE);

export const ruleNameSchema = z.string(RULE_NAME_RULE).regex(TOPIC_RULE_NAME_PATTERN, RULE_NAME_RULE);

/** The generated SQL takes deviceId from the filter's first wildcard, so the filter must have one. */
export const topicFilterSchema = z
  .string(TOPIC_RULE)
  .min(1, TOPIC_RULE)
  .max(256, 'must be at most 256 characters')
  .superRefine((topic, ctx) => {
    const problem = topicFilterProblem(topic);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const headerNameSchema = z.string().regex(HEADER_NAME_PATTERN, 'must be an HTTP header name, e.g. x-api-key');

export const httpsUrlSchema = z.url({ protocol: /^https$/, error: 'must be an https URL (IoT topic rules only post over https)' });

export const kmsKeyArnSchema = z.string().startsWith('arn:', 'must be a KMS key ARN');

export const lambdaFunctionSchema = z.string(FUNCTION_RULE).regex(LAMBDA_FUNCTION_PATTERN, FUNCTION_RULE);

export const envVariableSchema = z
  .string(VARIABLE_RULE)
  .regex(ENV_VARIABLE_PATTERN, VARIABLE_RULE)
  .refine(
    (name) => !name.startsWith('AWS_') && !RESERVED_VARIABLES.has(name),
    'must not be a name Lambda reserves (AWS_*, LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR, TZ): name the variable your function reads the key from, e.g. KEYROLL_API_KEY',
  );

export const ssmParameterNameSchema = z
  .string(PARAMETER_RULE)
  .regex(SSM_PARAMETER_NAME_PATTERN, PARAMETER_RULE)
  // SSM refuses names under these prefixes, with or without the leading slash.
  .refine((name) => !/^\/?(aws|ssm)/i.test(name), 'must not begin with "aws" or "ssm" (prefixes SSM reserves), e.g. /acme/ingest/api-key');

const { everyDays, graceMinutes } = ROTATION_BOUNDS;
export const rotationSchema = z.strictObject(
  {
    /** Days between rotations: Secrets Manager's `automatically_after_days`. */
    everyDays: z.int('must be a whole number of days').min(everyDays.min, `must be at least ${everyDays.min} day`).max(everyDays.max, `must be at most ${everyDays.max} days`),
    /** Minutes the old credential keeps working after the cutover, at the latest. */
    graceMinutes: z
      .int('must be a whole number of minutes')
      .min(graceMinutes.min, 'must not be negative')
      .max(graceMinutes.max, `must be at most ${graceMinutes.max} (7 days)`),
  },
  { error: 'must be a map like { everyDays: 30, graceMinutes: 60 }' },
);
export type Rotation = z.infer<typeof rotationSchema>;
