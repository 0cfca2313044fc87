/** Local-only conveniences: AWS defaults for the emulator and the tables it needs. */
import { ensureLocalTables, isLocalEndpoint } from '../store/local-tables';
import { tableNamesFromEnv } from '../store/table-names';

/**
 * Points `env` at the emulator. It accepts any credentials, so harmless ones are set (the SDK and
 * Terraform would otherwise go looking); settings already present win.
 */
export function useLocalAwsDefaults(endpoint: string, env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_ENDPOINT_URL = endpoint;
  env.AWS_REGION ??= 'us-east-1';
  env.AWS_DEFAULT_REGION ??= env.AWS_REGION;
  env.AWS_ACCESS_KEY_ID ??= 'test';
  env.AWS_SECRET_ACCESS_KEY ??= 'test';
}

/** Creates missing tables when pointed at a local endpoint; in AWS the platform stack owns them. */
export async function ensureTablesIfLocal(log: (line: string) => void): Promise<void> {
  if (!isLocalEndpoint()) return;
  const created = await ensureLocalTables(tableNamesFromEnv());
  if (created.length > 0) log(`Created local tables: ${created.join(', ')}`);
}
