/**
 * The audit log in the keys table. Each entry is two items written in one transaction, so both
 * views are one Query each, newest first (ScanIndexForward=false), and never disagree:
 * - `pk = AUDIT#<tenant>`, every entry of the tenant;
 * - `pk = AUDIT#<tenant>#<keyId>`, the entries of one key;
 * both with `sk = <ISO time>#<entry id>`, the entry itself under `entry`, its key's environment and
 * customer beside it (for who may read it), and `ttl` AUDIT_RETENTION_DAYS after the entry.
 */
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_RETENTION_DAYS, type AuditEntry, type AuditLog, type AuditPage, type AuditQuery, type AuditTarget } from '../audit/audit-log';
import { auditItemKey, auditPartition, keyAuditPartition } from '../tables/table-layout';
import { readNewestFirst, targetAttributes, targetOfItem } from './newest-first-feed';

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
      ...targetAttributes(target),
      ttl: Math.ceil(Date.parse(entry.at) / 1000) + this.retentionSeconds,
    };
    const put = (pk: string) => ({ Put: { TableName: this.tableName, Item: { ...auditItemKey(pk, entry.at, entry.id), ...body } } });
    // Putting the same entry again (an SDK retry after a lost answer) writes the same two items.
    await this.client.send(new TransactWriteCommand({ TransactItems: [put(auditPartition(entry.tenant)), put(keyAuditPartition(entry.tenant, entry.keyId))] }));
  }

  async list(tenant: string, query: AuditQuery): Promise<AuditPage> {
    const pk = query.keyId ? keyAuditPartition(tenant, query.keyId) : auditPartition(tenant);
    const visible = query.visible;
    const page = await readNewestFirst(this.client, this.tableName, pk, {
      limit: query.limit,
      ...(query.after ? { after: query.after } : {}),
      ...(visible ? { visible: (item: Record<string, unknown>) => visible(targetOfItem(item)) } : {}),
      read: (item) => item.entry as AuditEntry,
      maxReads: this.maxReads,
    });
    return { entries: page.items, ...(page.next ? { next: page.next } : {}) };
  }
}
