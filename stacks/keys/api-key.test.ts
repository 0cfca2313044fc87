import { DynamodbTableItem } from '@cdktf/provider-aws/lib/dynamodb-table-item';
import { LambdaInvocation } from '@cdktf/provider-aws/lib/lambda-invocation';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { Testing } from 'cdktf';
import 'cdktf/lib/testing/adapters/jest';
import { KEY_PATTERN } from '../../lambda/keys/key-format';
import { stableSynth, testApp } from '../test-support';
import type { ApiKeyProps } from './api-key-props';

Testing.setupJest();

const telemetryKey: ApiKeyProps = {
  tenant: 'acme',
  name: 'sensors',
  environment: 'production',
  permissions: ['telemetry:write'],
  rotation: { everyDays: 30, graceMinutes: 60 },
  consumers: [{ type: 'iot-rule', ruleName: 'acme_sensors', topic: 'acme/sensors/+' }],
};

describe('ApiKey', () => {
  it('declares the spec, the secret, the provisioner invocation and a reference-mode rule', () => {
    const { keysStack } = testApp([telemetryKey]);
    const synthesized = Testing.synth(keysStack);
    expect(synthesized).toHaveResourceWithProperties(SecretsmanagerSecret, { name: 'keyroll/acme/sensors', recovery_window_in_days: 7 });
    expect(synthesized).toHaveResourceWithProperties(LambdaInvocation, { lifecycle_scope: 'CRUD' });
    expect(synthesized).toHaveResource(DynamodbTableItem);
    const json = JSON.parse(synthesized);
    const rule = Object.values(json.resource.aws_iot_topic_rule as Record<string, any>)[0];
    expect(rule.name).toBe('acme_sensors');
    expect(rule.sql).toBe("SELECT * FROM 'acme/sensors/+'");
    expect(rule.http[0].url).toMatch(/function_url\}v1\/telemetry$/);
    const header = rule.http[0].http_header.find((h: { key: string }) => h.key === 'x-api-key');
    // `$${` so that Terraform emits a literal `${get_secret(…)}` for IoT, with the ARNs filled in.
    expect(header.value).toMatch(/^\$\{format\("\$\$\{get_secret\('%s', 'SecretString', 'apiKey', '%s'\)\}", aws_secretsmanager_secret\.[^,]+\.arn, aws_iam_role\.[^)]+\.arn\)\}$/);
    expect(rule.depends_on.some((d: string) => d.startsWith('aws_lambda_invocation.'))).toBe(true);
  });

  it('puts only ids, ARNs and a digest in the invocation input', () => {
    const { keysStack } = testApp([telemetryKey]);
    const invocation = Object.values(JSON.parse(Testing.synth(keysStack)).resource.aws_lambda_invocation as Record<string, any>)[0];
    expect(invocation.input).toMatch(
      /^\$\{jsonencode\(\{"tenant" = "acme", "name" = "sensors", "secretArn" = aws_secretsmanager_secret\.[\w-]+\.arn, "specDigest" = sha256\(aws_dynamodb_table_item\.[\w-]+\.item\)\}\)\}$/,
    );
  });

  it('writes inline consumers into the spec for the provisioner, with no Terraform-owned rule', () => {
    const { keysStack } = testApp([{ ...telemetryKey, consumers: [{ type: 'iot-rule', ruleName: 'legacy', topic: 'l/+', mode: 'inline', headerName: 'x-tlm-key' }] }]);
    const json = JSON.parse(Testing.synth(keysStack));
    expect(json.resource.aws_iot_topic_rule).toBeUndefined();
    const spec = JSON.parse((Object.values(json.resource.aws_dynamodb_table_item)[0] as { item: string }).item);
    expect(spec.inlineConsumers.L[0].M).toMatchObject({ ruleName: { S: 'legacy' }, headerName: { S: 'x-tlm-key' }, sql: { S: "SELECT * FROM 'l/+'" } });
  });

  it("tags the secret with the key it holds, and grants the provisioner nothing per key (the platform's grants go by that tag)", () => {
    const inline = { ...telemetryKey, consumers: [{ type: 'iot-rule' as const, ruleName: 'legacy', topic: 'l/+', mode: 'inline' as const }] };
    const kmsKeyArn = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    const json = JSON.parse(Testing.synth(testApp([inline, { ...telemetryKey, name: 'other', kmsKeyArn, consumers: [] }]).keysStack));
    const secrets = Object.values(json.resource.aws_secretsmanager_secret as Record<string, { name: string; tags: Record<string, string> }>);
    expect(secrets.map((s) => [s.name, s.tags])).toEqual(
      expect.arrayContaining([
        ['keyroll/acme/sensors', { 'keyroll:key': 'acme/sensors' }],
        ['keyroll/acme/other', { 'keyroll:key': 'acme/other' }],
      ]),
    );
    expect(secrets).toHaveLength(2);
    expect(json.resource.aws_iam_role_policy).toBeUndefined();
  });

  it('lets IoT assume a reference rule\'s role only for that rule of this account', () => {
    const json = JSON.parse(Testing.synth(testApp([telemetryKey]).keysStack));
    const role = Object.values(json.resource.aws_iam_role as Record<string, any>)[0];
    expect(role.name).toBe('keyroll-iot-acme_sensors');
    expect(JSON.parse(role.assume_role_policy).Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'iot.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: { 'aws:SourceAccount': '${data.aws_caller_identity.account.account_id}' },
          ArnEquals: { 'aws:SourceArn': 'arn:aws:iot:eu-west-1:${data.aws_caller_identity.account.account_id}:rule/acme_sensors' },
        },
      },
    ]);
  });

  it("lets a reference rule's role use a customer-managed KMS key only through Secrets Manager, for this secret, to decrypt", () => {
    const kmsKeyArn = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    const json = JSON.parse(Testing.synth(testApp([{ ...telemetryKey, kmsKeyArn }]).keysStack));
    const kms = Object.values(json.resource.aws_iam_role_policy as Record<string, any>)
      .flatMap((p) => JSON.parse(p.policy).Statement)
      .filter((s: { Action: string[] }) => s.Action.some((a) => a.startsWith('kms:')));
    expect(kms).toEqual([
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt'],
        Resource: [kmsKeyArn],
        Condition: {
          StringEquals: {
            'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com',
            'kms:EncryptionContext:SecretARN': expect.stringMatching(/^\$\{aws_secretsmanager_secret\.[\w-]+\.arn\}$/),
          },
        },
      },
    ]);
  });

  it('gives keys whose tenant and name only differ in where the dash falls resources of their own', () => {
    const a = { ...telemetryKey, tenant: 'a-b', name: 'c', consumers: [] };
    const b = { ...telemetryKey, tenant: 'a', name: 'b-c', consumers: [] };
    const json = JSON.parse(Testing.synth(testApp([a, b]).keysStack));
    expect(Object.keys(json.resource.aws_secretsmanager_secret)).toHaveLength(2);
    expect(Object.keys(json.resource.aws_lambda_invocation)).toHaveLength(2);
    const tags = Object.values(json.resource.aws_secretsmanager_secret as Record<string, { tags: Record<string, string> }>).map((s) => s.tags['keyroll:key']);
    expect(tags.sort()).toEqual(['a-b/c', 'a/b-c']);
  });

  it.each<[string, Partial<ApiKeyProps>, RegExp]>([
    ['a bad environment', { environment: 'prod' as never }, /`environment` must be one of production, staging, development/],
    ['more than 10 tags', { tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }, /`tags` must hold at most 10 tags/],
    ['no permissions', { permissions: [] }, /`permissions` must hold at least one permission/],
    ['a grace under IoT’s 15-minute cache for a reference consumer', { rotation: { everyDays: 7, graceMinutes: 5 } }, /graceMinutes` is 5.*at least 15/],
    ['a name that cannot name AWS resources', { name: 'Sensors Key' }, /`name` must be 1-63 lowercase/],
    ['an expiry in the past', { expiresAt: '2020-01-01T00:00:00Z' }, /`expiresAt` is in the past/],
    ['a misspelt prop', { permision: ['x:y'] } as never, /unknown prop\(s\) `permision`/],
  ])('refuses %s at synth with the key named', (_, change, message) => {
    expect(() => testApp([{ ...telemetryKey, ...change }])).toThrow(message);
    expect(() => testApp([{ ...telemetryKey, ...change }])).toThrow(/ApiKey "acme\//);
  });

  it('accepts a short grace when every consumer is inline', () => {
    expect(() =>
      testApp([{ ...telemetryKey, rotation: { everyDays: 7, graceMinutes: 5 }, consumers: [{ type: 'iot-rule', ruleName: 'r', topic: 't', mode: 'inline' }] }]),
    ).not.toThrow();
  });

  it('refuses duplicate key names and a rule shared by two keys', () => {
    expect(() => testApp([telemetryKey, telemetryKey])).toThrow(/declared twice/);
    expect(() => testApp([telemetryKey, { ...telemetryKey, name: 'other' }])).toThrow(/consumer of both/);
  });

  it('synthesizes no key material', () => {
    const { app } = testApp([telemetryKey]);
    app.synth();
    expect(Testing.synth(testApp([telemetryKey]).keysStack)).not.toMatch(KEY_PATTERN);
  });

  it('matches the snapshot', () => {
    expect(stableSynth(testApp([telemetryKey]).keysStack)).toMatchSnapshot();
  });
});
