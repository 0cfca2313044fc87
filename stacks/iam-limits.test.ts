/**
 * IAM's size limits on the policies the app creates, with hundreds of keys declared: a deploy that
 * passes synth but breaks one of them fails half-way in AWS (LimitExceeded), and the emulator does
 * not enforce them. IAM counts policy characters without whitespace.
 * See https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 */
import { Testing } from 'cdktf';
import { TEST_TARGET, testApp } from './test-support';
import type { ApiKeyProps } from './keys/api-key-props';

const IAM_LIMITS = {
  /** All inline policies of one role, together. */
  roleInlinePolicies: 10_240,
  managedPolicy: 6_144,
  /** The default quota for a role's trust policy (it can be raised to 4,096). */
  trustPolicy: 2_048,
};

const ACCOUNT = '123456789012';
const KMS_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;

/** 500 keys: plain, with a customer-managed KMS key, with inline and reference consumers, and some with every name at its longest. */
function manyKeys(count: number): ApiKeyProps[] {
  return Array.from({ length: count }, (_, i): ApiKeyProps => {
    const longest = i % 50 === 0;
    const tenant = longest ? `t${i}`.padEnd(63, 'x') : `tenant-${i % 20}`;
    const name = longest ? `k${i}`.padEnd(63, 'x') : `integration-${i}`;
    const rule = (suffix: string) => (longest ? `r${i}_${suffix}_`.padEnd(128, 'x') : `rule_${i}_${suffix}`);
    const base: ApiKeyProps = { tenant, name, environment: 'production', permissions: ['telemetry:write'], rotation: { everyDays: 30, graceMinutes: 60 } };
    switch (i % 5) {
      case 0:
        return base;
      case 1:
        return { ...base, kmsKeyArn: KMS_KEY };
      case 2:
        return { ...base, consumers: [{ type: 'iot-rule', ruleName: rule('inline'), topic: `t/${i}/+`, mode: 'inline' }] };
      case 3:
        return { ...base, consumers: [{ type: 'iot-rule', ruleName: rule('ref'), topic: `t/${i}/+` }] };
      default:
        return {
          ...base,
          kmsKeyArn: KMS_KEY,
          consumers: [
            { type: 'iot-rule', ruleName: rule('inline'), topic: `t/${i}/+`, mode: 'inline' },
            { type: 'iot-rule', ruleName: rule('ref'), topic: `t/${i}/#` },
          ],
        };
    }
  });
}

type Resources = Record<string, Record<string, Record<string, any>>>;

/**
 * Policy text as IAM will see it: Terraform references replaced by the longest values they take
 * after apply (real account id, ARNs with the names the resources get), whitespace removed. An
 * unknown reference fails the test rather than being counted short.
 */
function resolver(resources: Resources) {
  const arn: Record<string, (r: Record<string, any>) => string> = {
    aws_dynamodb_table: (r) => `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/${r.name}`,
    aws_cloudwatch_log_group: (r) => `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:${r.name}`,
    // Secrets Manager appends `-` and 6 random characters to the name.
    aws_secretsmanager_secret: (r) => `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:${r.name}-AbCdEf`,
    aws_iam_role: (r) => `arn:aws:iam::${ACCOUNT}:role/${r.name}`,
    aws_lambda_function: (r) => `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${r.function_name}`,
  };
  const resolve = (text: string): string =>
    text.replace(/\$\{([^}]+)\}/g, (token, reference: string) => {
      if (reference === 'data.aws_caller_identity.account.account_id') return ACCOUNT;
      const [type, id, attribute] = reference.split('.');
      const resource = resources[type]?.[id];
      if (resource && attribute === 'name') return resource.name;
      if (resource && attribute === 'arn' && arn[type]) return arn[type](resource);
      throw new Error(`No value for ${token} in a policy: teach the IAM limits test what it becomes after apply.`);
    });
  return {
    resolve,
    /** Characters IAM counts: the policy JSON without whitespace. */
    policySize: (policy: string) => JSON.stringify(JSON.parse(resolve(policy))).length,
  };
}

function synthesizedResources(keys: readonly ApiKeyProps[]): Resources {
  const { platform, keysStack } = testApp(keys, TEST_TARGET);
  const merged: Resources = {};
  for (const stack of [platform, keysStack]) {
    for (const [type, byId] of Object.entries((JSON.parse(Testing.synth(stack)).resource ?? {}) as Resources)) merged[type] = { ...merged[type], ...byId };
  }
  return merged;
}

/** Per role name: the characters of all its inline policies together. */
function inlinePolicySizesByRole(resources: Resources): Map<string, number> {
  const { resolve, policySize } = resolver(resources);
  const sizes = new Map<string, number>();
  for (const policy of Object.values(resources.aws_iam_role_policy ?? {})) {
    const role = resolve(policy.role);
    sizes.set(role, (sizes.get(role) ?? 0) + policySize(policy.policy));
  }
  return sizes;
}

describe('IAM limits with 500 declared keys', () => {
  const keys = manyKeys(500);
  const resources = synthesizedResources(keys);
  const { policySize } = resolver(resources);

  it('declares what it is meant to: every kind of key, with a role per reference rule', () => {
    expect(Object.keys(resources.aws_secretsmanager_secret)).toHaveLength(500);
    expect(Object.keys(resources.aws_iot_topic_rule)).toHaveLength(200);
    // The service, the provisioner, the rotation Lambda and the sweep's scheduler, and one per reference rule.
    expect(Object.keys(resources.aws_iam_role)).toHaveLength(4 + 200);
  });

  it(`keeps every role's inline policies within ${IAM_LIMITS.roleInlinePolicies} characters together`, () => {
    const sizes = inlinePolicySizesByRole(resources);
    expect(sizes.size).toBe(4 + 200);
    const over = [...sizes].filter(([, size]) => size > IAM_LIMITS.roleInlinePolicies);
    expect(over).toEqual([]);
  });

  it("keeps the provisioner's and the rotation's grants the same size however many keys are declared", () => {
    const none = inlinePolicySizesByRole(synthesizedResources([]));
    const many = inlinePolicySizesByRole(resources);
    for (const role of ['keyroll-provisioner-role', 'keyroll-rotation-role']) {
      expect(many.get(role)).toBeGreaterThan(0);
      expect(many.get(role)).toBe(none.get(role));
    }
  });

  it('lets Secrets Manager invoke the rotation for every secret within Lambda\'s 20 KB resource policy', () => {
    const statements = Object.values(resources.aws_lambda_permission ?? {});
    expect(Object.keys(resources.aws_secretsmanager_secret_rotation)).toHaveLength(500);
    // A statement as Lambda stores it is about 350 characters with a secret ARN; 20 KB holds ~58.
    const size = statements.reduce((total, statement) => total + 350 + String(statement.source_arn ?? '').length, 0);
    expect(size).toBeLessThanOrEqual(20 * 1024);
    expect(statements.map((statement) => statement.source_arn)).toEqual([`arn:aws:secretsmanager:eu-west-1:\${data.aws_caller_identity.account.account_id}:secret:keyroll/*`]);
  });

  it(`keeps every trust policy within ${IAM_LIMITS.trustPolicy} characters and every managed policy within ${IAM_LIMITS.managedPolicy}`, () => {
    const trust = Object.values(resources.aws_iam_role).map((role) => [role.name, policySize(role.assume_role_policy)] as const);
    expect(trust.filter(([, size]) => size > IAM_LIMITS.trustPolicy)).toEqual([]);
    const managed = Object.values(resources.aws_iam_policy ?? {}).map((policy) => [policy.name, policySize(policy.policy)] as const);
    expect(managed.filter(([, size]) => size > IAM_LIMITS.managedPolicy)).toEqual([]);
  });
});
