/**
 * An IoT topic rule that carries the key inline, in a header of its HTTP action. The key is written
 * into the rule in place: every other field of an existing rule stays as it is.
 */
import {
  type Action,
  CreateTopicRuleCommand,
  DeleteTopicRuleCommand,
  GetTopicRuleCommand,
  type GetTopicRuleCommandOutput,
  type IoTClient,
  paginateListTopicRules,
  ReplaceTopicRuleCommand,
  type TopicRule,
  type TopicRulePayload,
} from '@aws-sdk/client-iot';
import { awsCall, provisionErrors } from '../errors';
import type { InlineIotRule } from '../key-spec';

/** Where in a rule the key goes. */
export type KeyHeaderTarget = Pick<InlineIotRule, 'url' | 'headerName'>;

const IAM_FIX = "Check that the provisioner's role may iot:GetTopicRule, iot:CreateTopicRule, iot:ReplaceTopicRule and iot:DeleteTopicRule on the rule";

/**
 * Makes the rule send `key` in `rule.headerName` to `rule.url`, creating the rule from `rule` if
 * it does not exist. Returns the rule's ARN. Usable on its own, e.g. to push a regenerated key.
 *
 * @example
 * const arn = await writeKeyIntoRule(iot, spec.inlineConsumers[0], issued.key);
 */
export async function writeKeyIntoRule(iot: IoTClient, rule: InlineIotRule, key: string): Promise<string> {
  // Two rounds: if the rule appears between our read and our create, the second round replaces it.
  for (let round = 1; ; round++) {
    const existing = await getRule(iot, rule.ruleName);
    if (existing) {
      const payload = withKeyHeader(payloadOfRule(existing.rule), rule, key);
      await awsCall(`Writing the key into IoT topic rule ${rule.ruleName}`, `${IAM_FIX}, and iam:PassRole on the roles its actions use.`, () =>
        iot.send(new ReplaceTopicRuleCommand({ ruleName: rule.ruleName, topicRulePayload: payload })),
      );
      return existing.ruleArn;
    }
    try {
      await iot.send(new CreateTopicRuleCommand({ ruleName: rule.ruleName, topicRulePayload: newRulePayload(rule, key) }));
    } catch (error) {
      if (round === 1 && errorName(error) === 'ResourceAlreadyExistsException') continue;
      throw provisionErrors.awsRequestFailed(`Creating IoT topic rule ${rule.ruleName}`, error, `${IAM_FIX}, and that the spec's sql is valid.`);
    }
    const created = await getRule(iot, rule.ruleName);
    if (created) return created.ruleArn;
    throw provisionErrors.awsRequestFailed(`Reading IoT topic rule ${rule.ruleName} after creating it`, 'it is gone', 'Check that nothing else deletes it, then re-run the apply.');
  }
}

/** Deletes a rule the key was written into. Returns false when it did not exist. */
export async function deleteInlineRule(iot: IoTClient, ruleName: string): Promise<boolean> {
  return awsCall(`Deleting IoT topic rule ${ruleName}`, `${IAM_FIX}, and iot:ListTopicRules.`, async () => {
    try {
      await iot.send(new DeleteTopicRuleCommand({ ruleName }));
      return true;
    } catch (error) {
      // Destroy must be repeatable: a rule deleted by an earlier attempt or by hand is done.
      if (errorName(error) === 'ResourceNotFoundException') return false;
      if (errorName(error) === 'UnauthorizedException' && !(await ruleIsListed(iot, ruleName))) return false;
      throw error;
    }
  });
}

/**
 * The rule and its ARN, or undefined when no rule has that name. IoT answers UnauthorizedException
 * ("Access to topic rule … was denied") for a rule that does not exist; if access really is denied,
 * the CreateTopicRule that follows fails and says so.
 */
async function getRule(iot: IoTClient, ruleName: string): Promise<{ rule: TopicRule; ruleArn: string } | undefined> {
  const output = await awsCall<GetTopicRuleCommandOutput | undefined>(`Reading IoT topic rule ${ruleName}`, `${IAM_FIX}.`, async () => {
    try {
      return await iot.send(new GetTopicRuleCommand({ ruleName }));
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException' || errorName(error) === 'UnauthorizedException') return undefined;
      throw error;
    }
  });
  if (!output?.rule || !output.ruleArn) return undefined;
  return { rule: output.rule, ruleArn: output.ruleArn };
}

/** Tells "no such rule" from "access denied" where IoT answers both with UnauthorizedException. */
async function ruleIsListed(iot: IoTClient, ruleName: string): Promise<boolean> {
  for await (const page of paginateListTopicRules({ client: iot }, {})) {
    if ((page.rules ?? []).some((rule) => rule.ruleName === ruleName)) return true;
  }
  return false;
}

/** SDK errors matched by name, not class, so a client from another copy of the SDK is handled alike. */
function errorName(error: unknown): string | undefined {
  return (error as Error | undefined)?.name;
}

/** A new rule as the spec declares it: one HTTP action that carries the key. */
export function newRulePayload(rule: InlineIotRule, key: string): TopicRulePayload {
  return {
    sql: rule.sql,
    awsIotSqlVersion: rule.sqlVersion,
    ...(rule.description === undefined ? {} : { description: rule.description }),
    ruleDisabled: false,
    actions: [{ http: { url: rule.url, headers: [{ key: rule.headerName, value: key }] } }],
  };
}

/** What ReplaceTopicRule takes, copied from what GetTopicRule returned, so nothing is lost in the round trip. */
export function payloadOfRule(rule: TopicRule): TopicRulePayload {
  const { ruleName: _name, createdAt: _createdAt, actions, errorAction, ...rest } = rule;
  return {
    ...withoutUndefined(rest),
    sql: rule.sql,
    actions: actions ?? [],
    // Some endpoints (moto) report "no error action" as an empty object, which IoT would refuse back.
    ...(errorAction && Object.keys(errorAction).length > 0 ? { errorAction } : {}),
  };
}

/**
 * Sets the key header on every HTTP action that posts to `target.url`, in place of any header of
 * that name (HTTP header names are case-insensitive), and leaves every other action and header
 * alone. Adds an HTTP action for the url when the rule has none.
 */
export function withKeyHeader(payload: TopicRulePayload, target: KeyHeaderTarget, key: string): TopicRulePayload {
  const header = { key: target.headerName, value: key };
  const sameName = (name: string | undefined) => name?.toLowerCase() === target.headerName.toLowerCase();
  let matched = false;
  const actions = (payload.actions ?? []).map((action): Action => {
    if (!action.http || action.http.url !== target.url) return action;
    matched = true;
    const headers = action.http.headers ?? [];
    const next = headers.some((h) => sameName(h.key))
      ? headers.map((h) => (sameName(h.key) ? header : h))
      : [...headers, header];
    return { ...action, http: { ...action.http, headers: next } };
  });
  if (!matched) actions.push({ http: { url: target.url, headers: [header] } });
  return { ...payload, actions };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
