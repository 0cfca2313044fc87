/**
 * One API key declared as code. It writes the key's spec (a DynamoDB item Terraform owns), creates
 * the Secrets Manager secret that will hold the key, and has the provisioner Lambda issue the key
 * into that secret during the deploy (`aws_lambda_invocation`, CRUD lifecycle: create issues, update
 * re-applies the spec to the same key, delete revokes). Consumers are wired to the secret. The
 * plaintext goes Lambda → Secrets Manager and never passes through Terraform. The secret carries the
 * key's `keyroll:key` tag, which is what lets the provisioner at it (see provisioner-grants.ts).
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import { DynamodbTableItem } from '@cdktf/provider-aws/lib/dynamodb-table-item';
import { LambdaInvocation } from '@cdktf/provider-aws/lib/lambda-invocation';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { Fn, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { DEFAULT_RATE_LIMIT } from '../../lambda/keys/key-record';
import { OWNER_TAG, ownerTagValue } from '../../lambda/handout/consumers/consumer-owner';
import { consumerRuleSql, RULE_SQL_VERSION } from '../../lambda/provision/consumers/rule-sql';
import {
  type ApiKeyProps,
  DEFAULT_HEADER_NAME,
  type InlineIotRule,
  type IotRuleConsumerProps,
  type KeySpec,
  type WrittenConsumer,
} from '../../lambda/declared-key/contract';
import { specItemKey } from '../../lambda/tables/table-layout';
import { TABLE_KEY_SCHEMA } from '../../lambda/tables/table-names';
import { validateApiKeyProps } from './api-key-props';
import { IotRuleReference } from './iot-rule-reference';
import { SecretRotation } from './secret-rotation';
import type { KeyPlatform } from './key-platform';

export interface ApiKeyConstructProps extends ApiKeyProps {
  readonly platform: KeyPlatform;
  /** Days a deleted key's secret can be restored. 0 deletes at once (the emulator). @default 7 */
  readonly secretRecoveryDays?: number;
  /**
   * The permissions the key's tenant declares for its own services: the key may hold only these
   * and keyroll's own. @default none declared (see `unknownPermissions`)
   */
  readonly declaredPermissions?: readonly string[];
  /** Resources the key is issued after, e.g. its tenant's declared permissions. @default [] */
  readonly issueAfter?: readonly ITerraformDependable[];
  /**
   * Seconds a reference consumer may send a credential from its cache after a cutover: the least
   * grace its rotation may declare. @default 900 (IoT's get_secret cache)
   */
  readonly consumerCacheSeconds?: number;
  /**
   * Grant Secrets Manager the rotation function for this key's secret alone. The keys stack turns
   * it off when it grants all its secrets with one statement (Lambda's resource policy holds 20 KB).
   * @default true
   */
  readonly rotationPermissionPerSecret?: boolean;
  /** The window in which Secrets Manager starts each due rotation, e.g. `24h`. @default Secrets Manager's own */
  readonly rotationWindow?: string;
  /** What the rotation must wait for when the permission is granted elsewhere. @default [] */
  readonly rotationAfter?: readonly ITerraformDependable[];
}

export class ApiKey extends Construct {
  readonly secret: SecretsmanagerSecret;
  readonly spec: DynamodbTableItem;
  readonly invocation: LambdaInvocation;
  readonly referenceRules: IotRuleReference[] = [];
  /** Secrets Manager's rotation of the secret, when the key declares `rotation`. */
  readonly rotation?: SecretRotation;

  constructor(scope: Construct, id: string, props: ApiKeyConstructProps) {
    super(scope, id);
    const { platform, secretRecoveryDays, declaredPermissions, issueAfter, consumerCacheSeconds, rotationPermissionPerSecret, rotationWindow, rotationAfter, ...declared } = props;
    validateApiKeyProps(declared, { declaredPermissions, consumerCacheSeconds });
    const consumers = (props.consumers ?? []).map((consumer) => (consumer.type === 'iot-rule' ? withRuleDefaults(consumer, platform) : consumer));
    const references = consumers.filter((consumer): consumer is DeclaredRule => consumer.type === 'iot-rule' && consumer.mode === 'reference');
    // Every consumer but the reference rules, in declared order: the provisioner writes them and
    // rotation moves them. A function variable or an SSM parameter needs no resource here, for
    // keyroll writes it, not Terraform.
    const written = consumers.flatMap((consumer): WrittenConsumer[] => {
      if (consumer.type !== 'iot-rule') return [{ ...consumer }];
      return consumer.mode === 'inline' ? [inlineRuleOf(consumer, `${props.tenant}/${props.name}`)] : [];
    });

    this.secret = new SecretsmanagerSecret(this, 'secret', {
      name: `keyroll/${props.tenant}/${props.name}`,
      description: `API key ${props.tenant}/${props.name} (${props.environment}); written by the keyroll provisioner`,
      kmsKeyId: props.kmsKeyArn,
      recoveryWindowInDays: secretRecoveryDays ?? 7,
      // The same tag the provisioner puts on the consumer resources it creates for this key.
      tags: { [OWNER_TAG]: ownerTagValue(props.tenant, props.name) },
    });

    const spec: KeySpec = {
      tenant: props.tenant,
      name: props.name,
      environment: props.environment,
      permissions: [...props.permissions],
      rateLimit: props.rateLimit ?? DEFAULT_RATE_LIMIT,
      ...(props.expiresAt ? { expiresAt: props.expiresAt } : {}),
      tags: [...(props.tags ?? [])],
      ...(props.customerId ? { customerId: props.customerId } : {}),
      ...(props.rotation ? { rotation: props.rotation } : {}),
      consumers: written,
      referenceRules: references.map((rule) => rule.ruleName),
    };
    const item = JSON.stringify(marshall({ ...specItemKey(props.tenant, props.name), kind: 'spec', ...spec }, { removeUndefinedValues: true }));
    this.spec = new DynamodbTableItem(this, 'spec', {
      tableName: platform.keysTableName,
      hashKey: TABLE_KEY_SCHEMA.partitionKey,
      rangeKey: TABLE_KEY_SCHEMA.sortKey,
      item,
    });

    this.invocation = new LambdaInvocation(this, 'provision', {
      functionName: platform.provisionerFunctionName,
      lifecycleScope: 'CRUD',
      // Ids and ARNs only: this input and the result are kept in Terraform state.
      input: Fn.jsonencode({ tenant: props.tenant, name: props.name, secretArn: this.secret.arn, specDigest: Fn.sha256(this.spec.item) }),
      dependsOn: [this.spec, this.secret, ...(issueAfter ?? [])],
    });

    for (const consumer of references) {
      this.referenceRules.push(
        new IotRuleReference(this, `rule-${consumer.ruleName}`, {
          ruleName: consumer.ruleName,
          topic: consumer.topic,
          url: consumer.url,
          headerName: consumer.headerName,
          secretArn: this.secret.arn,
          kmsKeyArn: props.kmsKeyArn,
          region: platform.region,
          accountId: platform.accountId,
          dependsOn: [this.invocation],
        }),
      );
    }

    if (props.rotation) {
      this.rotation = new SecretRotation(this, 'rotation', {
        secretArn: this.secret.arn,
        rotationFunctionName: platform.rotationFunctionName,
        rotationFunctionArn: platform.rotationFunctionArn,
        everyDays: props.rotation.everyDays,
        ...(rotationWindow ? { window: rotationWindow } : {}),
        ...(rotationPermissionPerSecret === false ? {} : { statementId: rotationStatementId(props.tenant, props.name) }),
        // SM tests the set-up on the key the provisioner issued, with its consumers in place.
        dependsOn: [this.invocation, ...this.referenceRules.map((rule) => rule.rule), ...(rotationAfter ?? [])],
      });
    }
  }
}

/** Lambda statement ids: letters, digits, dashes and underscores, at most 100 characters, unique per function. */
function rotationStatementId(tenant: string, name: string): string {
  return `secretsmanager-${tenant}-${name}`.slice(0, 100);
}

/** An IoT rule consumer with its defaults filled in. */
type DeclaredRule = Required<IotRuleConsumerProps>;

function withRuleDefaults(rule: IotRuleConsumerProps, platform: KeyPlatform): DeclaredRule {
  return {
    type: 'iot-rule',
    ruleName: rule.ruleName,
    topic: rule.topic,
    mode: rule.mode ?? 'reference',
    headerName: rule.headerName ?? DEFAULT_HEADER_NAME,
    url: rule.url ?? platform.telemetryUrl,
  };
}

/** What the provisioner builds an inline rule from: the same SQL a reference rule gets. */
function inlineRuleOf(rule: DeclaredRule, key: string): InlineIotRule {
  return {
    type: 'iot-rule-inline',
    ruleName: rule.ruleName,
    sql: consumerRuleSql(rule.topic),
    sqlVersion: RULE_SQL_VERSION,
    url: rule.url,
    headerName: rule.headerName,
    description: `keyroll: telemetry for ${key}; the provisioner writes the key into ${rule.headerName}`,
  };
}
