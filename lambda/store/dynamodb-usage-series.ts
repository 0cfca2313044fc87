/**
 * A key's usage series in the keys table: one item per minute and per hour with traffic, in the
 * key's own partition (`USAGE_SERIES#<tenant>#<keyId>`, sk `m#<ISO minute>` / `h#<ISO hour>`),
 * removed by TTL after their retention. Written only inside a usage delta's transaction (see
 * dynamodb-usage.ts), so each delta's counts land in the series exactly once; read with one Query.
 */
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { UsageDelta } from './key-store';
import { usageSeriesItemKey, usageSeriesPartition } from '../tables/table-layout';
import {
  addCounts,
  type BucketCounts,
  bucketStart,
  bucketTtlSeconds,
  emptyCounts,
  type Granularity,
  STATUS_CLASSES,
  type StatusClass,
} from '../usage/usage-series';

const SK_PREFIX: Record<Granularity, 'm' | 'h'> = { minute: 'm', hour: 'h' };

/** Item attributes per status class: `s2xx`, …, `s429` (attribute names cannot start with a digit in a path). */
const STATUS_ATTRIBUTE: Record<StatusClass, string> = Object.fromEntries(STATUS_CLASSES.map((status) => [status, `s${status}`])) as Record<
  StatusClass,
  string
>;

const COUNTER_NAMES = {
  '#requests': 'requests',
  '#errors': 'errors',
  ...Object.fromEntries(STATUS_CLASSES.map((status) => [`#${STATUS_ATTRIBUTE[status]}`, STATUS_ATTRIBUTE[status]])),
};
const ADD_COUNTERS = `ADD #requests :requests, #errors :errors, ${STATUS_CLASSES.map((status) => `#${STATUS_ATTRIBUTE[status]} :${STATUS_ATTRIBUTE[status]}`).join(', ')}`;

/**
 * The transaction items that add `delta` to its key's minute buckets and to the hour buckets they
 * fall in (summed per hour): one item per bucket, so at most 2 × MAX_MINUTES_PER_DELTA. ADD creates
 * a bucket on its first delta; the TTL is the same on every write, so SET keeps it idempotent.
 */
export function usageSeriesUpdates(tableName: string, delta: UsageDelta) {
  const hours = new Map<number, BucketCounts>();
  const buckets: { granularity: Granularity; startMs: number; counts: BucketCounts }[] = [];
  for (const minute of delta.minutes) {
    const startMs = Date.parse(minute.at);
    buckets.push({ granularity: 'minute', startMs, counts: { requests: minute.requests, errors: minute.errors, byStatus: { ...minute.byStatus } } });
    const hour = bucketStart('hour', startMs);
    if (!hours.has(hour)) hours.set(hour, emptyCounts());
    addCounts(hours.get(hour)!, minute);
  }
  for (const [startMs, counts] of hours) buckets.push({ granularity: 'hour', startMs, counts });
  return buckets.map(({ granularity, startMs, counts }) => ({
    Update: {
      TableName: tableName,
      Key: usageSeriesItemKey(delta.tenant, delta.keyId, SK_PREFIX[granularity], new Date(startMs).toISOString()),
      UpdateExpression: `SET #ttl = :ttl ${ADD_COUNTERS}`,
      ExpressionAttributeNames: { '#ttl': 'ttl', ...COUNTER_NAMES },
      ExpressionAttributeValues: {
        ':ttl': bucketTtlSeconds(granularity, startMs),
        ':requests': counts.requests,
        ':errors': counts.errors,
        ...Object.fromEntries(STATUS_CLASSES.map((status) => [`:${STATUS_ATTRIBUTE[status]}`, counts.byStatus[status]])),
      },
    },
  }));
}

export interface UsageSeriesRange {
  readonly granularity: Granularity;
  /** The first bucket's start, epoch ms. */
  readonly fromMs: number;
  /** The end of the range (exclusive), epoch ms. */
  readonly toMs: number;
}

export class DynamoDbUsageSeries {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * The stored buckets of one key in the range, by start (epoch ms); buckets without traffic are
   * absent. One Query: the API's limits (2,880 minutes, 2,160 hours) of items of about 150 bytes
   * stay well under a Query page's 1 MB, so the loop never turns in practice.
   */
  async read(tenant: string, keyId: string, range: UsageSeriesRange, abortSignal?: AbortSignal): Promise<Map<number, BucketCounts>> {
    const prefix = SK_PREFIX[range.granularity];
    const buckets = new Map<number, BucketCounts>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': usageSeriesPartition(tenant, keyId),
            ':from': `${prefix}#${new Date(range.fromMs).toISOString()}`,
            // The last bucket starts before `toMs`; ISO strings of one width sort as their times do.
            ':to': `${prefix}#${new Date(range.toMs - 1).toISOString()}`,
          },
          ExclusiveStartKey: startKey,
        }),
        { abortSignal },
      );
      for (const item of page.Items ?? []) {
        const startMs = Date.parse(String(item.sk).slice(prefix.length + 1));
        buckets.set(startMs, {
          requests: Number(item.requests ?? 0),
          errors: Number(item.errors ?? 0),
          byStatus: Object.fromEntries(STATUS_CLASSES.map((status) => [status, Number(item[STATUS_ATTRIBUTE[status]] ?? 0)])) as BucketCounts['byStatus'],
        });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return buckets;
  }
}
