/** A key's inline consumers as a set: every declared rule rebuilt from the spec with the key, and rules no longer declared deleted. */
import type { IoTClient } from '@aws-sdk/client-iot';
import type { InlineIotRule } from '../key-spec';
import { deleteInlineRule, type RuleOwner, writeKeyIntoRule } from './iot-rule-inline';

/**
 * Writes each rule as the spec declares it, with `key` (see writeKeyIntoRule), one after another,
 * and returns their ARNs in the spec's order. Called on every apply, also when the key is kept, so a
 * changed topic, URL or header reaches the rule. `onWritten` hears of each rule once it holds the
 * key, so a caller can undo exactly those.
 */
export async function writeKeyIntoInlineConsumers(
  iot: IoTClient,
  rules: readonly InlineIotRule[],
  key: string,
  owner: RuleOwner,
  onWritten: (rule: InlineIotRule) => void = () => undefined,
): Promise<string[]> {
  const arns: string[] = [];
  for (const rule of rules) {
    arns.push(await writeKeyIntoRule(iot, rule, key, owner));
    onWritten(rule);
  }
  return arns;
}

export interface InlineConsumersDeleted {
  /** Rules that existed and were deleted. */
  readonly deleted: string[];
  /** Rules that exist but are not tagged for this key: left alone. */
  readonly notOwned: string[];
}

/** Deletes rules by name, each only if it is tagged for `owner`. */
export async function deleteInlineConsumers(iot: IoTClient, ruleNames: readonly string[], owner: RuleOwner): Promise<InlineConsumersDeleted> {
  const result: InlineConsumersDeleted = { deleted: [], notOwned: [] };
  for (const ruleName of ruleNames) {
    const outcome = await deleteInlineRule(iot, ruleName, owner);
    if (outcome === 'deleted') result.deleted.push(ruleName);
    if (outcome === 'not-owned') result.notOwned.push(ruleName);
  }
  return result;
}
