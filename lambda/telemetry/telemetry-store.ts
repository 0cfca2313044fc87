/** Persists accepted telemetry readings: one DynamoDB item per reading, under the tenant and device. */
import { randomUUID } from 'node:crypto';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Reading } from './reading';

export interface StoredReading {
  readonly tenant: string;
  readonly keyId: string;
  readonly customerId?: string;
  readonly reading: Reading;
}

export interface TelemetryStore {
  save(readings: readonly StoredReading[], receivedAt: Date): Promise<void>;
}

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
      pk: `TENANT#${entry.tenant}#DEVICE#${entry.reading.deviceId}`,
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
