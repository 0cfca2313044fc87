/**
 * The key platform: tables, the key service (Lambda behind a function URL) and the provisioner that
 * keys-as-code stacks invoke. Long-lived: key stacks come and go, this stays.
 * The rotation Lambda and its sweep schedule live here too, next to the provisioner.
 */
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunctionUrl } from '@cdktf/provider-aws/lib/lambda-function-url';
import { TerraformOutput } from 'cdktf';
import type { Construct } from 'constructs';
import { DEFAULT_SERVICE_RESERVED_CONCURRENCY, type DeployTarget } from '../deploy-target';
import { KeyrollStack } from '../keyroll-stack';
import { alertThresholdEnvFromEnv } from '../../lambda/deploy-env/alert-settings';
import { DEFAULT_CONSUMER_CACHE_SECONDS } from '../../lambda/deploy-env/consumer-cache';
import { OWNER_TAG } from '../../lambda/handout/consumers/consumer-owner';
import { PARTITIONS, SERVICE_PARTITIONS } from '../../lambda/tables/table-layout';
import { TELEMETRY_TENANT_INDEX } from '../../lambda/tables/table-names';
import { AlertAlarms } from './alert-alarms';
import { type Grant, policyDocument } from './iam-policy';
import { KeyTables } from './key-tables';
import { NodeFunction } from './node-function';
import { provisionerGrants } from './provisioner-grants';
import { RotationFunction } from './rotation-function';

/** Writes to the keys table: conditional puts/updates, inside transactions too. */
const KEY_WRITES = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'];
/**
 * The only partitions of the keys table the key service may touch: key records (`TENANT#…`),
 * secret pointers (`SECRET#…`), keys' usage series (`USAGE_SERIES#…`), the audit log (`AUDIT#…`:
 * the service records management actions), console sessions (`CONSOLE#…`), alerts (`ALERT#…`) and
 * the source IPs keys were used from (`SOURCES#…`). Specs (`SPEC#…`) and the provisioner's records
 * (`PROVISIONED#…`) steer what the provisioner does, so the internet-facing service must not be able to write them.
 * None of the granted actions works without a partition key, so the set is never empty.
 */
export const SERVICE_KEY_PARTITIONS = SERVICE_PARTITIONS.map((prefix) => `${prefix}*`);

export class PlatformStack extends KeyrollStack {
  readonly tables: KeyTables;
  readonly service: NodeFunction;
  readonly serviceUrl: LambdaFunctionUrl;
  readonly provisioner: NodeFunction;
  readonly rotation: RotationFunction;
  /** The alarms on unusual-activity alerts, and their topic when KEYROLL_ALERT_EMAIL is set. */
  readonly alerts: AlertAlarms;
  /** Where IoT topic rules post telemetry. */
  readonly telemetryUrl: string;

  constructor(scope: Construct, id: string, target: DeployTarget) {
    super(scope, id, target);
    const accountId = new DataAwsCallerIdentity(this, 'account').accountId;
    this.tables = new KeyTables(this, 'tables', { protect: !target.local });
    const tableEnvironment = {
      KEYROLL_KEYS_TABLE: this.tables.keys.name,
      KEYROLL_RATE_LIMITS_TABLE: this.tables.rateLimits.name,
      KEYROLL_TELEMETRY_TABLE: this.tables.telemetry.name,
    };

    this.service = new NodeFunction(this, 'service', {
      functionName: 'keyroll-service',
      entry: 'lambda/serve/lambda-handler.ts',
      description: 'keyroll key service: issues, verifies and rate-limits API keys',
      environment: {
        ...tableEnvironment,
        KEYROLL_ENVIRONMENT: target.serviceEnvironment,
        POWERTOOLS_SERVICE_NAME: 'keyroll',
        // Checked again here, so a hand-built target's bad threshold fails synth too, not the Lambda.
        ...alertThresholdEnvFromEnv(target.alertThresholdEnv ?? {}),
      },
      memorySize: 512,
      timeout: 10,
      reservedConcurrency: serviceReservedConcurrency(target),
    });
    new IamRolePolicy(this, 'service-data', {
      role: this.service.role.name,
      name: 'key-service-data',
      policy: policyDocument(
        {
          actions: KEY_WRITES,
          resources: [this.tables.keys.arn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': SERVICE_KEY_PARTITIONS } },
        },
        { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [this.tables.rateLimits.arn] },
        { actions: ['dynamodb:PutItem', 'dynamodb:BatchWriteItem'], resources: [this.tables.telemetry.arn] },
        // GET /v1/telemetry: one device's readings, or the tenant's through its index.
        { actions: ['dynamodb:Query'], resources: [this.tables.telemetry.arn, `${this.tables.telemetry.arn}/index/${TELEMETRY_TENANT_INDEX.name}`] },
        // IoT delivers to the function URL only once its topic rule destination is confirmed; the
        // service confirms (and enables) its own, and nothing else (see topic-rule-destinations.ts).
        {
          actions: ['iot:ConfirmTopicRuleDestination', 'iot:UpdateTopicRuleDestination'],
          resources: [`arn:aws:iot:${target.region}:${accountId}:ruledestination/http/*`],
        },
        // Regenerating a declared key starts its rotation (lambda/serve/key-rotations.ts): only
        // keyroll's tagged secrets, DescribeSecret first because RotateSecret's refusals look alike.
        {
          actions: ['secretsmanager:DescribeSecret', 'secretsmanager:RotateSecret'],
          resources: [`arn:aws:secretsmanager:${target.region}:${accountId}:secret:keyroll/*`],
          conditions: { Null: { 'aws:ResourceTag/keyroll:key': 'false' } },
        },
      ),
    });
    // The service authenticates every request by API key itself.
    this.serviceUrl = new LambdaFunctionUrl(this, 'service-url', {
      functionName: this.service.function.functionName,
      authorizationType: 'NONE',
    });

    this.provisioner = new NodeFunction(this, 'provisioner', {
      functionName: 'keyroll-provisioner',
      entry: 'lambda/provision/handler.ts',
      description: 'keyroll provisioner: materialises declared keys during cdktf deploy',
      environment: {
        KEYROLL_KEYS_TABLE: this.tables.keys.name,
        // How long a superseded key stays valid when reference consumers may still send it from their cache.
        KEYROLL_CONSUMER_CACHE_SECONDS: String(consumerCacheSeconds(target)),
        POWERTOOLS_SERVICE_NAME: 'keyroll-provisioner',
      },
      timeout: 60,
    });
    // One fixed set of grants however many keys are declared: see provisioner-grants.ts.
    const grants = provisionerGrants({ keysTableArn: this.tables.keys.arn, region: target.region, accountId });
    const provisionerPolicy = (policyId: string, name: string, statements: Grant[]) =>
      new IamRolePolicy(this, policyId, { role: this.provisioner.role.name, name, policy: policyDocument(...statements) });
    provisionerPolicy('provisioner-data', 'provisioner-keys-table', grants.table);
    provisionerPolicy('provisioner-secrets', 'provisioner-key-secrets', grants.secrets);
    provisionerPolicy('provisioner-rules', 'provisioner-inline-rules', grants.rules);

    this.telemetryUrl = target.local ? target.localTelemetryUrl : `${this.serviceUrl.functionUrl}v1/telemetry`;

    this.rotation = new RotationFunction(this, 'rotation', {
      environment: { KEYROLL_KEYS_TABLE: this.tables.keys.name },
      keysTableArn: this.tables.keys.arn,
      region: target.region,
      accountId,
      writablePartitions: ROTATION_WRITABLE_PARTITIONS,
      ownerTag: OWNER_TAG,
      consumerCacheSeconds: consumerCacheSeconds(target),
      // On AWS the new credential is verified by the service it is for. Locally the service may not
      // be running while a deploy tests the rotation set-up, so it is verified against the store.
      ...(target.local ? {} : { serviceUrl: this.serviceUrl.functionUrl }),
      sweepSchedule: target.rotationSweepSchedule,
      usageLagSeconds: target.usageLagSeconds,
    });
    // The console shows a declared key's rotation by asking the rotation Lambda (as `keyroll
    // rotation status` does), so the service never reads or writes rotation records itself.
    new IamRolePolicy(this, 'service-rotation-status', {
      role: this.service.role.name,
      name: 'ask-rotation-status',
      policy: policyDocument({ actions: ['lambda:InvokeFunction'], resources: [this.rotation.lambda.function.arn] }),
    });

    this.alerts = new AlertAlarms(this, 'alerts', { email: target.alertEmail, consoleUrl: `${this.serviceUrl.functionUrl}console` });

    new TerraformOutput(this, 'api-url', { value: this.serviceUrl.functionUrl, description: 'Key service base URL' });
    new TerraformOutput(this, 'keys-table', { value: this.tables.keys.name });
    new TerraformOutput(this, 'rate-limits-table', { value: this.tables.rateLimits.name });
    new TerraformOutput(this, 'telemetry-table', { value: this.tables.telemetry.name });
    new TerraformOutput(this, 'provisioner-function', { value: this.provisioner.function.functionName });
    new TerraformOutput(this, 'rotation-function', { value: this.rotation.lambda.function.functionName });
  }
}

/**
 * What the rotation writes: key records and credential pointers (pending, promoted, retired) and its
 * own records, and the audit log's rotation entries. Never specs or provisioner records.
 */
const ROTATION_WRITABLE_PARTITIONS = [PARTITIONS.tenant, PARTITIONS.secret, PARTITIONS.rotation, PARTITIONS.audit];

function consumerCacheSeconds(target: DeployTarget): number {
  return target.consumerCacheSeconds ?? DEFAULT_CONSUMER_CACHE_SECONDS;
}

/** The key service's reservation: the target's, or the default; `'none'` for no reservation. */
function serviceReservedConcurrency(target: DeployTarget): number | undefined {
  const reserved = target.serviceReservedConcurrency ?? DEFAULT_SERVICE_RESERVED_CONCURRENCY;
  return reserved === 'none' ? undefined : reserved;
}
