/**
 * `GET /v1/tenants/{tenant}/api-keys/{id}/usage?from=&to=&granularity=minute|hour`: one key's usage
 * series, requests and errors by status class per bucket, zero-filled. Authenticated (keys:manage)
 * by the management middleware of api-keys.ts, which covers every path under `…/api-keys/`; read
 * with the same scope as GET of the key (tenant, customer, environment).
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { errors } from '../../errors';
import { bucketStart, fillSeries, type Granularity, GRANULARITIES } from '../../usage/usage-series';
import { parseInput } from '../../validation';
import type { ServeEnv } from '../context';
import type { ServeDeps } from '../deps';
import { respondPrivately } from '../respond';
import { readableKey } from '../tenant-scope';

const timeSchema = z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time, e.g. 2027-01-31T12:00:00Z' });

const usageQuerySchema = z.strictObject(
  {
    granularity: z.enum(['minute', 'hour'], { error: 'must be `minute` or `hour`' }).optional(),
    from: timeSchema.optional(),
    to: timeSchema.optional(),
  },
  { error: 'must hold only `from`, `to` and `granularity`' },
);

const RETENTION_TEXT: Record<Granularity, string> = { minute: '48 hours', hour: '90 days' };

export function keyUsageRoutes(deps: Pick<ServeDeps, 'manager' | 'usageSeries'>): Hono<ServeEnv> {
  const routes = new Hono<ServeEnv>();
  routes.get('/v1/tenants/:tenant/api-keys/:id/usage', async (c) => {
    // Scope first, as GET of the key: another tenant's caller learns nothing from how its query is wrong.
    const record = await readableKey(deps, c);
    const range = usageRange(parseInput(usageQuerySchema, c.req.query(), 'query'), Date.now());
    const stored = await deps.usageSeries.read(record.tenant, record.id, range);
    return respondPrivately(c, {
      keyId: record.id,
      granularity: range.granularity,
      from: new Date(range.fromMs).toISOString(),
      to: new Date(range.toMs).toISOString(),
      series: fillSeries(range.granularity, range.fromMs, range.toMs, stored),
    });
  });
  return routes;
}

/**
 * The buckets asked for: `from` rounded down and `to` up to whole buckets, `to` exclusive. Without
 * `to`, up to the end of the current bucket; without `from`, the default span before `to`.
 */
export function usageRange(query: z.infer<typeof usageQuerySchema>, nowMs: number) {
  const granularity = query.granularity ?? 'minute';
  const { bucketMs, retentionMs, defaultSpanMs } = GRANULARITIES[granularity];
  const toMs = bucketStart(granularity, (query.to ? Date.parse(query.to) : nowMs) + bucketMs - 1);
  const fromMs = query.from ? bucketStart(granularity, Date.parse(query.from)) : toMs - defaultSpanMs;
  const kept = RETENTION_TEXT[granularity];
  if (fromMs >= toMs) {
    throw errors.validation('query.from', 'must be before `to`', 'Send a `from` earlier than `to` (both ISO-8601), or omit them for the latest buckets.');
  }
  // One bucket of slack for the rounding out and for a client clock a little behind.
  if (toMs - fromMs > retentionMs + bucketMs) {
    throw errors.validation(
      'query.from',
      `is more than ${kept} before \`to\`: a series of ${granularity} buckets spans at most ${kept}`,
      granularity === 'minute' ? 'Narrow the range, or ask for `granularity=hour`.' : 'Narrow the range to 90 days or less.',
    );
  }
  if (fromMs < bucketStart(granularity, nowMs - retentionMs) - bucketMs) {
    throw errors.validation(
      'query.from',
      `is older than ${granularity} buckets are kept (${kept})`,
      granularity === 'minute' ? 'Send a `from` within the last 48 hours, or ask for `granularity=hour` (kept 90 days).' : 'Send a `from` within the last 90 days.',
    );
  }
  return { granularity, fromMs, toMs };
}
