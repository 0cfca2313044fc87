/**
 * The audit log in the keys table. Each entry is two items written in one transaction, so both
 * views are one Query each, newest first (ScanIndexForward=false), and never disagree:
 * - `pk = AUDIT#<tenant>`, every entry of the tenant;
 * - `pk = AUDIT#<tenant>#<keyId>`, the entries of one key;
 * both with `sk = <ISO time>#<entry id>`, the entry itself under `entry`, its key's environment and
 * customer beside it (for who may read it), and `ttl` AUDIT_RETENTION_DAYS after the entry.
 */
import { type DynamoDBDocumentClient, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_RETENTION_DAYS, type AuditEntry, type AuditLog, type AuditPage, type AuditQuery, type AuditTarget } from '../audit/audit-log';
import { isEnvironment } from '../keys/environments';
import { auditItemKey, auditPartition, keyAuditPartition } from '../tables/table-layout';

export interface DynamoDbAuditLogOptions {
  /** @default AUDIT_RETENTION_DAYS (400) */
  readonly retentionDays?: number;
  /**
   * Store reads one list request may make while skipping entries the reader may not see; past it
   * the page ends early, with a cursor. @default 5
   */
  readonly maxReadsPerPage?: number;
}

export class DynamoDbAuditLog implements AuditLog {
  private readonly retentionSeconds: number;
  private readonly maxReads: number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoDbAuditLogOptions = {},
  ) {
    this.retentionSeconds = (options.retentionDays ?? AUDIT_RETENTION_DAYS) * 86_400;
    this.maxReads = options.maxReadsPerPage ?? 5;
  }

  async append(entry: AuditEntry, target: AuditTarget): Promise<void> {
    const body = {
      kind: 'audit',
      entry,
      keyEnvironment: target.environment,
      ...(target.customerId ? { keyCustomerId: target.customerId } : {}),
      ttl: Math.ceil(Date.parse(entry.at) / 1000) + this.retentionSeconds,
    };
    const put = (pk: string) => ({ Put: { TableName: this.tableName, Item: { ...auditItemKey(pk, entry.at, entry.id), ...body } } });
    // Putting the same entry again (an SDK retry after a lost answer) writes the same two items.
    await this.client.send(new TransactWriteCommand({ TransactItems: [put(auditPartition(entry.tenant)), put(keyAuditPartition(entry.tenant, entry.keyId))] }));
  }

  async list(tenant: string, query: AuditQuery): Promise<AuditPage> {
    const pk = query.keyId ? keyAuditPartition(tenant, query.keyId) : auditPartition(tenant);
    const entries: AuditEntry[] = [];
    // Built from the path's tenant (and key), never from the client: a cursor only moves within them.
    let startSk = query.after;
    for (let reads = 1; ; reads++) {
      const { Items = [], LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ScanIndexForward: false,
          Limit: query.limit,
          ...(startSk ? { ExclusiveStartKey: { pk, sk: startSk } } : {}),
        }),
      );
      for (const [index, item] of Items.entries()) {
        if (query.visible && !query.visible(targetOfItem(item))) continue;
        entries.push(item.entry as AuditEntry);
        if (entries.length === query.limit) {
          const more = index < Items.length - 1 || LastEvaluatedKey !== undefined;
          return { entries, ...(more ? { next: String(item.sk) } : {}) };
        }
      }
      const lastSk = typeof LastEvaluatedKey?.sk === 'string' ? LastEvaluatedKey.sk : undefined;
      if (!lastSk) return { entries };
      // Bounded: a reader who may see few of a busy tenant's entries gets a short page and a cursor.
      if (reads === this.maxReads) return { entries, next: lastSk };
      startSk = lastSk;
    }
  }
}

/** An item whose environment is unreadable is shown only to managers who see production. */
function targetOfItem(item: Record<string, unknown>): AuditTarget {
  const environment = typeof item.keyEnvironment === 'string' && isEnvironment(item.keyEnvironment) ? item.keyEnvironment : 'production';
  return { environment, ...(typeof item.keyCustomerId === 'string' ? { customerId: item.keyCustomerId } : {}) };
}
