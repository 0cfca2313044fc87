import { DynamodbTableItem } from '@cdktf/provider-aws/lib/dynamodb-table-item';
import { LambdaInvocation } from '@cdktf/provider-aws/lib/lambda-invocation';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { Testing } from 'cdktf';
import 'cdktf/lib/testing/adapters/jest';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { keySpecSchema } from '../../lambda/declared-key/contract';
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
    expect(rule.sql).toBe("SELECT *, CASE isUndefined(deviceId) WHEN true THEN topic(3) ELSE deviceId END AS deviceId FROM 'acme/sensors/+'");
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
    expect(spec.consumers.L[0].M).toMatchObject({
      type: { S: 'iot-rule-inline' },
      ruleName: { S: 'legacy' },
      headerName: { S: 'x-tlm-key' },
      sql: { S: "SELECT *, CASE isUndefined(deviceId) WHEN true THEN topic(2) ELSE deviceId END AS deviceId FROM 'l/+'" },
    });
  });

  it('lists every written consumer in the spec in declared order, and the reference rules by name, with no Terraform resource for a variable or a parameter', () => {
    const consumers: ApiKeyProps['consumers'] = [
      { type: 'ssm-parameter', name: '/acme/sensors/api-key', kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1' },
      { type: 'iot-rule', ruleName: 'by_inline', topic: 'i/+', mode: 'inline' },
      { type: 'lambda-env', functionName: 'acme-ingest', variable: 'KEYROLL_API_KEY' },
      { type: 'iot-rule', ruleName: 'by_reference', topic: 'r/+' },
    ];
    const json = JSON.parse(Testing.synth(testApp([{ ...telemetryKey, consumers }]).keysStack));
    const spec = unmarshall(JSON.parse((Object.values(json.resource.aws_dynamodb_table_item)[0] as { item: string }).item));
    expect(spec.consumers).toEqual([
      { type: 'ssm-parameter', name: '/acme/sensors/api-key', kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1' },
      expect.objectContaining({ type: 'iot-rule-inline', ruleName: 'by_inline' }),
      { type: 'lambda-env', functionName: 'acme-ingest', variable: 'KEYROLL_API_KEY' },
    ]);
    expect(spec.referenceRules).toEqual(['by_reference']);
    expect(Object.values(json.resource.aws_iot_topic_rule as Record<string, { name: string }>).map((rule) => rule.name)).toEqual(['by_reference']);
    expect(Object.keys(json.resource).filter((type) => /lambda_function|ssm/.test(type))).toEqual([]);
  });

  it('writes a spec the provisioner reads back as it was built', () => {
    // An explicit URL: the platform's is a Terraform reference until apply.
    const consumers: ApiKeyProps['consumers'] = [
      { type: 'iot-rule', ruleName: 'by_inline', topic: 'i/+', mode: 'inline', url: 'https://ingest.example.com/v1/telemetry' },
      { type: 'lambda-env', functionName: 'acme-ingest', variable: 'KEYROLL_API_KEY' },
      { type: 'iot-rule', ruleName: 'by_reference', topic: 'r/+' },
    ];
    const json = JSON.parse(Testing.synth(testApp([{ ...telemetryKey, expiresAt: '2099-01-01T00:00:00Z', customerId: 'cust-1', consumers }]).keysStack));
    const { pk: _pk, sk: _sk, kind, ...attributes } = unmarshall(JSON.parse((Object.values(json.resource.aws_dynamodb_table_item)[0] as { item: string }).item));
    expect(kind).toBe('spec');
    expect(keySpecSchema.parse(attributes)).toEqual(attributes);
  });

  it('gives both consumer modes the same SQL for the same topic', () => {
    const topic = 'acme/+/readings/#';
    const json = JSON.parse(
      Testing.synth(
        testApp([
          { ...telemetryKey, consumers: [{ type: 'iot-rule', ruleName: 'by_reference', topic }] },
          { ...telemetryKey, name: 'inline', consumers: [{ type: 'iot-rule', ruleName: 'by_inline', topic, mode: 'inline' }] },
        ]).keysStack,
      ),
    );
    const reference = Object.values(json.resource.aws_iot_topic_rule as Record<string, { sql: string }>)[0].sql;
    const specs = Object.values(json.resource.aws_dynamodb_table_item as Record<string, { item: string }>).map((i) => JSON.parse(i.item));
    const inline = specs.find((spec) => spec.consumers.L.length > 0).consumers.L[0].M.sql.S;
    expect(reference).toBe(inline);
    expect(inline).toContain('THEN topic(2) ELSE');
  });

  it('changes the spec, and so its digest, when an inline consumer\'s topic or URL does', () => {
    const itemOf = (consumer: object) =>
      (Object.values(JSON.parse(Testing.synth(testApp([{ ...telemetryKey, consumers: [consumer as never] }]).keysStack)).resource.aws_dynamodb_table_item)[0] as { item: string }).item;
    const base = { type: 'iot-rule', ruleName: 'legacy', topic: 'l/+', mode: 'inline' };
    const items = [itemOf(base), itemOf({ ...base, topic: 'm/+' }), itemOf({ ...base, url: 'https://elsewhere.example.com/in' })];
    expect(new Set(items).size).toBe(3);
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
    ['a bad environment', { environment: 'prod' as never }, /`environment` is "prod" — must be one of production, staging, development/],
    ['more than 10 tags', { tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }, /`tags` is \["t0",.*"t10"\] — must hold at most 10 tags/],
    ['no permissions', { permissions: [] }, /`permissions` is \[\] — must hold at least one permission/],
    ['a misspelt permission', { permissions: ['telemetry:wrte'] }, /`permissions\[0\]` is "telemetry:wrte", which is not a known permission — did you mean "telemetry:write"\?/],
    ['a grace under IoT’s 15-minute cache for a reference consumer', { rotation: { everyDays: 7, graceMinutes: 5 } }, /`rotation.graceMinutes` is 5.*at least 15/],
    ['a name that cannot name AWS resources', { name: 'Sensors Key' }, /`name` is "Sensors Key" — did you mean "sensors-key"\? It must be 1-63 lowercase .*AWS resource names/],
    ['an expiry in the past', { expiresAt: '2020-01-01T00:00:00Z' }, /`expiresAt` is "2020-01-01T00:00:00Z", which is in the past/],
    ['a misspelt prop', { permision: ['x:y'] } as never, /`permision` is not a field of a key — did you mean "permissions"\?/],
    [
      'a consumer topic without a wildcard',
      { consumers: [{ type: 'iot-rule', ruleName: 'r', topic: 'acme/telemetry' }] },
      /`consumers\[0\].topic` is "acme\/telemetry" — must have a `\+` \(or a final `#`\) at the level that names the device, e\.g\. acme\/telemetry\/\+: a reading without its own deviceId takes it from that level of the topic/,
    ],
    ['a consumer topic with a wildcard inside a level', { consumers: [{ type: 'iot-rule', ruleName: 'r', topic: 'acme/dev+' }] }, /`consumers\[0\].topic` is "acme\/dev\+" — must use `\+` only as a whole level/],
    ['a variable Lambda reserves', { consumers: [{ type: 'lambda-env', functionName: 'acme-ingest', variable: 'AWS_REGION' }] }, /`consumers\[0\].variable` is "AWS_REGION" — must not be a name Lambda reserves/],
    ['an SSM name SSM reserves', { consumers: [{ type: 'ssm-parameter', name: '/aws/key' }] }, /`consumers\[0\].name` is "\/aws\/key" — must not begin with "aws" or "ssm"/],
    ['a consumer type that does not exist', { consumers: [{ type: 'lambda_env' } as never] }, /`consumers\[0\].type` is "lambda_env" — did you mean "lambda-env"\?/],
    ['a consumer topic with `#` before its end', { consumers: [{ type: 'iot-rule', ruleName: 'r', topic: 'acme/#/x', mode: 'inline' }] }, /`consumers\[0\].topic` is "acme\/#\/x" — must use `#` only as the whole last level/],
  ])('refuses %s at synth with the key named', (_, change, message) => {
    expect(() => testApp([{ ...telemetryKey, ...change }])).toThrow(message);
    expect(() => testApp([{ ...telemetryKey, ...change }])).toThrow(/ApiKey "acme\//);
  });

  it('lists every problem of a key at once', () => {
    const bad = { ...telemetryKey, environment: 'qa' as never, tags: Array.from({ length: 11 }, (_, i) => `t${i}`), expiresAt: '2020-01-01T00:00:00Z' };
    expect(() => testApp([bad])).toThrow(/`environment`[\s\S]*`tags`[\s\S]*`expiresAt`/);
  });

  it('accepts a short grace when every consumer is inline', () => {
    expect(() =>
      testApp([{ ...telemetryKey, rotation: { everyDays: 7, graceMinutes: 5 }, consumers: [{ type: 'iot-rule', ruleName: 'r', topic: 't/+', mode: 'inline' }] }]),
    ).not.toThrow();
  });

  it('refuses duplicate key names and a rule shared by two keys', () => {
    expect(() => testApp([telemetryKey, telemetryKey])).toThrow(/acme\/sensors is declared twice/);
    expect(() => testApp([telemetryKey, { ...telemetryKey, name: 'other' }])).toThrow(/ApiKey "acme\/other": `consumers\[0\].ruleName` is "acme_sensors", already the rule of acme\/sensors/);
    const parameter = { type: 'ssm-parameter' as const, name: '/acme/key' };
    expect(() => testApp([{ ...telemetryKey, consumers: [parameter] }, { ...telemetryKey, name: 'other', consumers: [parameter] }])).toThrow(
      /ApiKey "acme\/other": `consumers\[0\].name` is "\/acme\/key", already the parameter of acme\/sensors/,
    );
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
