/**
 * `?limit=&cursor=` for key lists. The cursor is opaque to clients (base64url of the last key id
 * returned); the store rebuilds the tenant's partition around it, so a forged cursor can only
 * move within the caller's own tenant.
 */
import { z } from 'zod';
import { errors } from '../errors';
import { parseInput } from '../validation';
import { isKeyId } from './tenant-scope';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** A `?limit=` of 1 to `max`, as query strings carry it. */
export function limitQuerySchema(max: number) {
  return z
    .string()
    .regex(/^\d{1,4}$/, `must be a whole number from 1 to ${max}`)
    .transform(Number)
    .pipe(z.int().min(1, 'must be at least 1').max(max, `must be at most ${max}`));
}

const listQuerySchema = z.strictObject(
  {
    limit: limitQuerySchema(MAX_PAGE_SIZE).optional(),
    cursor: z.string().max(200, 'is too long to be a cursor this API returned').optional(),
  },
  { error: 'must hold only `limit` and `cursor`' },
);

export function parseListQuery(query: Record<string, string>): { limit: number; afterId?: string } {
  const { limit, cursor } = parseInput(listQuerySchema, query, 'query');
  if (cursor === undefined) return { limit: limit ?? DEFAULT_PAGE_SIZE };
  const afterId = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isKeyId(afterId)) {
    throw errors.validation('query.cursor', 'is not a cursor this API returned', 'Pass `nextCursor` from the previous page unchanged, or omit it to start from the first page.');
  }
  return { limit: limit ?? DEFAULT_PAGE_SIZE, afterId };
}

export function encodeCursor(afterId: string): string {
  return Buffer.from(afterId, 'utf8').toString('base64url');
}
