/**
 * One thing wrong with a key declaration, as data: where (a path into the declaration), what
 * (quoting the bad value) and how to fix it. The ApiKey construct and `keyroll check` both report
 * these, each in its own form, so the two can never disagree on what is wrong.
 */
import type { z } from 'zod';
import { closest } from '../../lambda/keys/permission-registry';

export type IssuePath = readonly (string | number)[];

export interface DeclarationIssue {
  /** Stable, for tests and tools: `UNKNOWN_FIELD`, `INVALID_VALUE`, `UNKNOWN_PERMISSION`, … */
  readonly code: string;
  /** Where, from the declaration's root, e.g. `['consumers', 0, 'ruleName']`. */
  readonly path: IssuePath;
  /** What is wrong, quoting the bad value: `is "qa"`, `is not a field of a key`. */
  readonly problem: string;
  /** How to fix it: `must be one of …`, `did you mean "permissions"?`. */
  readonly fix: string;
  /** For an unknown field: point at the field's name rather than its value. */
  readonly atFieldName?: boolean;
}

/** `consumers[0].ruleName`. */
export function formatPath(path: IssuePath): string {
  return path.map((segment, i) => (typeof segment === 'number' ? `[${segment}]` : i === 0 ? segment : `.${segment}`)).join('');
}

/** The value at `path` inside `input`, or undefined. */
export function valueAt(input: unknown, path: IssuePath): unknown {
  let value = input;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

/** A bad value as a reader would write it: strings quoted, long lists and maps summarised. */
export function quote(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) {
    const json = JSON.stringify(value);
    return json.length <= 60 ? json : `a list of ${value.length}`;
  }
  const json = JSON.stringify(value);
  if (json === undefined) return String(value);
  return json.length <= 80 ? json : `${json.slice(0, 77)}…`;
}

/**
 * Field names a zod object schema accepts at `path` (unwrapping optionals and arrays). At a
 * discriminated union (a consumer), the fields of the option `input` picks there, or of them all.
 */
export function fieldsAt(schema: z.ZodType, path: IssuePath, input?: unknown): string[] {
  let current: unknown = schema;
  for (const [depth, segment] of [...path, undefined].entries()) {
    current = optionAt(unwrap(current), valueAt(input, path.slice(0, depth)));
    if (segment === undefined) break;
    const shape = (current as { shape?: Record<string, unknown> }).shape;
    const element = (current as { element?: unknown }).element;
    current = typeof segment === 'number' ? element : shape?.[segment];
    if (current === undefined) return [];
  }
  const options = (current as { options?: unknown[] }).options ?? [current];
  return [...new Set(options.flatMap((option) => Object.keys((option as { shape?: Record<string, unknown> }).shape ?? {})))];
}

function unwrap(schema: unknown): unknown {
  let current = schema as { unwrap?: () => unknown; def?: { type?: string } } | undefined;
  while (current && typeof current.unwrap === 'function' && current.def?.type !== 'array') current = current.unwrap() as typeof current;
  return current;
}

/** The option of a discriminated union that `value` names by its discriminator; else the schema itself. */
function optionAt(schema: unknown, value: unknown): unknown {
  const union = schema as { options?: { shape?: Record<string, { value?: unknown }> }[]; def?: { discriminator?: string } } | undefined;
  const discriminator = union?.def?.discriminator;
  if (!union?.options || !discriminator || value === null || typeof value !== 'object') return schema;
  const named = (value as Record<string, unknown>)[discriminator];
  return union.options.find((option) => option.shape?.[discriminator]?.value === named) ?? schema;
}

/**
 * Zod's issues as declaration issues: one per unknown field (with a did-you-mean among the fields
 * that exist there), each bad value quoted, zod's generic wording replaced by the fix.
 * `noun(path)` names what holds the fields at `path` ("a key", "a consumer").
 */
export function issuesFromZod(error: z.ZodError, input: unknown, schema: z.ZodType, noun: (path: IssuePath) => string): DeclarationIssue[] {
  const issues: DeclarationIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path as (string | number)[];
    if (issue.code === 'unrecognized_keys') {
      const fields = fieldsAt(schema, path, input);
      for (const field of issue.keys) {
        const suggestion = closest(field, fields);
        issues.push({
          code: 'UNKNOWN_FIELD',
          path: [...path, field],
          problem: `is not a field of ${noun(path)}`,
          fix: suggestion ? `did you mean "${suggestion}"?` : `remove it, or use one of ${fields.join(', ')}`,
          atFieldName: true,
        });
      }
      continue;
    }
    const value = valueAt(input, path);
    const rule = humanMessage(issue);
    if (value === undefined) {
      issues.push({ code: 'MISSING_FIELD', path, problem: 'is missing', fix: `add it: it ${rule}` });
      continue;
    }
    let fix = rule;
    // A bad enum value, or a consumer `type` that names no consumer: suggest the one meant.
    const allowed = issue.code === 'invalid_value' ? issue.values : issue.code === 'invalid_union' ? ((issue as { options?: unknown[] }).options ?? []) : [];
    if (typeof value === 'string' && allowed.length > 0) {
      const suggestion = closest(value, allowed.map(String));
      if (suggestion) fix = `did you mean "${suggestion}"? It ${rule}`;
    }
    issues.push({ code: 'INVALID_VALUE', path, problem: `is ${quote(value)}`, fix });
  }
  // Two checks of one field may fail alike (zod runs them all); a reader needs each once.
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const id = `${formatPath(issue.path)}\u0000${issue.fix}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

const TYPE_NAMES: Record<string, string> = {
  int: 'a whole number',
  number: 'a number',
  string: 'text',
  array: 'a list',
  object: 'a map of fields',
  boolean: 'true or false',
};

/** The schema's own message when it has one; zod's defaults reworded as what the value must be. */
function humanMessage(issue: z.core.$ZodIssue): string {
  if (!/^(Invalid|Too (big|small)|Unrecognized)/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case 'too_big':
      return issue.origin === 'array'
        ? `must hold at most ${issue.maximum} items`
        : issue.origin === 'string'
          ? `must be at most ${issue.maximum} characters`
          : `must be at most ${issue.maximum}`;
    case 'too_small':
      return issue.origin === 'array'
        ? `must hold at least ${issue.minimum} item${Number(issue.minimum) === 1 ? '' : 's'}`
        : issue.origin === 'string'
          ? `must be at least ${issue.minimum} character${Number(issue.minimum) === 1 ? '' : 's'}`
          : `must be at least ${issue.minimum}`;
    case 'invalid_value':
      return `must be ${issue.values.length === 1 ? quote(issue.values[0]) : `one of ${issue.values.map((v) => quote(v)).join(', ')}`}`;
    default:
      return issue.message.replace(/^Invalid input:?\s*/, 'must be valid: ');
  }
}
