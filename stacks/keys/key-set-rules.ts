/**
 * Rules over all the declared keys together, which no single key can break alone: one declaration
 * per tenant and name, and one key per IoT rule. Shared by the KeysStack and `keyroll check`.
 */
import type { ApiKeyProps } from './api-key-props';
import { type DeclarationIssue, formatPath, quote } from './declaration-issue';

export interface KeySetIssue extends DeclarationIssue {
  /** Which key (its index in the list) the issue is reported on: the later of the two. */
  readonly keyIndex: number;
}

/** As much of a key as the rules read; anything else may be malformed. */
export interface KeyHandle {
  readonly tenant?: unknown;
  readonly name?: unknown;
  readonly consumers?: unknown;
}

/**
 * Every clash, each reported once, on the later key. `where(index)` says where the other key is
 * (default `keys[<index>]`), so a file check can point at its line.
 */
export function keySetIssues(keys: readonly KeyHandle[], where: (index: number) => string = (index) => `keys[${index}]`): KeySetIssue[] {
  const issues: KeySetIssue[] = [];
  const declared = new Map<string, number>();
  const ruleOwners = new Map<string, number>();
  keys.forEach((key, keyIndex) => {
    if (typeof key.tenant === 'string' && typeof key.name === 'string') {
      const id = `${key.tenant}/${key.name}`;
      const earlier = declared.get(id);
      if (earlier === undefined) declared.set(id, keyIndex);
      else {
        issues.push({
          code: 'DUPLICATE_KEY',
          keyIndex,
          path: ['name'],
          problem: `is ${quote(key.name)}, so ${id} is declared twice (also ${where(earlier)})`,
          fix: 'key names must be unique within a tenant, whatever the environment (the secret keyroll/<tenant>/<name> holds none): rename or remove one',
        });
      }
    }
    const consumers = Array.isArray(key.consumers) ? key.consumers : [];
    const clashed = new Set<string>();
    consumers.forEach((consumer: unknown, consumerIndex) => {
      const ruleName = (consumer as { ruleName?: unknown } | null)?.ruleName;
      if (typeof ruleName !== 'string') return;
      const owner = ruleOwners.get(ruleName);
      if (owner === undefined) ruleOwners.set(ruleName, keyIndex);
      // A rule repeated within one key is that key's own issue (apiKeyPropsIssues); a clash with
      // another key is reported once per key, on its first consumer of the rule.
      else if (owner !== keyIndex && !clashed.has(ruleName)) {
        clashed.add(ruleName);
        issues.push({
          code: 'RULE_SHARED',
          keyIndex,
          path: ['consumers', consumerIndex, 'ruleName'],
          problem: `is ${quote(ruleName)}, already the rule of ${labelOf(keys[owner], owner)} (${where(owner)})`,
          fix: 'an IoT rule carries one key and its name is unique in the account: give each key its own rule',
        });
      }
    });
  });
  return issues;
}

/** Throws one Error listing every clash; for the KeysStack, whose keys come from code or a file. */
export function assertValidKeySet(keys: readonly ApiKeyProps[]): void {
  const issues = keySetIssues(keys);
  if (issues.length === 0) return;
  const lines = issues.map((issue) => `  - ApiKey "${keys[issue.keyIndex].tenant}/${keys[issue.keyIndex].name}": \`${formatPath(issue.path)}\` ${issue.problem} — ${issue.fix}`);
  throw new Error(['The declared keys clash:', ...lines].join('\n'));
}

function labelOf(key: KeyHandle, index: number): string {
  return typeof key.tenant === 'string' && typeof key.name === 'string' ? `${key.tenant}/${key.name}` : `keys[${index}]`;
}
