/**
 * The composition root: builds the store, verifier, rate limiter, usage recorder and key manager
 * from configuration, and wires them into the app. The only place that knows every concrete part.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Hono } from 'hono';
import { type ConsoleOptions, ConsoleSessions, consoleRoutes, rotationFunctionSource } from '../console';
import { KeyManager } from '../manage/key-manager';
import { DynamoDbRateLimitStore, LeasedRateLimiter } from '../rate-limit';
import { createDocumentClient } from '../store/dynamodb-client';
import { DeclaredPermissions } from '../store/declared-permissions';
import { TopicRuleDestinations } from './topic-rule-destinations';
import { DynamoDbKeyStore } from '../store/dynamodb-key-store';
import { DynamoDbUsageSeries } from '../store/dynamodb-usage-series';
import { DynamoDbTelemetryStore } from '../telemetry/telemetry-store';
import { UsageRecorder } from '../usage/usage-recorder';
import { KeyVerifier, type KeyVerifierOptions } from '../verify/key-verifier';
import { createApp } from './app';
import type { ServeEnv } from './context';
import type { ServeDeps } from './deps';
import { KeyRotations } from './key-rotations';
import { AuditRecorder } from '../audit/audit-recorder';
import { DynamoDbAuditLog } from '../store/dynamodb-audit-log';
import { type ServiceConfig, serviceConfigFromEnv, telemetryUrlFromEnv } from './service-config';
import { type AlertMetrics, AlertMonitor } from '../alerts/alert-monitor';
import { PowertoolsAlertMetrics } from '../alerts/alert-metrics';
import { DynamoDbAlerts } from '../store/dynamodb-alerts';

export interface ServiceOptions {
  /** @default serviceConfigFromEnv() */
  readonly config?: ServiceConfig;
  /** @default createDocumentClient() — tests pass one with fault-injecting middleware. */
  readonly documentClient?: DynamoDBDocumentClient;
  /** Usage flushes on a timer (servers) or at the end of a request when due (Lambda). @default true */
  readonly autoFlushUsage?: boolean;
  /** How often usage is written. @default 5000 */
  readonly usageFlushIntervalMs?: number;
  readonly cache?: KeyVerifierOptions['cache'];
  /** Store reads per second for keys this instance doesn't know. @default { ratePerSecond: 100, burst: 500 } */
  readonly unknownKeyReads?: KeyVerifierOptions['unknownKeyReads'];
  readonly logger?: Logger;
  /** @default a TopicRuleDestinations for config.telemetryUrl */
  readonly destinations?: ServeDeps['destinations'];
  /** Where regenerating a declared key starts its rotation. @default new SecretsManagerClient({ maxAttempts: 3 }) */
  readonly secrets?: SecretsManagerClient;
  /** The console at /console: session idle timeout, rotation status source. @default see ConsoleOptions */
  readonly console?: ConsoleOptions;
  /** Where raised alerts are counted. @default PowertoolsAlertMetrics (EMF on standard output) */
  readonly alertMetrics?: AlertMetrics;
}

export interface Service {
  readonly app: Hono<ServeEnv>;
  readonly deps: ServeDeps;
  /** Flushes usage and hands back leased rate-limit quota. */
  close(): Promise<void>;
}

export function createService(options: ServiceOptions = {}): Service {
  const config = options.config ?? serviceConfigFromEnv();
  const logger = options.logger ?? new Logger({ serviceName: 'keyroll' });
  const documentClient = options.documentClient ?? createDocumentClient();
  const store = new DynamoDbKeyStore(documentClient, config.tables.keys);
  const verifier = new KeyVerifier({
    store,
    environment: config.environment,
    cache: options.cache,
    unknownKeyReads: options.unknownKeyReads,
    onRefreshError: (error) => logger.warn('key cache refresh failed; serving the cached record', { error: String(error) }),
    onUnknownKeysRefused: (refused) =>
      logger.warn('refusing API keys this instance does not know with 503: its store-read budget for unknown keys is spent', { refused }),
  });
  const rateLimiter = new LeasedRateLimiter({
    store: new DynamoDbRateLimitStore(documentClient, config.tables.rateLimits),
    logger,
  });
  const usageSeries = new DynamoDbUsageSeries(documentClient, config.tables.keys);
  const alerts = new DynamoDbAlerts(documentClient, config.tables.keys);
  const monitor = new AlertMonitor({
    store: alerts,
    series: usageSeries,
    metrics: options.alertMetrics ?? new PowertoolsAlertMetrics(),
    ...(config.alertThresholds ? { thresholds: config.alertThresholds } : {}),
    onRaised: (alert) => logger.warn('unusual activity on an API key', { alert }),
    onError: (error) => logger.warn('alert evaluation failed; will retry after the next usage flush', { error: String(error) }),
  });
  const usage = new UsageRecorder({
    store,
    monitor,
    autoFlush: options.autoFlushUsage ?? true,
    flushIntervalMs: options.usageFlushIntervalMs,
    onFlushError: (error) => logger.warn('usage flush failed; will retry', { error: String(error) }),
  });
  const manager = new KeyManager({
    store,
    onKeyChanged: (keyId, record) => {
      verifier.forgetKey(keyId);
      // A hash probed before the key (or its pending credential) existed is cached as unknown; forget that too.
      verifier.forgetSecretHash(record.credentialHash);
      if (record.pendingCredential) verifier.forgetSecretHash(record.pendingCredential.hash);
    },
  });
  const auditLog = new DynamoDbAuditLog(documentClient, config.tables.keys);
  const deps: ServeDeps = {
    verifier,
    rateLimiter,
    usage,
    extraKeyHeaders: config.extraKeyHeaders,
    manager,
    declaredPermissions: new DeclaredPermissions(documentClient, config.tables.keys),
    destinations: options.destinations ?? new TopicRuleDestinations({ telemetryUrl: config.telemetryUrl ?? telemetryUrlFromEnv(), logger }),
    telemetry: new DynamoDbTelemetryStore(documentClient, config.tables.telemetry),
    usageSeries,
    alerts,
    rotations: new KeyRotations({ secrets: options.secrets }),
    environment: config.environment,
    logger,
    audit: new AuditRecorder({ log: auditLog, logger }),
    auditLog,
    trustedProxyHops: config.trustedProxyHops ?? 0,
  };
  const app = createApp(deps);
  app.route('/console', consoleRoutes({
    ...deps,
    sessions: new ConsoleSessions(documentClient, config.tables.keys, { idleTimeoutMs: options.console?.idleTimeoutMs }),
    rotationStatus: options.console?.rotationStatus ?? rotationFunctionSource(),
  }));
  return {
    app,
    deps,
    close: async () => {
      await Promise.all([usage.close(), rateLimiter.close()]);
    },
  };
}
