/** The service's settings, read once from the environment with errors that say how to fix them. */
import { type AlertThresholds, alertThresholdsFromEnv } from '../alerts/alert-thresholds';
import { serviceEnvironmentFromEnv } from '../deploy-env/service-environment';
import type { Environment } from '../keys/environments';
import { type TableNames, tableNamesFromEnv } from '../tables/table-names';
import { DEFAULT_EXTRA_KEY_HEADERS } from './presented-key';

export interface ServiceConfig {
  /** KEYROLL_ENVIRONMENT. @default 'production' */
  readonly environment: Environment;
  /** KEYROLL_API_KEY_HEADERS, comma-separated. @default ['x-tlm-key'] */
  readonly extraKeyHeaders: readonly string[];
  readonly tables: TableNames;
  /**
   * Where IoT topic rules post telemetry to this service (KEYROLL_TELEMETRY_URL): its destination is
   * the one it re-confirms at start-up. @default https://localhost:<PORT or 8787>/v1/telemetry
   */
  readonly telemetryUrl?: string;
  /**
   * KEYROLL_TRUSTED_PROXY_HOPS: how many proxies in front of the service append to X-Forwarded-For.
   * 0 (the default) ignores the header: the audit log's source IP is the connection's peer.
   */
  readonly trustedProxyHops?: number;
  /** When alerts on unusual activity fire (KEYROLL_ALERT_*). @default DEFAULT_ALERT_THRESHOLDS */
  readonly alertThresholds?: AlertThresholds;
}

export function serviceConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const environment = serviceEnvironmentFromEnv(env);
  const extraKeyHeaders =
    env.KEYROLL_API_KEY_HEADERS === undefined
      ? DEFAULT_EXTRA_KEY_HEADERS
      : env.KEYROLL_API_KEY_HEADERS.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  return { environment, extraKeyHeaders, tables: tableNamesFromEnv(env), telemetryUrl: telemetryUrlFromEnv(env), trustedProxyHops: trustedProxyHopsFromEnv(env), alertThresholds: alertThresholdsFromEnv(env) };
}

export function trustedProxyHopsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.KEYROLL_TRUSTED_PROXY_HOPS;
  if (raw === undefined || raw.trim() === '') return 0;
  if (!/^\d{1,2}$/.test(raw.trim())) {
    throw new Error(`KEYROLL_TRUSTED_PROXY_HOPS is ${JSON.stringify(raw)}: give the number of proxies in front of the service that append to X-Forwarded-For (0 to ignore the header).`);
  }
  return Number(raw.trim());
}

export function telemetryUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.KEYROLL_TELEMETRY_URL || `https://localhost:${env.PORT || 8787}/v1/telemetry`;
}
