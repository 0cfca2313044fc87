import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaFunctionUrl } from '@cdktf/provider-aws/lib/lambda-function-url';
import { Testing } from 'cdktf';
import 'cdktf/lib/testing/adapters/jest';
import { stableSynth, TEST_TARGET, testApp } from '../test-support';

Testing.setupJest();

describe('PlatformStack', () => {
  const synthesized = () => Testing.synth(testApp([]).platform);

  it('creates the three tables with PITR, encryption, TTL and protection from deletion', () => {
    for (const name of ['keyroll-keys', 'keyroll-telemetry']) {
      expect(synthesized()).toHaveResourceWithProperties(DynamodbTable, {
        name,
        hash_key: 'pk',
        range_key: 'sk',
        point_in_time_recovery: { enabled: true },
        server_side_encryption: { enabled: true },
        ttl: { attribute_name: 'ttl', enabled: true },
        deletion_protection_enabled: true,
        lifecycle: { prevent_destroy: true },
      });
    }
    expect(synthesized()).toHaveResourceWithProperties(DynamodbTable, { name: 'keyroll-rate-limits', point_in_time_recovery: { enabled: false } });
  });

  it('leaves tables unprotected on the emulator only', () => {
    const json = JSON.parse(Testing.synth(testApp([], { ...TEST_TARGET, local: true }).platform));
    for (const table of Object.values(json.resource.aws_dynamodb_table as Record<string, any>)) {
      expect(table.deletion_protection_enabled).toBe(false);
    }
  });

  it('runs the service and the provisioner as bundled Node Lambdas with their log groups', () => {
    expect(synthesized()).toHaveResourceWithProperties(LambdaFunction, { function_name: 'keyroll-service', runtime: 'nodejs20.x', handler: 'index.handler' });
    expect(synthesized()).toHaveResourceWithProperties(LambdaFunction, { function_name: 'keyroll-provisioner' });
    expect(synthesized()).toHaveResourceWithProperties(LambdaFunctionUrl, { authorization_type: 'NONE' });
    const json = JSON.parse(synthesized());
    const retention = Object.values(json.resource.aws_cloudwatch_log_group as Record<string, any>).map((g) => [g.name, g.retention_in_days]);
    expect(retention).toEqual(expect.arrayContaining([['/aws/lambda/keyroll-service', 30], ['/aws/lambda/keyroll-provisioner', 30]]));
  });

  it('grants least privilege: no wildcard actions, and * only for IoT rule listing', () => {
    const json = JSON.parse(synthesized());
    for (const policy of Object.values(json.resource.aws_iam_role_policy as Record<string, any>)) {
      for (const statement of JSON.parse(policy.policy).Statement) {
        for (const action of [statement.Action].flat()) expect(action).not.toMatch(/\*/);
        // ListTopicRules has no resource-level permissions in IAM.
        if ([statement.Resource].flat().includes('*')) expect(statement.Action).toEqual(['iot:ListTopicRules']);
      }
    }
  });

  it("confines the key service to key and secret partitions of the keys table, and the provisioner's IoT access to this account", () => {
    const json = JSON.parse(synthesized());
    const statements = (name: string) =>
      JSON.parse((Object.values(json.resource.aws_iam_role_policy as Record<string, any>).find((p) => p.name === name) as { policy: string }).policy)
        .Statement as { Action: string[]; Resource: string[]; Condition?: unknown }[];
    const keysTable = `\${aws_dynamodb_table.${Object.keys(json.resource.aws_dynamodb_table).find((id) => id.startsWith('tables_keys_'))}.arn}`;
    const serviceOnKeys = statements('key-service-data').filter((s) => s.Resource.includes(keysTable));
    expect(serviceOnKeys).toHaveLength(1);
    expect(serviceOnKeys[0].Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TENANT#*', 'SECRET#*'] } });
    expect(serviceOnKeys[0].Action).not.toContain('dynamodb:Scan');

    const provisioner = statements('provisioner-keys-table');
    expect(provisioner.find((s) => s.Resource.includes(keysTable))).not.toHaveProperty('Condition');
    const rules = provisioner.find((s) => s.Action.includes('iot:DeleteTopicRule'))!;
    expect(rules).toEqual({
      Effect: 'Allow',
      Action: ['iot:GetTopicRule', 'iot:ListTagsForResource', 'iot:DeleteTopicRule'],
      Resource: ['arn:aws:iot:eu-west-1:${data.aws_caller_identity.account.account_id}:rule/*'],
    });
  });

  it('sets no NODE_OPTIONS the bundle cannot honour', () => {
    for (const fn of Object.values(JSON.parse(synthesized()).resource.aws_lambda_function as Record<string, any>)) {
      expect(fn.environment.variables).not.toHaveProperty('NODE_OPTIONS');
    }
  });

  it('gives the bundled code a stable hash', () => {
    const hash = (text: string) => Object.values(JSON.parse(text).resource.aws_lambda_function as Record<string, any>).map((f) => f.source_code_hash);
    expect(hash(synthesized())).toEqual(hash(synthesized()));
  });

  it('outputs the API URL and table names', () => {
    const outputs = Object.keys(JSON.parse(synthesized()).output);
    expect(outputs).toEqual(expect.arrayContaining(['api-url', 'keys-table', 'rate-limits-table', 'telemetry-table']));
  });

  it('matches the snapshot', () => {
    expect(stableSynth(testApp([]).platform)).toMatchSnapshot();
  });
});
