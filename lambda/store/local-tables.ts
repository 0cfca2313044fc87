/**
 * Creates keyroll's tables when they are missing, for local runs against the emulator only. In AWS
 * the platform stack owns the tables; creating them from the service would hide a broken deploy.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { isLocalEndpoint } from '../deploy-env/local-endpoint';
import { TABLE_KEY_SCHEMA, TELEMETRY_TENANT_INDEX, type TableNames } from '../tables/table-names';

export async function ensureLocalTables(tables: TableNames, client = new DynamoDBClient({})): Promise<string[]> {
  if (!isLocalEndpoint(process.env.AWS_ENDPOINT_URL)) {
    throw new Error(
      'Refusing to create tables: AWS_ENDPOINT_URL is not a local endpoint. In AWS, deploy the platform stack (npm run deploy) to create them.',
    );
  }
  const created: string[] = [];
  for (const tableName of Object.values(tables)) {
    if (await tableExists(client, tableName)) continue;
    try {
      await createTable(client, tableName, { tenantIndex: tableName === tables.telemetry });
      created.push(tableName);
    } catch (error) {
      // Another process (a second instance starting beside this one) created it first.
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  return created;
}

/**
 * One table with keyroll's key schema (string `pk`/`sk`), billed per request.
 * @param options.tenantIndex add the telemetry table's index by tenant. @default false
 */
export async function createTable(client: DynamoDBClient, tableName: string, options: { tenantIndex?: boolean } = {}): Promise<void> {
  const index = TELEMETRY_TENANT_INDEX;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: TABLE_KEY_SCHEMA.partitionKey, AttributeType: 'S' },
        { AttributeName: TABLE_KEY_SCHEMA.sortKey, AttributeType: 'S' },
        ...(options.tenantIndex ? [{ AttributeName: index.partitionKey, AttributeType: 'S' as const }] : []),
      ],
      KeySchema: [
        { AttributeName: TABLE_KEY_SCHEMA.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_KEY_SCHEMA.sortKey, KeyType: 'RANGE' },
      ],
      ...(options.tenantIndex
        ? {
            GlobalSecondaryIndexes: [
              {
                IndexName: index.name,
                KeySchema: [
                  { AttributeName: index.partitionKey, KeyType: 'HASH' },
                  { AttributeName: index.sortKey, KeyType: 'RANGE' },
                ],
                Projection: { ProjectionType: 'ALL' },
              },
            ],
          }
        : {}),
    }),
  );
}

async function tableExists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}
