/**
 * What the rotation Lambda may do, as one fixed set of grants for any number of keys (like the
 * provisioner's, see provisioner-grants.ts). It reads everything it rotates by, and writes only key
 * records, credential pointers and rotation records: never a spec or a provisioner record, so a
 * rotation cannot change what a key is declared to be. Secrets and rules are reached by their
 * `keyroll:key` tag; it rewrites rules that exist, and never creates, tags or deletes one.
 * Lambda-env and SSM consumers are granted by name, per keys stack (see consumer-grants.ts).
 */
import type { Grant } from './iam-policy';
import { keySecretArnPattern } from './provisioner-grants';

export interface RotationGrantsProps {
  readonly keysTableArn: string;
  readonly region: string;
  readonly accountId: string;
  /** Prefixes of the partitions it writes (`TENANT#`, `SECRET#`, `ROTATION#`). */
  readonly writablePartitions: readonly string[];
  /** The tag naming the key a secret or rule belongs to. */
  readonly ownerTag: string;
}

export function rotationGrants(props: RotationGrantsProps): Grant[] {
  const keySecrets = keySecretArnPattern(props.region, props.accountId);
  const rules = `arn:aws:iot:${props.region}:${props.accountId}:rule/*`;
  const tagged = { Null: { [`aws:ResourceTag/${props.ownerTag}`]: 'false' } };
  return [
    { actions: ['dynamodb:GetItem', 'dynamodb:Query'], resources: [props.keysTableArn] },
    {
      actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
      resources: [props.keysTableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': props.writablePartitions.map((prefix) => `${prefix}*`) } },
    },
    // The four steps' own calls, as AWS's rotation templates need them.
    {
      actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
      resources: [keySecrets],
      conditions: tagged,
    },
    {
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [`arn:aws:kms:${props.region}:*:key/*`],
      conditions: {
        StringEquals: { 'kms:ViaService': `secretsmanager.${props.region}.amazonaws.com` },
        StringLike: { 'kms:EncryptionContext:SecretARN': keySecrets },
      },
    },
    { actions: ['iot:GetTopicRule', 'iot:ListTagsForResource'], resources: [rules] },
    { actions: ['iot:ReplaceTopicRule'], resources: [rules], conditions: tagged },
    { actions: ['iot:ListTopicRules'], resources: ['*'] },
  ];
}
