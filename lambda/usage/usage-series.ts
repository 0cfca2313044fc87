/**
 * A key's usage series, as pure data: requests and errors by status class per bucket, the two
 * granularities with their retention, and the zero-filled series the API answers with.
 */

/** The status classes counted per bucket. `401`, `403` and `429` (the refusals alerts watch) are also in `4xx`. */
export const STATUS_CLASSES = ['2xx', '4xx', '5xx', '401', '403', '429'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];
export type StatusCounts = Record<StatusClass, number>;

/** One bucket's counts. `requests` counts every answer (1xx and 3xx too), `errors` those of 400 and up. */
export interface BucketCounts {
  requests: number;
  errors: number;
  byStatus: StatusCounts;
}

export function emptyCounts(): BucketCounts {
  return { requests: 0, errors: 0, byStatus: { '2xx': 0, '4xx': 0, '5xx': 0, '401': 0, '403': 0, '429': 0 } };
}

/** Counts one answer with `status`: the recorder's whole per-request cost, a few comparisons and increments. */
export function countStatus(counts: BucketCounts, status: number): void {
  counts.requests += 1;
  const byStatus = counts.byStatus;
  if (status < 400) {
    if (status >= 200 && status < 300) byStatus['2xx'] += 1;
    return;
  }
  counts.errors += 1;
  if (status >= 500) {
    byStatus['5xx'] += 1;
    return;
  }
  byStatus['4xx'] += 1;
  if (status === 401) byStatus['401'] += 1;
  else if (status === 403) byStatus['403'] += 1;
  else if (status === 429) byStatus['429'] += 1;
}

export function addCounts(into: BucketCounts, counts: BucketCounts): void {
  into.requests += counts.requests;
  into.errors += counts.errors;
  for (const status of STATUS_CLASSES) into.byStatus[status] += counts.byStatus[status];
}

export type Granularity = 'minute' | 'hour';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

export const GRANULARITIES: Record<Granularity, { readonly bucketMs: number; readonly retentionMs: number; readonly defaultSpanMs: number }> = {
  /** Kept 48 h; the API answers the last 60 minutes by default. */
  minute: { bucketMs: MINUTE_MS, retentionMs: 48 * HOUR_MS, defaultSpanMs: 60 * MINUTE_MS },
  /** Kept 90 days; the API answers the last 48 h by default. */
  hour: { bucketMs: HOUR_MS, retentionMs: 90 * 24 * HOUR_MS, defaultSpanMs: 48 * HOUR_MS },
};

/** The start of the bucket holding `atMs`. */
export function bucketStart(granularity: Granularity, atMs: number): number {
  const { bucketMs } = GRANULARITIES[granularity];
  return atMs - (((atMs % bucketMs) + bucketMs) % bucketMs);
}

/**
 * When DynamoDB's TTL may remove a bucket (epoch seconds): its retention after the bucket ends, so
 * a bucket stays whole for the full retention. TTL deletes late, never early.
 */
export function bucketTtlSeconds(granularity: Granularity, startMs: number): number {
  const { bucketMs, retentionMs } = GRANULARITIES[granularity];
  return Math.ceil((startMs + bucketMs + retentionMs) / 1000);
}

export interface SeriesPoint extends BucketCounts {
  /** The bucket's start, ISO-8601. */
  readonly at: string;
}

/**
 * Every bucket from `fromMs` up to (not including) `toMs`, both bucket starts, with the stored
 * counts where there are some and zeros elsewhere: a chart needs no gaps to interpret.
 */
export function fillSeries(granularity: Granularity, fromMs: number, toMs: number, stored: ReadonlyMap<number, BucketCounts>): SeriesPoint[] {
  const { bucketMs } = GRANULARITIES[granularity];
  const series: SeriesPoint[] = [];
  for (let at = fromMs; at < toMs; at += bucketMs) series.push({ at: new Date(at).toISOString(), ...(stored.get(at) ?? emptyCounts()) });
  return series;
}
