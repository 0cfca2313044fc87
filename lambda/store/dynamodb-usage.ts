/**
 * Usage writes on the keys table, each delta applied at most once per id. One transaction adds the
 * delta's counters to the key record and puts a marker item `pk = TENANT#<tenant>`,
 * `sk = USAGE#<delta id>` that only the first write can create. A retry of a write that landed (the
 * SDK's own retry after a lost answer, or the next flush re-sending a delta whose outcome it never
 * learned) fails on the marker and counts as applied, so nothing is counted twice. The same
 * transaction adds the delta's minutes to the key's usage series (see dynamodb-usage-series.ts), so
 * the series are exactly once by the same marker, and agree with the key's totals.
 *
 * Each credential's lastUsedAt goes on its pointer (`SECRET#<hash>`), moved forward like the key's:
 * those writes are idempotent by themselves, so they need no marker.
 *
 * Markers stay in the tenant's partition because the service's IAM role may only write `TENANT#…`,
 * `SECRET#…` and `USAGE_SERIES#…`; they sort outside `KEY#…`, so listing keys never sees them; TTL removes them.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UsageDelta } from './key-store';
import { usageSeriesUpdates } from './dynamodb-usage-series';
import { secretItemKey, usageMarkerKey } from '../tables/table-layout';

/**
 * How long a marker guards its delta. A delta is re-sent within seconds of its first attempt (or on
 * the next invocation of a frozen Lambda instance); a day covers any instance's lifetime with room.
 */
export const USAGE_MARKER_TTL_SECONDS = 24 * 3600;

export { usageMarkerKey };

type ItemKey = Record<'pk' | 'sk', string>;

/**
 * Moves lastUsedAt forward (the key's, and each credential's on its pointer), then adds `delta` to
 * the key record at `recordKey` unless a write of the same delta id already did. Throws when the
 * outcome is unknown (network, throttling, abort): the caller re-sends the same delta. Usage of a
 * key deleted from the table is dropped.
 */
export async function writeUsageOnce(
  client: DynamoDBDocumentClient,
  tableName: string,
  recordKey: ItemKey,
  delta: UsageDelta,
  abortSignal?: AbortSignal,
): Promise<void> {
  const marker = { ...usageMarkerKey(delta.tenant, delta.id), kind: 'usage', keyId: delta.keyId, ttl: Math.ceil(Date.now() / 1000) + USAGE_MARKER_TTL_SECONDS };
  // lastUsedAt first: it is true as soon as the uses happened, and setting it is idempotent, so
  // whoever reads the counts of a batch also sees its lastUsedAt (the other order showed counts
  // with no lastUsedAt for a moment).
  await Promise.all([
    moveLastUsedAtForward(client, tableName, recordKey, delta.lastUsedAt, abortSignal),
    ...(delta.credentials ?? []).map((use) =>
      moveLastUsedAtForward(client, tableName, secretItemKey(use.credentialHash), use.lastUsedAt, abortSignal, delta.keyId),
    ),
  ]);
  try {
    await client.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tableName, Item: marker, ConditionExpression: 'attribute_not_exists(pk)' } },
          {
            Update: {
              TableName: tableName,
              Key: recordKey,
              UpdateExpression: 'ADD requestCount :requests, errorCount :errors',
              // Usage never creates a stub item for a key that is not there.
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':requests': delta.requests, ':errors': delta.errors },
            },
          },
          // After the marker and the record: their cancellation reasons are read by position below.
          ...usageSeriesUpdates(tableName, delta),
        ],
      }),
      { abortSignal },
    );
  } catch (error) {
    const [markerReason, recordReason] = cancellationCodes(error);
    // The record's check only failed alone: the key was deleted, its usage has nowhere to go.
    if (markerReason !== 'ConditionalCheckFailed' && recordReason === 'ConditionalCheckFailed') return;
    // Anything else but "this delta is already in" leaves the outcome unknown.
    if (markerReason !== 'ConditionalCheckFailed') throw error;
  }
}

/**
 * Its own write, as a transaction cannot skip one item whose condition fails: set only when newer,
 * so batches flushed out of order by several instances never move it backwards. Idempotent as is.
 * With `keyId` (a credential pointer), only the pointer of that key is touched.
 */
async function moveLastUsedAtForward(
  client: DynamoDBDocumentClient,
  tableName: string,
  itemKey: ItemKey,
  lastUsedAt: string,
  abortSignal: AbortSignal | undefined,
  keyId?: string,
): Promise<void> {
  try {
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: itemKey,
        UpdateExpression: 'SET lastUsedAt = :at',
        // Never creates an item: usage of a credential whose pointer expired has nowhere to go.
        ConditionExpression: `attribute_exists(pk)${keyId ? ' AND keyId = :keyId' : ''} AND (attribute_not_exists(lastUsedAt) OR lastUsedAt < :at)`,
        ExpressionAttributeValues: { ':at': lastUsedAt, ...(keyId ? { ':keyId': keyId } : {}) },
      }),
      { abortSignal },
    );
  } catch (error) {
    // A newer use is recorded already, or the key (or pointer) is gone: nothing to do either way.
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** The cancellation code per transaction item (`'None'` for an item that was fine), or [] when not cancelled. */
function cancellationCodes(error: unknown): (string | undefined)[] {
  if (!(error instanceof TransactionCanceledException)) return [];
  return (error.CancellationReasons ?? []).map((reason) => reason.Code);
}
