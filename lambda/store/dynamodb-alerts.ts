/**
 * Alerts and the source IPs keys were used from, in the keys table.
 *
 * An alert is three items written in one transaction: a marker `ALERT#<tenant>#<keyId>`,
 * `sk = #<alert id>`, that only the first write creates (alert ids are the same on every instance
 * that finds the same alert, see alert-rules.ts, so two instances raising it store it once), and
 * the alert in both views, `ALERT#<tenant>` and `ALERT#<tenant>#<keyId>`, `sk = <ISO time>#<id>`,
 * read newest first like the audit log. Markers sort below every time, so feeds never see them.
 *
 * A key's sources are `SOURCES#<tenant>#<keyId>`, `sk = <IP>`: one update per source tells whether
 * it is new (no `firstSeenAt` before it) and keeps it for SOURCE_RETENTION_DAYS after its last use.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ALERT_RETENTION_DAYS, type Alert, type AlertType } from '../alerts/alert';
import { alertItemKey, alertPartition, keyAlertPartition, keySourceItemKey, keySourcesPartition } from '../tables/table-layout';
import { type FeedPage, type ItemTarget, readNewestFirst, targetAttributes, targetOfItem } from './newest-first-feed';

/** A source unused for this long is forgotten: its next use is new again. */
export const SOURCE_RETENTION_DAYS = 90;

export interface AlertQuery {
  readonly keyId?: string;
  readonly type?: AlertType;
  readonly limit: number;
  readonly after?: string;
  /** Alerts the reader may see; the others are skipped. @default all */
  readonly visible?: (target: ItemTarget) => boolean;
}

export type RaiseOutcome = 'raised' | 'already-raised';

/** A source use, as told by rememberSource. */
export interface SourceUse {
  /** Whether this is the key's first use from the source (within SOURCE_RETENTION_DAYS). */
  readonly isNew: boolean;
  /** Other sources the key is known to have been used from (only counted when `isNew`, at most 20). */
  readonly otherSources: number;
}

export class DynamoDbAlerts {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Stores the alert unless an alert with its id is stored already. */
  async raise(alert: Alert, target: ItemTarget, abortSignal?: AbortSignal): Promise<RaiseOutcome> {
    const ttl = Math.ceil(Date.parse(alert.at) / 1000) + ALERT_RETENTION_DAYS * 86_400;
    const body = { kind: 'alert', alert, alertType: alert.type, ...targetAttributes(target), ttl };
    const keyPartition = keyAlertPartition(alert.tenant, alert.keyId);
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.tableName, Item: { pk: keyPartition, sk: `#${alert.id}`, kind: 'alert-marker', ttl }, ConditionExpression: 'attribute_not_exists(pk)' } },
            { Put: { TableName: this.tableName, Item: { ...alertItemKey(alertPartition(alert.tenant), alert.at, alert.id), ...body } } },
            { Put: { TableName: this.tableName, Item: { ...alertItemKey(keyPartition, alert.at, alert.id), ...body } } },
          ],
        }),
        { abortSignal },
      );
      return 'raised';
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return 'already-raised';
      throw error;
    }
  }

  /** Newest first; the tenant's, or one key's. */
  async list(tenant: string, query: AlertQuery): Promise<FeedPage<Alert>> {
    const pk = query.keyId ? keyAlertPartition(tenant, query.keyId) : alertPartition(tenant);
    const { visible, type } = query;
    return readNewestFirst(this.client, this.tableName, pk, {
      limit: query.limit,
      ...(query.after ? { after: query.after } : {}),
      ...(visible ? { visible: (item: Record<string, unknown>) => visible(targetOfItem(item)) } : {}),
      ...(type ? { matches: (item: Record<string, unknown>) => item.alertType === type } : {}),
      read: (item) => item.alert as Alert,
    });
  }

  /** Records a use of the key from `sourceIp` at `atMs`; tells whether the source is new to the key. */
  async rememberSource(tenant: string, keyId: string, sourceIp: string, atMs: number, abortSignal?: AbortSignal): Promise<SourceUse> {
    const at = new Date(atMs).toISOString();
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keySourceItemKey(tenant, keyId, sourceIp),
        UpdateExpression: 'SET firstSeenAt = if_not_exists(firstSeenAt, :at), lastSeenAt = :at, #ttl = :ttl',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':at': at, ':ttl': Math.ceil(atMs / 1000) + SOURCE_RETENTION_DAYS * 86_400 },
        ReturnValues: 'UPDATED_OLD',
      }),
      { abortSignal },
    );
    if (Attributes?.firstSeenAt !== undefined) return { isNew: false, otherSources: 0 };
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keySourcesPartition(tenant, keyId) },
        ProjectionExpression: 'sk',
        Limit: 21,
        // Strongly consistent: a source written a moment ago by another flush must count.
        ConsistentRead: true,
      }),
      { abortSignal },
    );
    return { isNew: true, otherSources: Items.filter((item) => item.sk !== sourceIp).length };
  }
}
