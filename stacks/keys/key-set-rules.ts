/**
 * Rules over all the declared keys together, which no single key can break alone: one declaration
 * per tenant and name, and one key per consumer target (an IoT rule, a function's variable, an SSM
 * parameter). Shared by the KeysStack and `keyroll check`.
 */
import type { ApiKeyProps } from '../../lambda/declared-key/contract';
import { consumerTarget, sharedWording } from './consumer-targets';
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
  /** By consumer target (consumer-targets.ts): the key that holds it first. */
  const owners = new Map<string, number>();
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
      const target = consumerTarget(consumer);
      if (!target) return;
      const owner = owners.get(target.id);
      if (owner === undefined) owners.set(target.id, keyIndex);
      // A place repeated within one key is that key's own issue (apiKeyPropsIssues); a clash with
      // another key is reported once per key, on its first consumer of that place.
      else if (owner !== keyIndex && !clashed.has(target.id)) {
        clashed.add(target.id);
        issues.push({ ...sharedWording(target, `${labelOf(keys[owner], owner)} (${where(owner)})`), keyIndex, path: ['consumers', consumerIndex, target.field] });
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
