/**
 * What a declared key looks like in code, and the checks that refuse a bad declaration before
 * anything is deployed. `apiKeyPropsIssues` is the one list of those checks: the ApiKey construct
 * throws what it finds, and `keyroll check` reports it against the keys file's lines.
 */
import { z } from 'zod';
import type { Environment } from '../../lambda/keys/environments';
import type { RateLimit } from '../../lambda/keys/key-record';
import { knownPermissions, unknownPermissions } from '../../lambda/keys/permission-registry';
import { PERMISSION_PATTERN } from '../../lambda/keys/permissions';
import { HEADER_NAME_PATTERN, TOPIC_RULE_NAME_PATTERN, keySpecSchema } from '../../lambda/provision/key-spec';
import { topicFilterProblem } from '../../lambda/provision/consumers/rule-sql';
import { type DeclarationIssue, formatPath, issuesFromZod, quote } from './declaration-issue';

/** IoT Core caches a `get_secret` result for up to 15 minutes; a shorter grace would break rules. */
export const IOT_SECRET_CACHE_MINUTES = 15;
export const DEFAULT_HEADER_NAME = 'x-api-key';

export interface IotRuleConsumerProps {
  readonly type: 'iot-rule';
  /** The topic rule's name: letters, digits and underscores. */
  readonly ruleName: string;
  /**
   * MQTT topic filter the rule selects from, e.g. `acme/telemetry/+`, with a `+` (or a final `#`)
   * at the level that names the device: a reading without its own `deviceId` gets that level
   * (see lambda/provision/consumers/rule-sql.ts).
   */
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
  /**
   * The key's handle in code and in AWS names (the secret `keyroll/<tenant>/<name>`): 1-63
   * lowercase letters, digits and dashes. Stricter than the API's free-text names for that reason.
   */
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
  /**
   * The rotation schedule this key will follow. Not acted on yet: keys are not rotated until the
   * rotation schedule ships. Its shape is checked now (and a grace under IoT's cache refused), so
   * a declaration that passes today keeps passing then. @default not rotated
   */
  readonly rotation?: { readonly everyDays: number; readonly graceMinutes: number };
  /** Integrations that hold the key. @default [] */
  readonly consumers?: readonly ConsumerProps[];
  /** Customer-managed KMS key for the secret. @default the account's aws/secretsmanager key */
  readonly kmsKeyArn?: string;
}

export const KEY_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const KEY_NAME_RULE =
  'must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit, because a declared key\'s name becomes part of AWS resource names (its secret is keyroll/<tenant>/<name>); the API\'s free-text names cannot be declared here';

const RULE_NAME_RULE = 'must be 1-128 letters, digits or underscores (an IoT rule name)';
const TOPIC_RULE = 'must be an MQTT topic filter, e.g. acme/telemetry/+';
/** The generated SQL takes deviceId from the filter's first wildcard, so the filter must have one. */
const topicFilterIssue = (topic: string, ctx: z.RefinementCtx) => {
  const problem = topicFilterProblem(topic);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
};

const consumerSchema = z.strictObject({
  type: z.literal('iot-rule', { error: 'must be "iot-rule" (the only consumer type so far)' }),
  ruleName: z.string(RULE_NAME_RULE).regex(TOPIC_RULE_NAME_PATTERN, RULE_NAME_RULE),
  topic: z.string(TOPIC_RULE).min(1, TOPIC_RULE).max(256, 'must be at most 256 characters').superRefine(topicFilterIssue),
  mode: z.enum(['reference', 'inline'], { error: 'must be "reference" or "inline"' }).optional(),
  headerName: z.string().regex(HEADER_NAME_PATTERN, 'must be an HTTP header name, e.g. x-api-key').optional(),
  url: z.url({ protocol: /^https$/, error: 'must be an https URL (IoT topic rules only post over https)' }).optional(),
});

export const apiKeyPropsSchema = keySpecSchema
  .omit({ inlineConsumers: true, rateLimit: true, tags: true, rotation: true })
  .extend({
    name: z.string(KEY_NAME_RULE).regex(KEY_NAME_PATTERN, KEY_NAME_RULE),
    rateLimit: keySpecSchema.shape.rateLimit.optional(),
    tags: keySpecSchema.shape.tags.optional(),
    rotation: z
      .strictObject(
        {
          everyDays: z.int('must be a whole number of days').min(1, 'must be at least 1 day').max(365, 'must be at most 365 days'),
          graceMinutes: z.int('must be a whole number of minutes').min(0, 'must not be negative').max(7 * 24 * 60, 'must be at most 10080 (7 days)'),
        },
        { error: 'must be a map like { everyDays: 30, graceMinutes: 60 }' },
      )
      .optional(),
    consumers: z.array(consumerSchema, { error: 'must be a list of consumers' }).max(20, 'must hold at most 20 consumers').optional(),
    kmsKeyArn: z.string().startsWith('arn:', 'must be a KMS key ARN').optional(),
  });

export interface ApiKeyCheckOptions {
  /** What "in the past" is measured against. @default new Date() */
  readonly now?: Date;
  /**
   * The permissions the key's tenant declares for its own services (keys.yaml `permissions:`).
   * @default none: keyroll's own, plus permissions of resources that are no near miss of keyroll's
   */
  readonly declaredPermissions?: readonly string[];
}

/** Everything wrong with one key's props, each with its fix; empty when the props are good. */
export function apiKeyPropsIssues(props: unknown, options: ApiKeyCheckOptions = {}): DeclarationIssue[] {
  const parsed = apiKeyPropsSchema.safeParse(props);
  const issues = parsed.success ? [] : issuesFromZod(parsed.error, props, apiKeyPropsSchema, nounAt).map((issue) => withNameSuggestion(issue, props));
  if (props === null || typeof props !== 'object' || Array.isArray(props)) return issues;
  // The fields with an issue already: their further checks would only repeat it.
  const bad = new Set(issues.map((issue) => issue.path[0]));
  const key = props as Record<string, unknown>;
  const fieldOk = (field: string) => key[field] !== undefined && !bad.has(field);

  if (Array.isArray(key.permissions)) issues.push(...permissionIssues(key.permissions, options.declaredPermissions));
  if (fieldOk('expiresAt') && Date.parse(key.expiresAt as string) <= (options.now ?? new Date()).getTime()) {
    issues.push({ code: 'EXPIRED', path: ['expiresAt'], problem: `is ${quote(key.expiresAt)}, which is in the past`, fix: 'give a future date-time, or remove it' });
  }
  // Judged on the consumers that are well-formed enough, so one bad consumer hides no other problem.
  const all: unknown[] = Array.isArray(key.consumers) ? key.consumers : [];
  const consumers = all.filter((c): c is ConsumerProps => c !== null && typeof c === 'object' && typeof (c as ConsumerProps).ruleName === 'string');
  issues.push(...repeatedRuleIssues(all, consumers));
  const rotation = key.rotation as ApiKeyProps['rotation'];
  const reference = consumers.find((c) => (c.mode ?? 'reference') === 'reference');
  if (fieldOk('rotation') && reference && rotation!.graceMinutes < IOT_SECRET_CACHE_MINUTES) {
    issues.push({
      code: 'GRACE_UNDER_IOT_CACHE',
      path: ['rotation', 'graceMinutes'],
      problem: `is ${rotation!.graceMinutes}, but IoT Core caches get_secret results for up to ${IOT_SECRET_CACHE_MINUTES} minutes, so rule ${reference.ruleName} would keep sending the old key after it stops working`,
      fix: `set graceMinutes to at least ${IOT_SECRET_CACHE_MINUTES}, or use mode "inline" for rule ${reference.ruleName}`,
    });
  }
  return issues;
}

/** Throws one Error naming the key and every problem, each with its fix. */
export function validateApiKeyProps(props: ApiKeyProps, options: ApiKeyCheckOptions = {}): void {
  const issues = apiKeyPropsIssues(props, options);
  if (issues.length > 0) throw new Error(issuesMessage(`ApiKey "${props.tenant}/${props.name}" is invalid:`, issues));
}

/** `heading` and one line per issue: `` - `field` problem — fix ``. */
export function issuesMessage(heading: string, issues: readonly DeclarationIssue[]): string {
  return [heading, ...issues.map((issue) => `  - \`${formatPath(issue.path) || 'props'}\` ${issue.problem} — ${issue.fix}`)].join('\n');
}

function nounAt(path: readonly (string | number)[]): string {
  if (path.length === 0) return 'a key';
  if (path[0] === 'consumers') return 'a consumer';
  return `\`${formatPath(path)}\``;
}

/** For a name the API would take but keys as code cannot, suggest the nearest one that fits. */
function withNameSuggestion(issue: DeclarationIssue, props: unknown): DeclarationIssue {
  const name = (props as { name?: unknown } | null)?.name;
  if (formatPath(issue.path) !== 'name' || typeof name !== 'string') return issue;
  const fitted = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, 63).replace(/-+$/, '');
  return fitted && fitted !== name ? { ...issue, fix: `did you mean "${fitted}"? It ${issue.fix}` } : issue;
}

/** Unknown permissions among the well-formed ones (a malformed one already has its issue). */
function permissionIssues(permissions: readonly unknown[], declared: readonly string[] | undefined): DeclarationIssue[] {
  const wellFormed = permissions.filter((p): p is string => typeof p === 'string' && PERMISSION_PATTERN.test(p));
  const unknown = new Map(unknownPermissions(wellFormed, declared).map((check) => [check.permission, check.suggestion]));
  const known = knownPermissions(declared).join(', ');
  const declare = declared?.length
    ? "a permission of the tenant's own services must also be in its declared `permissions:`"
    : "declare the tenant's own services' permissions under the top-level `permissions:`";
  return permissions.flatMap((permission, index) => {
    if (typeof permission !== 'string' || !unknown.has(permission)) return [];
    const suggestion = unknown.get(permission);
    return [
      {
        code: 'UNKNOWN_PERMISSION',
        path: ['permissions', index],
        problem: `is ${quote(permission)}, which is not a known permission`,
        fix: `${suggestion ? `did you mean "${suggestion}"? ` : ''}The known permissions are ${known}; ${declare}`,
      },
    ];
  });
}

function repeatedRuleIssues(all: readonly unknown[], consumers: readonly ConsumerProps[]): DeclarationIssue[] {
  const first = new Map<string, number>();
  return consumers.flatMap((consumer) => {
    const index = all.indexOf(consumer);
    const earlier = first.get(consumer.ruleName);
    if (earlier === undefined) {
      first.set(consumer.ruleName, index);
      return [];
    }
    return [
      {
        code: 'RULE_REPEATED',
        path: ['consumers', index, 'ruleName'],
        problem: `is ${quote(consumer.ruleName)}, the rule of consumers[${earlier}] too`,
        fix: 'give each consumer its own rule',
      },
    ];
  });
}
