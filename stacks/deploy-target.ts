/**
 * Where a synth deploys to: real AWS through the usual AWS environment, or the local emulator when
 * AWS_ENDPOINT_URL is a loopback address. Read once from the environment, so switching needs no code edits.
 */
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
