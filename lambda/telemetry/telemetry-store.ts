/** Persists accepted telemetry readings: one DynamoDB item per reading, under the tenant and device. */
import { randomUUID } from 'node:crypto';
import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { TELEMETRY_TENANT_INDEX } from '../tables/table-names';
import type { Reading } from './reading';

export interface StoredReading {
  readonly tenant: string;
  readonly keyId: string;
  readonly customerId?: string;
  readonly reading: Reading;
}

/** A reading as it is read back: what the device sent, and who sent it when. */
export interface ReceivedReading {
  readonly deviceId: string;
  readonly keyId: string;
  readonly customerId: string | null;
  readonly receivedAt: string;
  readonly reading: Record<string, unknown>;
}

export interface LatestQuery {
  readonly tenant: string;
  /** One device's readings; all of the tenant's without it. */
  readonly deviceId?: string;
  /** Only readings of this customer (a customer-scoped caller). */
  readonly customerId?: string;
  readonly limit: number;
}

export interface TelemetryStore {
  save(readings: readonly StoredReading[], receivedAt: Date): Promise<void>;
  /** The newest readings first. */
  latest(query: LatestQuery): Promise<ReceivedReading[]>;
}

/** Pages read for one answer at most, when a customer filter skips most readings. */
const MAX_LATEST_PAGES = 5;

const BATCH_SIZE = 25;
const MAX_ATTEMPTS = 5;

export class DynamoDbTelemetryStore implements TelemetryStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async save(readings: readonly StoredReading[], receivedAt: Date): Promise<void> {
    const at = receivedAt.toISOString();
    const items = readings.map((entry) => ({
      pk: devicePartition(entry.tenant, entry.reading.deviceId),
      sk: `${at}#${randomUUID()}`,
      tenant: entry.tenant,
      deviceId: entry.reading.deviceId,
      keyId: entry.keyId,
      customerId: entry.customerId,
      receivedAt: at,
      // Stored as JSON text: readings are arbitrary JSON, and DynamoDB can't hold every JSON value
      // natively (empty-string map keys, numbers beyond 38 digits).
      payload: JSON.stringify(entry.reading),
    }));
    for (let i = 0; i < items.length; i += BATCH_SIZE) {
      await this.writeBatch(items.slice(i, i + BATCH_SIZE));
    }
  }

  async latest(query: LatestQuery): Promise<ReceivedReading[]> {
    const found: ReceivedReading[] = [];
    let startKey: Record<string, unknown> | undefined;
    for (let page = 0; page < MAX_LATEST_PAGES && found.length < query.limit; page++) {
      const { Items, LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          ...(query.deviceId
            ? { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': devicePartition(query.tenant, query.deviceId), ...customerValue(query) } }
            : {
                IndexName: TELEMETRY_TENANT_INDEX.name,
                KeyConditionExpression: '#tenant = :tenant',
                ExpressionAttributeNames: { '#tenant': TELEMETRY_TENANT_INDEX.partitionKey },
                ExpressionAttributeValues: { ':tenant': query.tenant, ...customerValue(query) },
              }),
          ...(query.customerId ? { FilterExpression: 'customerId = :customerId' } : {}),
          ScanIndexForward: false,
          Limit: query.limit - found.length,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of Items ?? []) found.push(receivedReading(item));
      if (!LastEvaluatedKey) break;
      startKey = LastEvaluatedKey;
    }
    return found.slice(0, query.limit);
  }

  private async writeBatch(items: Record<string, unknown>[]): Promise<void> {
    let requests = items.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 1; requests.length > 0; attempt++) {
      const { UnprocessedItems } = await this.client.send(
        new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
      );
      requests = (UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      if (requests.length === 0) return;
      if (attempt === MAX_ATTEMPTS) {
        throw Object.assign(new Error(`${requests.length} telemetry readings stayed unprocessed`), {
          name: 'ProvisionedThroughputExceededException',
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
    }
  }
}

function devicePartition(tenant: string, deviceId: string): string {
  return `TENANT#${tenant}#DEVICE#${deviceId}`;
}

function customerValue(query: LatestQuery): Record<string, string> {
  return query.customerId ? { ':customerId': query.customerId } : {};
}

function receivedReading(item: Record<string, unknown>): ReceivedReading {
  return {
    deviceId: String(item.deviceId),
    keyId: String(item.keyId),
    customerId: typeof item.customerId === 'string' ? item.customerId : null,
    receivedAt: String(item.receivedAt),
    reading: JSON.parse(String(item.payload)) as Record<string, unknown>,
  };
}
