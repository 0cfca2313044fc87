/**
 * A rate-limit table of its own on the emulator for one test file, and DynamoDB clients for it that
 * play separate service instances, optionally failing every call through SDK middleware.
 */
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { counterItemKey, type RateLimitCounter } from '../../lambda/rate-limit';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { createTable } from '../../lambda/store/local-tables';

/** Switch for an instance's client: while `failing`, every DynamoDB call throws a throttling error. */
export interface Faults {
  failing: boolean;
  /** Calls that reached DynamoDB (were not failed). */
  calls: number;
}

export interface InstanceClient {
  readonly documentClient: DynamoDBDocumentClient;
  readonly faults: Faults;
  destroy(): void;
}

export interface RateLimitTable {
  readonly tableName: string;
  /** A client of its own, as a separate service instance would have. */
  instanceClient(): InstanceClient;
  /** The counter item's slice attributes (consistent read). */
  readSlices(counter: RateLimitCounter): Promise<Map<number, number>>;
  drop(): Promise<void>;
}

function requireEmulator(): void {
  if (!process.env.AWS_ENDPOINT_URL) {
    throw new Error('AWS_ENDPOINT_URL is not set: run these tests through jest, whose globalSetup starts the emulator.');
  }
}

export async function createRateLimitTable(): Promise<RateLimitTable> {
  requireEmulator();
  const tableName = `rl-${randomBytes(4).toString('hex')}`;
  const admin = new DynamoDBClient({});
  await createTable(admin, tableName);
  const reader = createDocumentClient({ client: admin });
  return {
    tableName,
    instanceClient() {
      const client = new DynamoDBClient({ maxAttempts: 3 });
      const faults: Faults = { failing: false, calls: 0 };
      client.middlewareStack.add(
        (next) => async (args) => {
          if (faults.failing) {
            throw Object.assign(new Error('Rate exceeded (injected by the test)'), { name: 'ThrottlingException', $fault: 'client' });
          }
          faults.calls++;
          return next(args);
        },
        { step: 'initialize', name: 'injectFaults' },
      );
      return { documentClient: createDocumentClient({ client }), faults, destroy: () => client.destroy() };
    },
    async readSlices(counter) {
      const { Item } = await reader.send(new GetCommand({ TableName: tableName, Key: counterItemKey(counter), ConsistentRead: true }));
      const slices = new Map<number, number>();
      for (const [name, value] of Object.entries(Item ?? {})) {
        const match = /^s(\d+)$/.exec(name);
        if (match) slices.set(Number(match[1]), Number(value));
      }
      return slices;
    },
    async drop() {
      await admin.send(new DeleteTableCommand({ TableName: tableName }));
      admin.destroy();
    },
  };
}

export const sum = (values: Iterable<number>) => [...values].reduce((total, value) => total + value, 0);
