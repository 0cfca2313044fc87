/** Local-only conveniences: AWS defaults for the emulator and the tables it needs. */
import { ensureLocalTables, isLocalEndpoint } from '../store/local-tables';
import { tableNamesFromEnv } from '../store/table-names';

/** The emulator accepts any credentials; set harmless ones so the SDK doesn't go looking. */
export function useLocalAwsDefaults(endpoint: string): void {
  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
}

/** Creates missing tables when pointed at a local endpoint; in AWS the platform stack owns them. */
export async function ensureTablesIfLocal(log: (line: string) => void): Promise<void> {
  if (!isLocalEndpoint()) return;
  const created = await ensureLocalTables(tableNamesFromEnv());
  if (created.length > 0) log(`Created local tables: ${created.join(', ')}`);
}
