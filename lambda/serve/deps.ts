/** Everything the HTTP app needs, passed in so the same app serves Node, Lambda and tests. */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Environment } from '../keys/environments';
import type { KeyManager } from '../manage/key-manager';
import type { DeclaredPermissions } from '../store/declared-permissions';
import type { DynamoDbUsageSeries } from '../store/dynamodb-usage-series';
import type { TopicRuleDestinations } from './topic-rule-destinations';
import type { TelemetryStore } from '../telemetry/telemetry-store';
import type { AuthDeps } from './authenticate';
import type { KeyRotations } from './key-rotations';
import type { AuditLog } from '../audit/audit-log';
import type { AuditRecorder } from '../audit/audit-recorder';
import type { DynamoDbAlerts } from '../store/dynamodb-alerts';

export interface ServeDeps extends AuthDeps {
  readonly manager: KeyManager;
  /** Each tenant's own permissions, declared in keys.yaml; keyroll's own are always known. */
  readonly declaredPermissions: Pick<DeclaredPermissions, 'get'>;
  /** Confirms this service's IoT topic rule destinations. */
  readonly destinations: Pick<TopicRuleDestinations, 'confirm' | 'requestFreshConfirmations'>;
  readonly telemetry: TelemetryStore;
  /** Reads keys' usage series (GET …/api-keys/{id}/usage); the usage recorder writes them. */
  readonly usageSeries: Pick<DynamoDbUsageSeries, 'read'>;
  /** Starts Secrets Manager rotations of declared keys (regenerate on a declared key). */
  readonly rotations: Pick<KeyRotations, 'start'>;
  /** The environment this service runs as (KEYROLL_ENVIRONMENT). */
  readonly environment: Environment;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Records each management action (never failing it). */
  readonly audit: AuditRecorder;
  /** Reads the audit log (`GET /v1/tenants/{tenant}/audit`). */
  readonly auditLog: Pick<AuditLog, 'list'>;
  /** Reads alerts on unusual activity (`GET /v1/tenants/{tenant}/alerts`); the alert monitor raises them. */
  readonly alerts: Pick<DynamoDbAlerts, 'list'>;
}
