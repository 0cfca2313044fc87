/** Turns zod failures into one VALIDATION_ERROR that names each offending field and how to fix it. */
import type { z } from 'zod';
import { KeyrollError } from './errors';

/**
 * Parses `input` or throws a VALIDATION_ERROR. `where` prefixes field paths (e.g. `body`), so a
 * message reads "`body.rateLimit.limit` must be at least 1".
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, where: string): z.infer<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 5).map((issue) => describeIssue(issue, where));
  throw new KeyrollError('VALIDATION_ERROR', `${problems.join('; ')}.`);
}

function describeIssue(issue: z.core.$ZodIssue, where: string): string {
  const field = [where, ...issue.path.map(String)].filter(Boolean).join('.');
  if (issue.code === 'unrecognized_keys') {
    return `\`${field}\` has unknown field(s) ${issue.keys.map((k) => `\`${k}\``).join(', ')}: remove them or check their spelling`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return `\`${field}\` is required: add it`;
  }
  return `\`${field}\` ${issue.message}`;
}
