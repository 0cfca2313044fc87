/**
 * KeyStore on one DynamoDB table. Three kinds of item share it:
 * - the key record, `pk = TENANT#<tenant>`, `sk = KEY#<id>` (listing a tenant is one Query);
 * - a credential pointer, `pk = SECRET#<sha256>`, `sk = SECRET`, naming the key a credential opens
 *   (one for the current, the pending and each grace credential; see credential-pointers.ts), and
 *   holding that credential's `lastUsedAt`;
 * - a usage marker, `pk = TENANT#<tenant>`, `sk = USAGE#<delta id>`, so a usage delta counts once
 *   (see dynamodb-usage.ts); TTL removes it.
 * The record is the authority on which credentials are valid; pointers are only an index, so a
 * stale pointer (a regenerated-away or revoked credential) can never open a key.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  paginateQuery,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ApiKeyRecord } from '../keys/key-record';
import { type PointerWrite, pointerWrites } from './credential-pointers';
import type { KeyPage, KeyStore, SaveResult, UsageDelta } from './key-store';
import { keyItemKey, secretItemKey, TENANT_ITEMS, tenantPartition } from '../tables/table-layout';
import { writeUsageOnce } from './dynamodb-usage';

const USAGE_WRITE_CONCURRENCY = 8;

export { keyItemKey, secretItemKey };

export class DynamoDbKeyStore implements KeyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async insertKey(record: ApiKeyRecord): Promise<void> {
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.tableName,
              Item: { ...keyItemKey(record.tenant, record.id), kind: 'key', ...record },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          ...pointerWrites(undefined, record).map((write) => pointerTransactItem(this.tableName, record, write)),
        ],
      }),
    );
  }

  async getKey(tenant: string, id: string): Promise<ApiKeyRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keyItemKey(tenant, id), ConsistentRead: true }),
    );
    return Item ? recordFromItem(Item) : undefined;
  }

  async listKeys(tenant: string): Promise<ApiKeyRecord[]> {
    const records: ApiKeyRecord[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': tenantPartition(tenant), ':prefix': TENANT_ITEMS.key },
      },
    );
    for await (const page of pages) records.push(...(page.Items ?? []).map(recordFromItem));
    return records;
  }

  async listKeyPage(tenant: string, page: { readonly limit: number; readonly afterId?: string }): Promise<KeyPage> {
    const { Items, LastEvaluatedKey } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': tenantPartition(tenant), ':prefix': TENANT_ITEMS.key },
        Limit: page.limit,
        // Built from the tenant, never from the client: a cursor can only move within this tenant.
        ...(page.afterId ? { ExclusiveStartKey: keyItemKey(tenant, page.afterId) } : {}),
      }),
    );
    const lastSk = typeof LastEvaluatedKey?.sk === 'string' ? LastEvaluatedKey.sk : undefined;
    return { records: (Items ?? []).map(recordFromItem), ...(lastSk ? { lastEvaluatedId: lastSk.slice(TENANT_ITEMS.key.length) } : {}) };
  }

  async credentialLastUsed(hashes: readonly string[]): Promise<Map<string, string>> {
    const lastUsed = new Map<string, string>();
    // GetItem, not BatchGetItem: the service's role may only get items (and a key has at most five credentials).
    await Promise.all(
      [...new Set(hashes)].map(async (credentialHash) => {
        const { Item } = await this.client.send(
          new GetCommand({
            TableName: this.tableName,
            Key: secretItemKey(credentialHash),
            ConsistentRead: true,
            ProjectionExpression: 'lastUsedAt',
          }),
        );
        if (typeof Item?.lastUsedAt === 'string') lastUsed.set(credentialHash, Item.lastUsedAt);
      }),
    );
    return lastUsed;
  }

  async findKeyBySecretHash(credentialHash: string): Promise<ApiKeyRecord | undefined> {
    const { Item: pointer } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: secretItemKey(credentialHash), ConsistentRead: true }),
    );
    if (!pointer) return undefined;
    return this.getKey(String(pointer.tenant), String(pointer.keyId));
  }

  async saveKeyChanges(previous: ApiKeyRecord, next: ApiKeyRecord): Promise<SaveResult> {
    const update = {
      TableName: this.tableName,
      Key: keyItemKey(previous.tenant, previous.id),
      ...configurationUpdate(next),
      ConditionExpression: 'version = :previousVersion AND attribute_not_exists(revokedAt)',
    };
    update.ExpressionAttributeValues[':previousVersion'] = previous.version;
    const pointers = pointerWrites(previous, next);
    try {
      if (pointers.length === 0) {
        await this.client.send(new UpdateCommand(update));
      } else {
        // The record and its pointers together, so no credential it accepts is ever unindexed.
        await this.client.send(
          new TransactWriteCommand({ TransactItems: [{ Update: update }, ...pointers.map((write) => pointerTransactItem(this.tableName, next, write))] }),
        );
      }
      return 'saved';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'conflict';
      // Another writer won: its condition check failed ours, or DynamoDB refused two transactions
      // on one item at once. Either way nothing of ours was written.
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.some((reason) => reason.Code === 'ConditionalCheckFailed' || reason.Code === 'TransactionConflict')
      ) {
        return 'conflict';
      }
      throw error;
    }
  }

  /** Each delta once per id, however often it is sent (see dynamodb-usage.ts). */
  async recordUsage(deltas: readonly UsageDelta[], options: { readonly abortSignal?: AbortSignal } = {}): Promise<UsageDelta[]> {
    const queue = [...deltas];
    const failed: UsageDelta[] = [];
    const worker = async () => {
      for (let delta = queue.shift(); delta; delta = queue.shift()) {
        // An aborted flush sends nothing more; what it did not send is re-sent by the next one.
        if (options.abortSignal?.aborted) {
          failed.push(delta);
          continue;
        }
        const recordKey = keyItemKey(delta.tenant, delta.keyId);
        await writeUsageOnce(this.client, this.tableName, recordKey, delta, options.abortSignal).catch(() => failed.push(delta));
      }
    };
    await Promise.all(Array.from({ length: Math.min(USAGE_WRITE_CONCURRENCY, queue.length) }, worker));
    return failed;
  }
}

/**
 * A pointer write as a transaction item. Expiring and reviving update the pointer in place (creating
 * it if an old item lacks one), so its lastUsedAt is kept.
 */
function pointerTransactItem(tableName: string, record: ApiKeyRecord, write: PointerWrite) {
  const owner = { kind: 'secret', tenant: record.tenant, keyId: record.id };
  if (write.kind === 'create') {
    return { Put: { TableName: tableName, Item: { ...secretItemKey(write.credentialHash), ...owner }, ConditionExpression: 'attribute_not_exists(pk)' } };
  }
  const expiry = write.kind === 'expire' ? { set: ', #ttl = :ttl', remove: '', values: { ':ttl': write.ttl } } : { set: '', remove: ' REMOVE #ttl', values: {} };
  return {
    Update: {
      TableName: tableName,
      Key: secretItemKey(write.credentialHash),
      UpdateExpression: `SET #kind = :kind, tenant = :tenant, keyId = :keyId${expiry.set}${expiry.remove}`,
      ExpressionAttributeNames: { '#kind': 'kind', '#ttl': 'ttl' },
      ExpressionAttributeValues: { ':kind': owner.kind, ':tenant': owner.tenant, ':keyId': owner.keyId, ...expiry.values },
    },
  };
}

/** SET every field a change may touch; REMOVE expiresAt and pendingCredential when they were cleared. */
function configurationUpdate(next: ApiKeyRecord) {
  const fields = {
    name: next.name,
    permissions: next.permissions,
    rateLimit: next.rateLimit,
    enabled: next.enabled,
    tags: next.tags,
    start: next.start,
    credentialHash: next.credentialHash,
    graceCredentials: next.graceCredentials,
    updatedAt: next.updatedAt,
    version: next.version,
    ...(next.expiresAt ? { expiresAt: next.expiresAt } : {}),
    ...(next.revokedAt ? { revokedAt: next.revokedAt } : {}),
    ...(next.pendingCredential ? { pendingCredential: next.pendingCredential } : {}),
    ...(next.lastRotationToken ? { lastRotationToken: next.lastRotationToken } : {}),
    ...(next.declared ? { declared: next.declared } : {}),
  };
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets = Object.entries(fields).map(([field, value]) => {
    names[`#${field}`] = field;
    values[`:${field}`] = value;
    return `#${field} = :${field}`;
  });
  const removed = [...(next.expiresAt ? [] : ['expiresAt']), ...(next.pendingCredential ? [] : ['pendingCredential'])];
  return {
    UpdateExpression: `SET ${sets.join(', ')}${removed.length > 0 ? ` REMOVE ${removed.join(', ')}` : ''}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

function recordFromItem(item: Record<string, unknown>): ApiKeyRecord {
  // Items written before the credential vocabulary call the fields secretHash and graceSecrets.
  const { pk: _pk, sk: _sk, kind: _kind, secretHash, graceSecrets, ...record } = item;
  return {
    requestCount: 0,
    errorCount: 0,
    tags: [],
    ...(secretHash !== undefined ? { credentialHash: secretHash } : {}),
    graceCredentials: graceSecrets ?? [],
    ...record,
  } as unknown as ApiKeyRecord;
}
