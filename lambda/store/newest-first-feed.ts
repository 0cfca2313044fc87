/**
 * Reading a newest-first feed partition (the audit log's and the alerts' views): items with
 * `sk = <ISO time>#<id>`, one Query page at a time, skipping items the reader may not see, with a
 * cursor that is the last returned item's sort key. Bounded: a reader who may see few of a busy
 * partition's items gets a short page and a cursor, never an unbounded loop of reads.
 */
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Environment } from '../keys/environments';
import { isEnvironment } from '../keys/environments';

export interface FeedQuery<T> {
  readonly limit: number;
  /** Continue after this sort key (the previous page's `next`). */
  readonly after?: string;
  /** Whether the reader may see an item; the others are skipped. @default all */
  readonly visible?: (item: Record<string, unknown>) => boolean;
  /** Whether an item belongs in the page at all (e.g. a type filter); checked after `visible`. @default all */
  readonly matches?: (item: Record<string, unknown>) => boolean;
  /** The value a page returns for each item. */
  readonly read: (item: Record<string, unknown>) => T;
  /** Store reads one page may make while skipping items. @default 5 */
  readonly maxReads?: number;
}

export interface FeedPage<T> {
  readonly items: T[];
  /** Where the next page starts, when there may be one. May come with fewer than `limit` items. */
  readonly next?: string;
}

/** The lowest sort key of a feed item: ISO times start with a digit; other items in the partition (markers) sort below. */
const FEED_SK_FLOOR = '0';

export async function readNewestFirst<T>(client: DynamoDBDocumentClient, tableName: string, pk: string, query: FeedQuery<T>): Promise<FeedPage<T>> {
  const maxReads = query.maxReads ?? 5;
  const items: T[] = [];
  // Built from the caller's partition, never from the client: a cursor only moves within it.
  let startSk = query.after;
  for (let reads = 1; ; reads++) {
    const { Items = [], LastEvaluatedKey } = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND sk > :floor',
        ExpressionAttributeValues: { ':pk': pk, ':floor': FEED_SK_FLOOR },
        ScanIndexForward: false,
        Limit: query.limit,
        ...(startSk ? { ExclusiveStartKey: { pk, sk: startSk } } : {}),
      }),
    );
    for (const [index, item] of Items.entries()) {
      if (query.visible && !query.visible(item)) continue;
      if (query.matches && !query.matches(item)) continue;
      items.push(query.read(item));
      if (items.length === query.limit) {
        const more = index < Items.length - 1 || LastEvaluatedKey !== undefined;
        return { items, ...(more ? { next: String(item.sk) } : {}) };
      }
    }
    const lastSk = typeof LastEvaluatedKey?.sk === 'string' ? LastEvaluatedKey.sk : undefined;
    if (!lastSk) return { items };
    if (reads === maxReads) return { items, next: lastSk };
    startSk = lastSk;
  }
}

/** Whom a feed item is visible to: its key's environment and customer, stored beside it. */
export interface ItemTarget {
  readonly environment: Environment;
  readonly customerId?: string;
}

/** An item whose environment is unreadable is shown only to managers who see production. */
export function targetOfItem(item: Record<string, unknown>): ItemTarget {
  const environment = typeof item.keyEnvironment === 'string' && isEnvironment(item.keyEnvironment) ? item.keyEnvironment : 'production';
  return { environment, ...(typeof item.keyCustomerId === 'string' ? { customerId: item.keyCustomerId } : {}) };
}

/** The attributes that say whom an item is visible to, for writing beside it. */
export function targetAttributes(target: ItemTarget): Record<string, string> {
  return { keyEnvironment: target.environment, ...(target.customerId ? { keyCustomerId: target.customerId } : {}) };
}
