/**
 * What the provisioner may do, as one fixed set of grants for any number of declared keys. IAM
 * allows a role 10,240 characters of inline policy; a grant per key broke deploys at about 35 keys.
 * So keyroll's secrets and the rules the provisioner owns are told apart by their `keyroll:key` tag
 * (attribute-based access control), and the provisioner itself checks that the tag names the key it
 * is working on before it writes (see lambda/handout/consumers/iot-rule-inline.ts).
 * See https://docs.aws.amazon.com/IAM/latest/UserGuide/introduction_attribute-based-access-control.html
 */
import { OWNER_TAG as RULE_OWNER_TAG } from '../../lambda/handout/consumers/consumer-owner';
import type { Grant } from './iam-policy';

/** Reads and conditional writes of specs, records and keys, and deleting the provisioner's own records. */
const TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem', 'dynamodb:DeleteItem'];

export interface ProvisionerGrantsProps {
  readonly keysTableArn: string;
  readonly region: string;
  readonly accountId: string;
}

export interface ProvisionerGrants {
  readonly table: Grant[];
  readonly secrets: Grant[];
  readonly rules: Grant[];
}

/** The ARN pattern of every keyroll secret (`keyroll/<tenant>/<name>`, plus Secrets Manager's suffix). */
export function keySecretArnPattern(region: string, accountId: string): string {
  return `arn:aws:secretsmanager:${region}:${accountId}:secret:keyroll/*`;
}

export function provisionerGrants({ keysTableArn, region, accountId }: ProvisionerGrantsProps): ProvisionerGrants {
  const keySecrets = keySecretArnPattern(region, accountId);
  const rules = `arn:aws:iot:${region}:${accountId}:rule/*`;
  const taggedResource = { Null: { [`aws:ResourceTag/${RULE_OWNER_TAG}`]: 'false' } };
  return {
    table: [{ actions: TABLE_ACTIONS, resources: [keysTableArn] }],
    secrets: [
      // Terraform creates each key's secret tagged with the key; a keyroll/ secret without the tag
      // is not one keyroll declared.
      {
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [keySecrets],
        conditions: taggedResource,
      },
      // Customer-managed keys: Secrets Manager encrypts with GenerateDataKey and decrypts with
      // Decrypt on the caller's behalf, and names the secret in the encryption context, so this
      // covers exactly the keyroll secrets, through Secrets Manager, with whatever key each one
      // declares (the key's own policy must also allow this role). Any account: a key may be
      // shared from another one. No kms:Encrypt: the provisioner never encrypts directly.
      // See https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html
      {
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [`arn:aws:kms:${region}:*:key/*`],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` },
          StringLike: { 'kms:EncryptionContext:SecretARN': keySecrets },
        },
      },
    ],
    rules: [
      // Unconditioned reads: telling a missing rule from one that is not ours (RULE_NOT_OWNED)
      // needs the rule and its tags, and a rule that a key no longer declares is still found.
      { actions: ['iot:GetTopicRule', 'iot:ListTagsForResource'], resources: [rules] },
      // Writing a key into, or deleting, only rules tagged for a key.
      { actions: ['iot:ReplaceTopicRule', 'iot:DeleteTopicRule'], resources: [rules], conditions: taggedResource },
      // Creating rules only with the tag, and tagging (at create, which IoT authorizes as
      // TagResource too, and on a key's rename) with no other tag. TagResource cannot also require
      // the tag already present: at create the rule does not exist yet.
      {
        actions: ['iot:CreateTopicRule', 'iot:TagResource'],
        resources: [rules],
        conditions: {
          Null: { [`aws:RequestTag/${RULE_OWNER_TAG}`]: 'false' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [RULE_OWNER_TAG] },
        },
      },
      // ListTopicRules has no resource-level permissions in IAM.
      { actions: ['iot:ListTopicRules'], resources: ['*'] },
    ],
  };
}
