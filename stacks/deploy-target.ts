/**
 * Where a synth deploys to: real AWS through the usual AWS environment, or the local emulator when
 * AWS_ENDPOINT_URL is a loopback address. Read once from the environment, so switching needs no code edits.
 */
import { alertEmailFromEnv, alertThresholdEnvFromEnv } from '../lambda/deploy-env/alert-settings';
import { consumerCacheSecondsFromEnv } from '../lambda/deploy-env/consumer-cache';
import { stateDirFromEnv } from '../lambda/deploy-env/keyroll-dirs';
import { localEndpointFromEnv } from '../lambda/deploy-env/local-endpoint';
import { serviceEnvironmentFromEnv } from '../lambda/deploy-env/service-environment';
import type { Environment } from '../lambda/keys/environments';

export interface DeployTarget {
  /**
   * True when AWS_ENDPOINT_URL is a loopback address (the emulator): tables lose their deletion
   * protection and secrets their recovery window. Any other endpoint (a proxy, a VPC endpoint) is
   * treated as AWS, with every protection on.
   */
  readonly local: boolean;
  readonly region: string;
  /**
   * Where the local backend keeps state (KEYROLL_STATE_DIR). @default <project>/.keyroll/state, or
   * …/state/local/<emulator port> for the emulator: kept apart, and cleared whenever an emulator
   * starts on that port, because an emulator starts empty (see lambda/deploy-env/keyroll-dirs.ts)
   */
  readonly stateDir: string;
  /** S3 bucket for state in real AWS pipelines (KEYROLL_STATE_BUCKET). @default local state files */
  readonly stateBucket?: string;
  /** The environment the deployed key service runs as (KEYROLL_ENVIRONMENT). @default 'production' */
  readonly serviceEnvironment: Environment;
  /**
   * URL IoT rules post telemetry to on the emulator (in AWS: the function URL). IoT only posts to
   * https, and Terraform enforces it, so locally this is the local service's address over https.
   */
  readonly localTelemetryUrl: string;
  /**
   * Concurrent executions reserved for the key service Lambda (KEYROLL_SERVICE_RESERVED_CONCURRENCY),
   * which also caps it, so a flood of requests cannot take the concurrency the provisioner and
   * rotation need. `'none'` leaves the service in the account's unreserved pool (for accounts whose
   * concurrency quota is under 200: AWS keeps 100 unreserved).
   * @default DEFAULT_SERVICE_RESERVED_CONCURRENCY (100)
   */
  readonly serviceReservedConcurrency?: number | 'none';
  /**
   * Seconds a consumer may serve a credential from its cache after a cutover
   * (KEYROLL_IOT_SECRET_CACHE_SECONDS): the rotation's horizon, and the least grace a key with
   * reference consumers may declare. @default 900 (IoT's get_secret cache)
   */
  readonly consumerCacheSeconds?: number;
  /** When the rotation sweep runs (KEYROLL_ROTATION_SWEEP_SCHEDULE). @default 'rate(5 minutes)' */
  readonly rotationSweepSchedule?: string;
  /**
   * The window in which Secrets Manager starts each due rotation (KEYROLL_ROTATION_WINDOW, e.g.
   * `24h`), so keys due on one day spread over it instead of bunching up against Secrets Manager's
   * 50 writes/s. @default Secrets Manager's own
   */
  readonly rotationWindow?: string;
  /**
   * How late a credential's use may reach its lastUsedAt (KEYROLL_USAGE_LAG_SECONDS): the sweep
   * counts a credential as unused only when no use can still be on its way. @default 30
   */
  readonly usageLagSeconds?: number;
  /**
   * Who the unusual-activity alarms notify (KEYROLL_ALERT_EMAIL): subscribed by email to the
   * `keyroll-alerts` topic. @default no topic: the alarms only change state
   */
  readonly alertEmail?: string;
  /**
   * The alert thresholds set for the deployed service (KEYROLL_ALERT_*, see
   * lambda/alerts/alert-thresholds.ts), checked at synth. @default none: the service's defaults
   */
  readonly alertThresholdEnv?: Readonly<Record<string, string>>;
}

/**
 * 100 concurrent executions: at the service's few milliseconds per request, several thousand
 * requests a second. With the usual regional quota of 1000, 900 stay unreserved for the
 * provisioner, rotation and the account's other functions.
 */
export const DEFAULT_SERVICE_RESERVED_CONCURRENCY = 100;

export { PROJECT_ROOT } from '../lambda/deploy-env/keyroll-dirs';

export function deployTargetFromEnv(env: NodeJS.ProcessEnv = process.env): DeployTarget {
  const local = localEndpointFromEnv(env) !== undefined;
  const serviceEnvironment = serviceEnvironmentFromEnv(env);
  if (env.KEYROLL_TELEMETRY_URL && !env.KEYROLL_TELEMETRY_URL.startsWith('https://')) {
    throw new Error(`KEYROLL_TELEMETRY_URL is ${env.KEYROLL_TELEMETRY_URL}: IoT topic rules only post over https; give an https:// URL.`);
  }
  return {
    local,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    stateDir: stateDirFromEnv(env),
    stateBucket: env.KEYROLL_STATE_BUCKET || undefined,
    serviceEnvironment,
    localTelemetryUrl: env.KEYROLL_TELEMETRY_URL || `https://localhost:${env.PORT || 8787}/v1/telemetry`,
    serviceReservedConcurrency: reservedConcurrencyFromEnv(env.KEYROLL_SERVICE_RESERVED_CONCURRENCY),
    consumerCacheSeconds: consumerCacheSecondsFromEnv(env),
    rotationSweepSchedule: sweepScheduleFromEnv(env.KEYROLL_ROTATION_SWEEP_SCHEDULE),
    ...(env.KEYROLL_ROTATION_WINDOW ? { rotationWindow: rotationWindowFromEnv(env.KEYROLL_ROTATION_WINDOW) } : {}),
    ...(env.KEYROLL_USAGE_LAG_SECONDS ? { usageLagSeconds: usageLagFromEnv(env.KEYROLL_USAGE_LAG_SECONDS) } : {}),
    alertEmail: alertEmailFromEnv(env),
    alertThresholdEnv: alertThresholdEnvFromEnv(env),
  };
}

function reservedConcurrencyFromEnv(value: string | undefined): number | 'none' {
  if (!value) return DEFAULT_SERVICE_RESERVED_CONCURRENCY;
  if (value === 'none') return 'none';
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1) {
    throw new Error(
      `KEYROLL_SERVICE_RESERVED_CONCURRENCY is ${value}: give a whole number of at least 1 (concurrent executions reserved for the key service), "none" for no reservation, or unset it (${DEFAULT_SERVICE_RESERVED_CONCURRENCY}).`,
    );
  }
  return count;
}

/** EventBridge Scheduler takes `rate(n unit)` and `cron(…)`; an `at()` would sweep once only. */
function sweepScheduleFromEnv(value: string | undefined): string {
  if (!value) return 'rate(5 minutes)';
  if (!/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$/.test(value)) {
    throw new Error(`KEYROLL_ROTATION_SWEEP_SCHEDULE is ${value}: give an EventBridge Scheduler expression such as rate(5 minutes) or cron(0/10 * * * ? *), or unset it (rate(5 minutes)).`);
  }
  return value;
}

/** Secrets Manager's rotation window: `<n>h`, 1 to 24 hours. */
function rotationWindowFromEnv(value: string): string {
  const hours = /^(\d{1,2})h$/.exec(value);
  if (!hours || Number(hours[1]) < 1 || Number(hours[1]) > 24) {
    throw new Error(`KEYROLL_ROTATION_WINDOW is ${value}: give the hours in which Secrets Manager starts a due rotation, 1h to 24h (e.g. 24h), or unset it.`);
  }
  return value;
}

function usageLagFromEnv(value: string): number {
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || seconds > 3600) {
    throw new Error(`KEYROLL_USAGE_LAG_SECONDS is ${value}: give whole seconds, 0 to 3600 (how late a use may reach lastUsedAt), or unset it (30).`);
  }
  return seconds;
}
