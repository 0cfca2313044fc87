/** A key's inline consumers as a set: the key written into every declared rule, and rules no longer declared deleted. */
import type { IoTClient } from '@aws-sdk/client-iot';
import type { InlineIotRule } from '../key-spec';
import { deleteInlineRule, writeKeyIntoRule } from './iot-rule-inline';

/**
 * Writes `key` into each rule, one after another, and returns their ARNs in the spec's order.
 * `onWritten` hears of each rule once it holds the key, so a caller can undo exactly those.
 */
export async function writeKeyIntoInlineConsumers(
  iot: IoTClient,
  rules: readonly InlineIotRule[],
  key: string,
  onWritten: (rule: InlineIotRule) => void = () => undefined,
): Promise<string[]> {
  const arns: string[] = [];
  for (const rule of rules) {
    arns.push(await writeKeyIntoRule(iot, rule, key));
    onWritten(rule);
  }
  return arns;
}

/** Deletes rules by name; returns the names that existed. */
export async function deleteInlineConsumers(iot: IoTClient, ruleNames: readonly string[]): Promise<string[]> {
  const deleted: string[] = [];
  for (const ruleName of ruleNames) {
    if (await deleteInlineRule(iot, ruleName)) deleted.push(ruleName);
  }
  return deleted;
}
