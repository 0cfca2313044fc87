/**
 * Where a consumer holds its credential (an IoT rule, a function's variable, an SSM parameter) as
 * one id, so that two consumers holding the same place are refused: of one key (they would be one
 * consumer), or of two keys (each deploy and rotation would overwrite the other's credential).
 */
import { quote } from './declaration-issue';

export interface ConsumerTarget {
  /** Equal for two consumers that hold the same place, e.g. `variable:ingest:KEYROLL_API_KEY`. */
  readonly id: string;
  /** The field an issue points at. */
  readonly field: 'ruleName' | 'variable' | 'name';
  readonly kind: 'rule' | 'variable' | 'parameter';
  /** The field's value as a problem quotes it: `"acme_ingest"`, `"KEYROLL_API_KEY" in function ingest`. */
  readonly quoted: string;
}

/**
 * The place a consumer holds its credential, or undefined for one too malformed to tell (its
 * shape has an issue of its own). A consumer with a `ruleName` and no other known type counts as
 * a rule, so a misspelt type hides no clash.
 */
export function consumerTarget(consumer: unknown): ConsumerTarget | undefined {
  if (consumer === null || typeof consumer !== 'object') return undefined;
  const c = consumer as Record<string, unknown>;
  if (c.type === 'lambda-env') {
    if (typeof c.functionName !== 'string' || typeof c.variable !== 'string') return undefined;
    // A name and an ARN can name the same function: compare by the name, which is unique per region.
    const functionName = c.functionName.split(':function:').pop()!;
    return { id: `variable:${functionName}:${c.variable}`, field: 'variable', kind: 'variable', quoted: `${quote(c.variable)} in function ${functionName}` };
  }
  if (c.type === 'ssm-parameter') {
    if (typeof c.name !== 'string') return undefined;
    // `/name` and `name` are the same parameter at the top of the hierarchy.
    return { id: `parameter:${c.name.replace(/^\//, '')}`, field: 'name', kind: 'parameter', quoted: quote(c.name) };
  }
  if (typeof c.ruleName !== 'string') return undefined;
  return { id: `rule:${c.ruleName}`, field: 'ruleName', kind: 'rule', quoted: quote(c.ruleName) };
}

/** The issue code, problem and fix for a consumer that holds the place an earlier one of the same key holds. */
export function repeatedWording(target: ConsumerTarget, earlierIndex: number): { code: string; problem: string; fix: string } {
  const earlier = `consumers[${earlierIndex}]`;
  switch (target.kind) {
    case 'rule':
      return { code: 'RULE_REPEATED', problem: `is ${target.quoted}, the rule of ${earlier} too`, fix: 'give each consumer its own rule' };
    case 'variable':
      return { code: 'CONSUMER_REPEATED', problem: `is ${target.quoted}, which ${earlier} writes too`, fix: 'give each consumer its own variable, or remove one of them' };
    case 'parameter':
      return { code: 'CONSUMER_REPEATED', problem: `is ${target.quoted}, the parameter of ${earlier} too`, fix: 'give each consumer its own parameter, or remove one of them' };
  }
}

/** The issue code, problem and fix for a consumer that holds the place another key's consumer holds (`owner` names that key and where it is). */
export function sharedWording(target: ConsumerTarget, owner: string): { code: string; problem: string; fix: string } {
  const overwrite = 'so two keys would overwrite each other there at every deploy and rotation';
  switch (target.kind) {
    case 'rule':
      return {
        code: 'RULE_SHARED',
        problem: `is ${target.quoted}, already the rule of ${owner}`,
        fix: 'an IoT rule carries one key and its name is unique in the account: give each key its own rule',
      };
    case 'variable':
      return { code: 'CONSUMER_SHARED', problem: `is ${target.quoted}, which ${owner} writes already`, fix: `a variable holds one key, ${overwrite}: give each key its own variable` };
    case 'parameter':
      return { code: 'CONSUMER_SHARED', problem: `is ${target.quoted}, already the parameter of ${owner}`, fix: `a parameter holds one key, ${overwrite}: give each key its own parameter` };
  }
}
