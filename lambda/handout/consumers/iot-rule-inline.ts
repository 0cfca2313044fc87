/**
 * An IoT topic rule that carries the key inline, in a header of its HTTP action. A rule keyroll owns
 * (tagged `keyroll:key` for the key) is keyroll's to define: every write rebuilds it from the spec,
 * so a changed topic, URL or header takes effect and no action left from an earlier spec keeps
 * sending the key anywhere. The provisioner touches no rule without that tag.
 */
import {
  CreateTopicRuleCommand,
  DeleteTopicRuleCommand,
  GetTopicRuleCommand,
  type GetTopicRuleCommandOutput,
  type IoTClient,
  paginateListTagsForResource,
  paginateListTopicRules,
  ReplaceTopicRuleCommand,
  TagResourceCommand,
  type TopicRule,
  type TopicRulePayload,
} from '@aws-sdk/client-iot';
import { hashCredential } from '../../keys/credential-hash';
import type { InlineIotRule } from '../../provision/key-spec';
import { awsCall, awsErrorName } from '../aws-errors';
import { handoutErrors } from '../errors';
import { type ConsumerOwner, isOwner, OWNER_TAG } from './consumer-owner';
import type { ConsumerRemoval, ConsumerWriter } from './consumer-writer';

/**
 * The inline rule as a consumer writer: `write` is writeKeyIntoRule, `remove` deleteInlineRule.
 *
 * @example
 * const rules = inlineRuleWriter({ iot });
 * const arn = await rules.write(inlineConsumersOf(spec)[0], credential, consumerOwner(spec));
 */
export function inlineRuleWriter({ iot }: { readonly iot: IoTClient }): ConsumerWriter<InlineIotRule> {
  return {
    describe: (rule) => `IoT topic rule ${rule.ruleName}`,
    write: (rule, credential, owner) => writeKeyIntoRule(iot, rule, credential, owner),
    readBackHash: (rule) => readBackRuleHash(iot, rule),
    remove: (rule, owner) => deleteInlineRule(iot, rule.ruleName, owner),
  };
}

const IAM_FIX =
  "Check that the provisioner's role may iot:GetTopicRule, iot:CreateTopicRule, iot:ReplaceTopicRule, iot:DeleteTopicRule, iot:ListTagsForResource and iot:TagResource on the rule";

/**
 * Makes the rule exactly what `rule` declares, sending `key` in `rule.headerName` to `rule.url`:
 * created (tagged for `owner`) if it does not exist, else rebuilt in place (see `rulePayload`).
 * Returns the rule's ARN. An existing rule must carry the owner's tag, or RULE_NOT_OWNED is thrown
 * and the rule is left as it was. Usable on its own, e.g. to push a regenerated key.
 *
 * @example
 * const arn = await writeKeyIntoRule(iot, rule, issued.key, { key: ownerTagValue('acme', 'sensors') });
 */
export async function writeKeyIntoRule(iot: IoTClient, rule: InlineIotRule, key: string, owner: ConsumerOwner): Promise<string> {
  // Two rounds: if the rule appears between our read and our create, the second round takes the existing-rule path.
  for (let round = 1; ; round++) {
    const existing = await getRule(iot, rule.ruleName);
    if (existing) {
      await claimRule(iot, rule.ruleName, existing.ruleArn, owner);
      const payload = rulePayload(rule, key, { disabled: existing.rule.ruleDisabled === true });
      await awsCall(`Writing the key into IoT topic rule ${rule.ruleName}`, `${IAM_FIX}, and that the spec's sql is valid.`, () =>
        iot.send(new ReplaceTopicRuleCommand({ ruleName: rule.ruleName, topicRulePayload: payload })),
      );
      return existing.ruleArn;
    }
    try {
      await iot.send(new CreateTopicRuleCommand({ ruleName: rule.ruleName, topicRulePayload: rulePayload(rule, key), tags: ownerTags(owner) }));
    } catch (error) {
      if (round === 1 && awsErrorName(error) === 'ResourceAlreadyExistsException') continue;
      throw handoutErrors.awsRequestFailed(`Creating IoT topic rule ${rule.ruleName}`, error, `${IAM_FIX}, and that the spec's sql is valid.`);
    }
    const created = await getRule(iot, rule.ruleName);
    if (created) return created.ruleArn;
    throw handoutErrors.awsRequestFailed(`Reading IoT topic rule ${rule.ruleName} after creating it`, 'it is gone', 'Check that nothing else deletes it, then re-run the apply.');
  }
}

/**
 * Deletes a rule the key was written into, if it is tagged for `owner`; a rule without that tag was
 * not created for this key and is left alone. Repeatable: a rule already gone is `absent`.
 */
export async function deleteInlineRule(iot: IoTClient, ruleName: string, owner: ConsumerOwner): Promise<ConsumerRemoval> {
  const existing = await getRule(iot, ruleName, { confirmAbsence: true });
  if (!existing) return 'absent';
  if (!isOwner(owner, await ruleOwnerTag(iot, ruleName, existing.ruleArn))) return 'not-owned';
  return awsCall(`Deleting IoT topic rule ${ruleName}`, `${IAM_FIX}, and iot:ListTopicRules.`, async () => {
    try {
      await iot.send(new DeleteTopicRuleCommand({ ruleName }));
      return 'deleted' as const;
    } catch (error) {
      // Destroy must be repeatable: a rule deleted meanwhile (by hand, or a concurrent attempt) is done.
      if (awsErrorName(error) === 'ResourceNotFoundException') return 'absent' as const;
      if (awsErrorName(error) === 'UnauthorizedException' && !(await ruleIsListed(iot, ruleName))) return 'absent' as const;
      throw error;
    }
  });
}

/**
 * hashCredential of the header `rule.headerName` (compared without case, as HTTP does) of the rule's
 * HTTP action to `rule.url`, or undefined when the rule, that action or that header is missing.
 */
export async function readBackRuleHash(iot: IoTClient, rule: Pick<InlineIotRule, 'ruleName' | 'url' | 'headerName'>): Promise<string | undefined> {
  const existing = await getRule(iot, rule.ruleName);
  const headerName = rule.headerName.toLowerCase();
  const action = existing?.rule.actions?.find((candidate) => candidate.http?.url === rule.url);
  const credential = action?.http?.headers?.find((header) => header.key?.toLowerCase() === headerName)?.value;
  return credential === undefined ? undefined : hashCredential(credential);
}

/** Refuses a rule not tagged for `owner`; re-tags one tagged with an earlier name of the same key. */
async function claimRule(iot: IoTClient, ruleName: string, ruleArn: string, owner: ConsumerOwner): Promise<void> {
  const found = await ruleOwnerTag(iot, ruleName, ruleArn);
  if (!isOwner(owner, found)) throw handoutErrors.ruleNotOwned(ruleName, { name: OWNER_TAG, expected: owner.key, found });
  if (found === owner.key) return;
  await awsCall(`Re-tagging IoT topic rule ${ruleName} for key \`${owner.key}\``, `${IAM_FIX}.`, () =>
    iot.send(new TagResourceCommand({ resourceArn: ruleArn, tags: [{ Key: OWNER_TAG, Value: owner.key }] })),
  );
}

/** The rule's `keyroll:key` tag, if it has one. */
async function ruleOwnerTag(iot: IoTClient, ruleName: string, ruleArn: string): Promise<string | undefined> {
  return awsCall(`Reading the tags of IoT topic rule ${ruleName}`, `${IAM_FIX}.`, async () => {
    for await (const page of paginateListTagsForResource({ client: iot }, { resourceArn: ruleArn })) {
      const tag = (page.tags ?? []).find((t) => t.Key === OWNER_TAG);
      if (tag) return tag.Value ?? '';
    }
    return undefined;
  });
}

/** CreateTopicRule's `tags`: URL-query encoded, `key1=value1&key2=value2`. */
function ownerTags(owner: ConsumerOwner): string {
  return new URLSearchParams({ [OWNER_TAG]: owner.key }).toString();
}

/**
 * The rule and its ARN, or undefined when no rule has that name. IoT answers UnauthorizedException
 * ("Access to topic rule … was denied") for a rule that does not exist. Before a write that is
 * taken as absence: if access really is denied, the CreateTopicRule that follows fails and says so.
 * With `confirmAbsence` (before a delete) the rule list decides, and a listed rule is an error.
 */
async function getRule(
  iot: IoTClient,
  ruleName: string,
  options: { confirmAbsence?: boolean } = {},
): Promise<{ rule: TopicRule; ruleArn: string } | undefined> {
  const output = await awsCall<GetTopicRuleCommandOutput | undefined>(`Reading IoT topic rule ${ruleName}`, `${IAM_FIX}, and iot:ListTopicRules.`, async () => {
    try {
      return await iot.send(new GetTopicRuleCommand({ ruleName }));
    } catch (error) {
      if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
      if (awsErrorName(error) === 'UnauthorizedException' && !(options.confirmAbsence && (await ruleIsListed(iot, ruleName)))) return undefined;
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

/** `rulePayload`'s options. */
export interface RulePayloadOptions {
  /**
   * Whether the rule is disabled. A human's off switch, like a key's `enabled`: a rebuild keeps it
   * as the existing rule has it, and only a new rule starts enabled.
   * @default false
   */
  readonly disabled?: boolean;
}

/**
 * The whole rule as the spec declares it: its SQL, SQL version and description, and one HTTP action
 * to `rule.url` with the key in `rule.headerName` and a JSON content type. Nothing else: no other
 * action, no errorAction (which could carry the message, key header and all, elsewhere), no
 * confirmationUrl (the destination is the url's own).
 */
export function rulePayload(rule: InlineIotRule, key: string, options: RulePayloadOptions = {}): TopicRulePayload {
  return {
    sql: rule.sql,
    awsIotSqlVersion: rule.sqlVersion,
    ...(rule.description === undefined ? {} : { description: rule.description }),
    ruleDisabled: options.disabled ?? false,
    actions: [
      {
        http: {
          url: rule.url,
          headers: [
            { key: rule.headerName, value: key },
            // As the reference rules send: AWS documents no default content type for HTTP actions.
            { key: 'content-type', value: 'application/json' },
          ],
        },
      },
    ],
  };
}
