import { Testing } from 'cdktf';
import type { ApiKeyProps, ConsumerProps } from '../../lambda/declared-key/contract';
import { testApp } from '../test-support';
import { CONSUMER_POLICY_BUDGET, consumerGrants } from './consumer-grants';

const WHERE = { region: 'eu-west-1', accountId: '123456789012' };
const KMS_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const OTHER_KMS_KEY = 'arn:aws:kms:eu-west-1:210987654321:key/99999999-8888-7777-6666-555555555555';

const key = (name: string, consumers: ConsumerProps[], extra: Partial<ApiKeyProps> = {}): ApiKeyProps => ({
  tenant: 'acme',
  name,
  environment: 'production',
  permissions: ['telemetry:write'],
  consumers,
  ...extra,
});

describe('consumerGrants', () => {
  it('grants exactly the declared functions, by name or ARN, each once', () => {
    const grants = consumerGrants(
      [
        { type: 'lambda-env', functionName: 'ingest', variable: 'KEYROLL_API_KEY' },
        { type: 'lambda-env', functionName: 'ingest', variable: 'KEYROLL_BACKUP_KEY' },
        { type: 'lambda-env', functionName: 'arn:aws:lambda:eu-central-1:210987654321:function:billing', variable: 'API_KEY' },
      ],
      WHERE,
    );

    expect(grants).toEqual([
      {
        actions: ['lambda:GetFunctionConfiguration', 'lambda:UpdateFunctionConfiguration'],
        resources: ['arn:aws:lambda:eu-west-1:123456789012:function:ingest', 'arn:aws:lambda:eu-central-1:210987654321:function:billing'],
      },
    ]);
  });

  it('grants exactly the declared parameters (ARN without the leading slash), and each KMS key only through SSM and only for its own parameters', () => {
    const grants = consumerGrants(
      [
        { type: 'ssm-parameter', name: '/acme/ingest/api-key', kmsKeyArn: KMS_KEY },
        { type: 'ssm-parameter', name: 'acme-billing-key' },
        { type: 'ssm-parameter', name: '/acme/reports/api-key', kmsKeyArn: OTHER_KMS_KEY },
        { type: 'ssm-parameter', name: '/acme/export/api-key', kmsKeyArn: KMS_KEY },
      ],
      WHERE,
    );

    const arn = (path: string) => `arn:aws:ssm:eu-west-1:123456789012:parameter/${path}`;
    expect(grants).toEqual([
      {
        actions: ['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:AddTagsToResource', 'ssm:ListTagsForResource'],
        resources: [arn('acme/ingest/api-key'), arn('acme-billing-key'), arn('acme/reports/api-key'), arn('acme/export/api-key')],
      },
      {
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [KMS_KEY],
        conditions: {
          StringEquals: { 'kms:ViaService': 'ssm.eu-west-1.amazonaws.com', 'kms:EncryptionContext:PARAMETER_ARN': [arn('acme/ingest/api-key'), arn('acme/export/api-key')] },
        },
      },
      {
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [OTHER_KMS_KEY],
        conditions: { StringEquals: { 'kms:ViaService': 'ssm.eu-west-1.amazonaws.com', 'kms:EncryptionContext:PARAMETER_ARN': [arn('acme/reports/api-key')] } },
      },
    ]);
  });

  it('grants nothing for IoT rule consumers (their rules are reached by tag, see provisioner-grants.ts)', () => {
    expect(
      consumerGrants(
        [
          { type: 'iot-rule', ruleName: 'acme_ingest', topic: 'acme/+/telemetry' },
          { type: 'iot-rule', ruleName: 'acme_legacy', topic: 'acme/legacy/+', mode: 'inline' },
        ],
        WHERE,
      ),
    ).toEqual([]);
  });
});

type Synth = { resource: Record<string, Record<string, Record<string, any>>> };
const synth = (stack: Parameters<typeof Testing.synth>[0]) => JSON.parse(Testing.synth(stack)) as Synth;
const consumerPolicies = (stack: Synth) =>
  Object.entries(stack.resource.aws_iam_role_policy ?? {}).filter(([, policy]) => String(policy.name).startsWith('keyroll-consumers-'));

describe('in a keys stack', () => {
  it('puts one policy on the provisioner role and one on the rotation role, and the keys are provisioned and set up for rotation after them', () => {
    const { platform, keysStack } = testApp([
      key('ingest', [
        { type: 'lambda-env', functionName: 'ingest', variable: 'KEYROLL_API_KEY' },
        { type: 'ssm-parameter', name: '/acme/ingest/api-key', kmsKeyArn: KMS_KEY },
      ], { rotation: { everyDays: 30, graceMinutes: 60 } }),
      key('plain', []),
    ]);
    const keys = synth(keysStack);
    const roles = synth(platform).resource.aws_iam_role;

    const policies = consumerPolicies(keys);
    const roleNames = policies.map(([, policy]) => roles[/^\$\{aws_iam_role\.([^.]+)\.name\}$/.exec(policy.role)![1]].name);
    expect(roleNames.sort()).toEqual(['keyroll-provisioner-role', 'keyroll-rotation-role']);
    for (const [, policy] of policies) {
      expect(policy.name).toBe('keyroll-consumers-keyroll-keys');
      const statements = JSON.parse(policy.policy).Statement;
      expect(statements.map((statement: { Resource: string[] }) => statement.Resource)).toEqual([
        ['arn:aws:lambda:eu-west-1:${data.aws_caller_identity.account.account_id}:function:ingest'],
        ['arn:aws:ssm:eu-west-1:${data.aws_caller_identity.account.account_id}:parameter/acme/ingest/api-key'],
        [KMS_KEY],
      ]);
    }
    const dependsOnPolicies = (resources: Record<string, Record<string, any>>) =>
      Object.values(resources).map((resource) => policies.every(([id]) => (resource.depends_on ?? []).includes(`aws_iam_role_policy.${id}`)));
    expect(dependsOnPolicies(keys.resource.aws_lambda_invocation)).toEqual([true, true]);
    expect(dependsOnPolicies(keys.resource.aws_secretsmanager_secret_rotation)).toEqual([true]);
  });

  it('has no such policy when its keys declare only IoT rule consumers, or none', () => {
    const { keysStack } = testApp([
      key('ingest', [
        { type: 'iot-rule', ruleName: 'acme_ingest', topic: 'acme/+/telemetry' },
        { type: 'iot-rule', ruleName: 'acme_legacy', topic: 'acme/legacy/+', mode: 'inline' },
      ]),
      key('plain', []),
    ]);
    const keys = synth(keysStack);

    expect(consumerPolicies(keys)).toEqual([]);
    for (const invocation of Object.values(keys.resource.aws_lambda_invocation)) {
      expect(JSON.stringify(invocation.depends_on ?? [])).not.toContain('consumer-grants');
    }
  });

  it('refuses at synth more such consumers than IAM has room for on the roles, and says what to do', () => {
    const many = Array.from({ length: 40 }, (_, i) =>
      key(`service-${i}`, [
        { type: 'lambda-env', functionName: `acme-telemetry-ingest-service-${i}`, variable: 'KEYROLL_API_KEY' },
        { type: 'ssm-parameter', name: `/acme/telemetry/ingest-service-${i}/api-key`, kmsKeyArn: KMS_KEY },
      ]),
    );

    expect(() => testApp(many)).toThrow(/80 lambda-env and ssm-parameter consumers.*exceed the 6000.*Declare fewer such consumers/s);
    expect(() => testApp(many.slice(0, 10))).not.toThrow();
  });
});

describe('CONSUMER_POLICY_BUDGET', () => {
  it("fits beside the provisioner's and the rotation's own policies in IAM's 10,240 characters per role", () => {
    const { platform } = testApp([]);
    const { resource } = synth(platform);
    const roleId = (name: string) => Object.entries(resource.aws_iam_role).find(([, role]) => role.name === name)![0];
    // Every Terraform reference counted as 100 characters, longer than any ARN or name it becomes.
    const size = (policy: string) => policy.replace(/\$\{[^}]+\}/g, 'x'.repeat(100)).length;

    for (const role of ['keyroll-provisioner-role', 'keyroll-rotation-role']) {
      const own = Object.values(resource.aws_iam_role_policy)
        .filter((policy) => policy.role === `\${aws_iam_role.${roleId(role)}.name}`)
        .reduce((sum, policy) => sum + size(policy.policy), 0);
      expect(own).toBeGreaterThan(0);
      expect(own + CONSUMER_POLICY_BUDGET).toBeLessThanOrEqual(10_240);
    }
  });
});
