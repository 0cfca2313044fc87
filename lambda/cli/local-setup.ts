/**
 * Local-only convenience: the tables the emulator needs. (Whether a run is local, and the AWS
 * defaults it gets, are lambda/deploy-env/local-endpoint.ts, shared with the deploy runner.)
 */
import { localAwsAnswers, localEndpointFromEnv } from '../deploy-env/local-endpoint';
import { ensureLocalTables } from '../store/local-tables';
import { tableNamesFromEnv } from '../tables/table-names';
import { noLocalAws } from './local-aws-probe';

/** Creates missing tables when pointed at a local endpoint; in AWS the platform stack owns them. */
export async function ensureTablesIfLocal(log: (line: string) => void): Promise<void> {
  const endpoint = localEndpointFromEnv();
  if (!endpoint) return;
  // Without this, a stopped emulator shows up as the SDK's retries ending in ECONNREFUSED.
  if (!(await localAwsAnswers(endpoint))) throw noLocalAws(endpoint);
  const created = await ensureLocalTables(tableNamesFromEnv());
  if (created.length > 0) log(`Created local tables: ${created.join(', ')}`);
}
