/**
 * The checks that refuse a bad key declaration before anything is deployed: its shape (the
 * declared-key contract's schema, lambda/declared-key/contract.ts) and the rules that span fields.
 * `apiKeyPropsIssues` is the one list of those checks: the ApiKey construct throws what it finds,
 * and `keyroll check` reports it against the keys file's lines.
 */
import { type ApiKeyProps, apiKeyPropsSchema, IOT_SECRET_CACHE_MINUTES, type IotRuleConsumerProps } from '../../lambda/declared-key/contract';
import { knownPermissions, unknownPermissions } from '../../lambda/keys/permission-registry';
import { PERMISSION_PATTERN } from '../../lambda/keys/permissions';
import { type DeclarationIssue, formatPath, issuesFromZod, quote } from './declaration-issue';
import { consumerTarget, repeatedWording } from './consumer-targets';

// The construct's props are the contract's; re-exported so a stack imports them from beside the construct.
export type { ApiKeyProps } from '../../lambda/declared-key/contract';

export interface ApiKeyCheckOptions {
  /** What "in the past" is measured against. @default new Date() */
  readonly now?: Date;
  /**
   * The permissions the key's tenant declares for its own services (keys.yaml `permissions:`).
   * @default none: keyroll's own, plus permissions of resources that are no near miss of keyroll's
   */
  readonly declaredPermissions?: readonly string[];
  /**
   * Seconds a reference consumer may send a credential from its cache after a cutover
   * (KEYROLL_IOT_SECRET_CACHE_SECONDS): a grace shorter than this would break it.
   * @default 900 (IoT's get_secret cache)
   */
  readonly consumerCacheSeconds?: number;
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
  const consumers: unknown[] = Array.isArray(key.consumers) ? key.consumers : [];
  issues.push(...repeatedConsumerIssues(consumers));
  const rotation = key.rotation as ApiKeyProps['rotation'];
  const reference = consumers.find((c): c is IotRuleConsumerProps => consumerTarget(c)?.kind === 'rule' && ((c as IotRuleConsumerProps).mode ?? 'reference') === 'reference');
  const cacheSeconds = options.consumerCacheSeconds ?? IOT_SECRET_CACHE_MINUTES * 60;
  if (fieldOk('rotation') && reference && rotation!.graceMinutes * 60 < cacheSeconds) {
    const least = Math.ceil(cacheSeconds / 60);
    issues.push({
      code: 'GRACE_UNDER_IOT_CACHE',
      path: ['rotation', 'graceMinutes'],
      problem: `is ${rotation!.graceMinutes}, but IoT Core caches get_secret results for up to ${least} minutes, so rule ${reference.ruleName} would keep sending the old key after it stops working`,
      fix: `set graceMinutes to at least ${least}, or use mode "inline" for rule ${reference.ruleName}`,
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

/** Two consumers of one key that hold the same place: one rule, one function variable, one parameter. */
function repeatedConsumerIssues(consumers: readonly unknown[]): DeclarationIssue[] {
  const first = new Map<string, number>();
  return consumers.flatMap((consumer, index) => {
    const target = consumerTarget(consumer);
    if (!target) return [];
    const earlier = first.get(target.id);
    if (earlier === undefined) {
      first.set(target.id, index);
      return [];
    }
    return [{ ...repeatedWording(target, earlier), path: ['consumers', index, target.field] }];
  });
}
