/**
 * What the hot-path benchmarks run against: an emulator of their own, keyroll's tables in it, and
 * one production key with a rate limit high enough never to refuse the benchmark's load.
 */
import { useLocalAwsDefaults } from '../../lambda/deploy-env/local-endpoint';
import { type LocalAws, startLocalAws } from '../../lambda/local-aws';
import { KeyManager } from '../../lambda/manage/key-manager';
import { createDocumentClient } from '../../lambda/store/dynamodb-client';
import { DynamoDbKeyStore } from '../../lambda/store/dynamodb-key-store';
import { ensureLocalTables } from '../../lambda/store/local-tables';
import { type TableNames, tableNamesFromEnv } from '../../lambda/tables/table-names';

export interface BenchEnvironment {
  readonly localAws: LocalAws;
  readonly tables: TableNames;
  readonly documentClient: ReturnType<typeof createDocumentClient>;
  readonly store: DynamoDbKeyStore;
  /** The key's plaintext: sent as `x-api-key`, never printed. */
  readonly key: string;
  readonly keyId: string;
  stop(): Promise<void>;
}

export async function startBenchEnvironment(): Promise<BenchEnvironment> {
  const localAws = await startLocalAws({ quiet: true });
  try {
    // Every client below and every child process (the server) reach this emulator.
    useLocalAwsDefaults(localAws.endpoint);
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    const tables = tableNamesFromEnv();
    await ensureLocalTables(tables);
    const documentClient = createDocumentClient();
    const store = new DynamoDbKeyStore(documentClient, tables.keys);
    const { record, key } = await new KeyManager({ store }).create('bench', {
      name: 'bench',
      environment: 'production',
      permissions: ['telemetry:write'],
      rateLimit: { limit: 1_000_000_000, windowSeconds: 60 },
    });
    return { localAws, tables, documentClient, store, key, keyId: record.id, stop: () => localAws.stop() };
  } catch (error) {
    await localAws.stop();
    throw error;
  }
}
