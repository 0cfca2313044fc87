/** Local-only conveniences: AWS defaults for the emulator and the tables it needs. */
import { ensureLocalTables, isLocalEndpoint } from '../store/local-tables';
import { tableNamesFromEnv } from '../store/table-names';
import { localAwsAnswers, noLocalAws } from './local-aws-probe';

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

/**
 * The one local-defaults rule, applied before every `keyroll` command and every deploy: when
 * AWS_ENDPOINT_URL is a loopback endpoint (the emulator), region and test credentials default as
 * in {@link useLocalAwsDefaults}. Any other endpoint is AWS, and gets no defaults.
 * @returns whether `env` points at the emulator
 */
export function useLocalAwsDefaultsIfLocal(env: NodeJS.ProcessEnv = process.env): boolean {
  const endpoint = env.AWS_ENDPOINT_URL;
  if (!endpoint || !isLocalEndpoint(endpoint)) return false;
  useLocalAwsDefaults(endpoint, env);
  return true;
}

/** Creates missing tables when pointed at a local endpoint; in AWS the platform stack owns them. */
export async function ensureTablesIfLocal(log: (line: string) => void): Promise<void> {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (!endpoint || !isLocalEndpoint(endpoint)) return;
  // Without this, a stopped emulator shows up as the SDK's retries ending in ECONNREFUSED.
  if (!(await localAwsAnswers(endpoint))) throw noLocalAws(endpoint);
  const created = await ensureLocalTables(tableNamesFromEnv());
  if (created.length > 0) log(`Created local tables: ${created.join(', ')}`);
}
