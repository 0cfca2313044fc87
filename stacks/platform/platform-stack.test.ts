import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaFunctionUrl } from '@cdktf/provider-aws/lib/lambda-function-url';
import { Testing } from 'cdktf';
import 'cdktf/lib/testing/adapters/jest';
import { stableSynth, TEST_TARGET, testApp } from '../test-support';
import { NodeFunction } from './node-function';

Testing.setupJest();

/**
 * Node.js runtimes AWS Lambda has deprecated: it blocks creating and updating functions on them,
 * so a deploy on one fails. Add a runtime here when AWS deprecates it.
 * See https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html#runtimes-deprecated
 */
const DEPRECATED_NODE_RUNTIMES = ['nodejs', 'nodejs4.3', 'nodejs4.3-edge', 'nodejs6.10', 'nodejs8.10', 'nodejs10.x', 'nodejs12.x', 'nodejs14.x', 'nodejs16.x', 'nodejs18.x', 'nodejs20.x'];

interface Statement {
  Effect: string;
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, unknown>>;
}

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
    expect(synthesized()).toHaveResourceWithProperties(LambdaFunction, { function_name: 'keyroll-service', runtime: 'nodejs22.x', handler: 'index.handler' });
    expect(synthesized()).toHaveResourceWithProperties(LambdaFunction, { function_name: 'keyroll-provisioner' });
    expect(synthesized()).toHaveResourceWithProperties(LambdaFunctionUrl, { authorization_type: 'NONE' });
    const json = JSON.parse(synthesized());
    const retention = Object.values(json.resource.aws_cloudwatch_log_group as Record<string, any>).map((g) => [g.name, g.retention_in_days]);
    expect(retention).toEqual(expect.arrayContaining([['/aws/lambda/keyroll-service', 30], ['/aws/lambda/keyroll-provisioner', 30]]));
  });

  it('runs every Lambda on a Node.js runtime AWS still lets you create and update', () => {
    const functions = Object.values(JSON.parse(synthesized()).resource.aws_lambda_function as Record<string, { runtime: string }>);
    expect(functions).toHaveLength(3);
    for (const { runtime } of functions) {
      expect(runtime).toMatch(/^nodejs\d+\.x$/);
      expect(DEPRECATED_NODE_RUNTIMES).not.toContain(runtime);
    }
  });

  it('reserves concurrency for the key service, so a flood of requests leaves the rest of the account to the provisioner', () => {
    const reserved = (target = TEST_TARGET) =>
      Object.fromEntries(
        Object.values(JSON.parse(Testing.synth(testApp([], target).platform)).resource.aws_lambda_function as Record<string, any>).map((f) => [
          f.function_name,
          f.reserved_concurrent_executions,
        ]),
      );
    // The provisioner stays in the unreserved pool, which the capped service can no longer drain.
    expect(reserved()).toEqual({ 'keyroll-service': 100, 'keyroll-provisioner': undefined });
    expect(reserved({ ...TEST_TARGET, serviceReservedConcurrency: 250 })['keyroll-service']).toBe(250);
    expect(reserved({ ...TEST_TARGET, serviceReservedConcurrency: 'none' })['keyroll-service']).toBeUndefined();
  });

  it.each([0, -1, 1.5])('refuses a reserved concurrency of %p: it would throttle every request, or is no count', (reservedConcurrency) => {
    const { platform } = testApp([]);
    expect(() => new NodeFunction(platform, 'f', { functionName: 'f', entry: 'lambda/provision/handler.ts', description: 'f', reservedConcurrency })).toThrow(
      /NodeFunction f: `reservedConcurrency` is .*; give a whole number of at least 1, or leave it out/,
    );
  });

  it('grants least privilege: no wildcard actions, and wildcard resources only where a condition narrows them', () => {
    // The provisioner's grants cover every declared key at once (by tag, see
    // provisioner-grants.ts), so its resources are patterns. Each pattern must come with a
    // condition, except reading rules and their tags (how the provisioner tells a missing rule from
    // one that is not its own), listing rules (IAM has no resource-level permission for it), and
    // the service confirming topic rule destinations (it checks the account, region and URL itself:
    // a destination's ARN is a random id, known only once IoT sends the confirmation).
    const unconditioned: Record<string, string[]> = {
      '*': ['iot:ListTopicRules'],
      'arn:aws:iot:eu-west-1:${data.aws_caller_identity.account.account_id}:rule/*': ['iot:GetTopicRule', 'iot:ListTagsForResource'],
      'arn:aws:iot:eu-west-1:${data.aws_caller_identity.account.account_id}:ruledestination/http/*': ['iot:ConfirmTopicRuleDestination', 'iot:UpdateTopicRuleDestination'],
    };
    const json = JSON.parse(synthesized());
    for (const policy of Object.values(json.resource.aws_iam_role_policy as Record<string, { policy: string }>)) {
      for (const statement of JSON.parse(policy.policy).Statement as Statement[]) {
        for (const action of statement.Action) expect(action).not.toMatch(/\*/);
        for (const resource of statement.Resource.filter((r) => r === '*' || r.endsWith('/*'))) {
          if (!statement.Condition) expect({ resource, actions: statement.Action }).toEqual({ resource, actions: unconditioned[resource] });
        }
        for (const resource of statement.Resource.filter((r) => r.includes(':secretsmanager:'))) expect(resource).toMatch(/:secret:keyroll\/\*$/);
      }
    }
  });

  it('confines the key service to key and secret partitions of the keys table', () => {
    const json = JSON.parse(synthesized());
    const keysTable = `\${aws_dynamodb_table.${Object.keys(json.resource.aws_dynamodb_table).find((id) => id.startsWith('tables_keys_'))}.arn}`;
    const serviceOnKeys = policyStatements(json, 'key-service-data').filter((s) => s.Resource.includes(keysTable));
    expect(serviceOnKeys).toHaveLength(1);
    expect(serviceOnKeys[0].Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TENANT#*', 'SECRET#*', 'USAGE_SERIES#*', 'AUDIT#*', 'CONSOLE#*', 'ALERT#*', 'SOURCES#*'] } });
    expect(serviceOnKeys[0].Action).not.toContain('dynamodb:Scan');
    expect(policyStatements(json, 'provisioner-keys-table')).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem', 'dynamodb:DeleteItem'],
        Resource: [keysTable],
      },
    ]);
  });

  it('lets the provisioner at secrets, and write IoT rules, of this account only by their keyroll:key tag', () => {
    const json = JSON.parse(synthesized());
    const account = '${data.aws_caller_identity.account.account_id}';
    const keySecrets = `arn:aws:secretsmanager:eu-west-1:${account}:secret:keyroll/*`;
    const rules = `arn:aws:iot:eu-west-1:${account}:rule/*`;
    expect(policyStatements(json, 'provisioner-key-secrets')).toEqual([
      {
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: [keySecrets],
        Condition: { Null: { 'aws:ResourceTag/keyroll:key': 'false' } },
      },
      {
        Effect: 'Allow',
        // Never kms:Encrypt; only through Secrets Manager, and only for keyroll secrets.
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: ['arn:aws:kms:eu-west-1:*:key/*'],
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' }, StringLike: { 'kms:EncryptionContext:SecretARN': keySecrets } },
      },
    ]);
    expect(policyStatements(json, 'provisioner-inline-rules')).toEqual([
      { Effect: 'Allow', Action: ['iot:GetTopicRule', 'iot:ListTagsForResource'], Resource: [rules] },
      { Effect: 'Allow', Action: ['iot:ReplaceTopicRule', 'iot:DeleteTopicRule'], Resource: [rules], Condition: { Null: { 'aws:ResourceTag/keyroll:key': 'false' } } },
      {
        Effect: 'Allow',
        Action: ['iot:CreateTopicRule', 'iot:TagResource'],
        Resource: [rules],
        Condition: { Null: { 'aws:RequestTag/keyroll:key': 'false' }, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['keyroll:key'] } },
      },
      { Effect: 'Allow', Action: ['iot:ListTopicRules'], Resource: ['*'] },
    ]);
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

function policyStatements(json: any, name: string): Statement[] {
  const policy = Object.values(json.resource.aws_iam_role_policy as Record<string, { name: string; policy: string }>).find((p) => p.name === name);
  if (!policy) throw new Error(`No inline policy named ${name}.`);
  return JSON.parse(policy.policy).Statement;
}
