/**
 * An IoT topic rule whose HTTP action sends telemetry with the key in a header, by reference: the
 * header is IoT's `get_secret` substitution template, resolved by IoT at send time through a role
 * that may read exactly this one secret. Terraform owns the rule; the key never enters its state.
 */
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IotTopicRule } from '@cdktf/provider-aws/lib/iot-topic-rule';
import { Fn, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { consumerRuleSql, RULE_SQL_VERSION } from '../../lambda/provision/consumers/rule-sql';
import { assumeRolePolicy, policyDocument, secretKmsGrant } from '../platform/iam-policy';
import { iotRuleRoleName } from './resource-names';

export interface IotRuleReferenceProps {
  readonly ruleName: string;
  /** MQTT topic filter with a wildcard at the device's level; see consumerRuleSql. */
  readonly topic: string;
  readonly url: string;
  readonly headerName: string;
  readonly secretArn: string;
  /** @default none (the aws/secretsmanager key) */
  readonly kmsKeyArn?: string;
  /** Where the rule lives: only IoT acting for this rule may assume its role. */
  readonly region: string;
  readonly accountId: string;
  /** The rule goes live only once the key is in the secret. */
  readonly dependsOn: ITerraformDependable[];
}

/**
 * IoT's template for reading the key from Secrets Manager, with the ARNs filled in by Terraform.
 * In Terraform JSON a literal `${` must be written `$${`, or Terraform runs `get_secret` as its own
 * function; cdktf writes that escape itself for string arguments of `Fn.format` (checked by the
 * synth test). `format` also keeps the ARNs as Terraform references: placed inside the template
 * directly, cdktf would render them as bare expressions.
 */
export function getSecretTemplate(secretArn: string, roleArn: string): string {
  return Fn.format("${get_secret('%s', 'SecretString', 'apiKey', '%s')}", [secretArn, roleArn]);
}

export class IotRuleReference extends Construct {
  readonly rule: IotTopicRule;
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: IotRuleReferenceProps) {
    super(scope, id);
    this.role = new IamRole(this, 'role', {
      name: iotRuleRoleName(props.ruleName),
      // Confused deputy: IoT may assume the role only for this rule of this account.
      // See https://docs.aws.amazon.com/iot/latest/developerguide/cross-service-confused-deputy-prevention.html
      assumeRolePolicy: assumeRolePolicy('iot.amazonaws.com', {
        StringEquals: { 'aws:SourceAccount': props.accountId },
        ArnEquals: { 'aws:SourceArn': `arn:aws:iot:${props.region}:${props.accountId}:rule/${props.ruleName}` },
      }),
    });
    const policy = new IamRolePolicy(this, 'read-secret', {
      role: this.role.name,
      name: 'read-api-key-secret',
      policy: policyDocument(
        { actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], resources: [props.secretArn] },
        ...(props.kmsKeyArn ? [secretKmsGrant(['kms:Decrypt'], props.kmsKeyArn, props.secretArn, props.region)] : []),
      ),
    });
    this.rule = new IotTopicRule(this, 'rule', {
      name: props.ruleName,
      enabled: true,
      // The same SQL an inline rule gets: the reading, with deviceId from the topic when it has none.
      sql: consumerRuleSql(props.topic),
      sqlVersion: RULE_SQL_VERSION,
      http: [
        {
          url: props.url,
          httpHeader: [
            { key: props.headerName, value: getSecretTemplate(props.secretArn, this.role.arn) },
            { key: 'content-type', value: 'application/json' },
          ],
        },
      ],
      dependsOn: [...props.dependsOn, policy],
    });
  }
}
