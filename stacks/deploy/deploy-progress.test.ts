import { CdktfLines } from './cdktf-output-lines';
import { DeployProgress, resourceType } from './deploy-progress';

const ESC = '\u001b';
/** cdktf's shape: the stack's name on a chunk's first line, the chunk's other lines indented to it, colour codes everywhere. */
function chunk(stack: string, ...lines: string[]): string {
  const pad = ' '.repeat(stack.length + 2);
  return `${lines.map((line, i) => `${i === 0 ? `${stack}  ` : pad}${ESC}[0m${ESC}[1m${line}${ESC}[0m`).join('\n')}\n`;
}

function report(chunks: string[], stacks = ['keyroll-platform', 'keyroll-keys'], listPlan = false) {
  const said: string[] = [];
  const progress = new DeployProgress((line) => said.push(line), listPlan);
  const lines = new CdktfLines(stacks, (line) => progress.line(line));
  // Split mid-line too: chunks from a pipe end anywhere.
  for (const text of chunks) {
    lines.push(text.slice(0, 7));
    lines.push(text.slice(7));
  }
  lines.end();
  return { said, progress };
}

const PLATFORM_PLAN = chunk(
  'keyroll-platform',
  '  # aws_dynamodb_table.tables_keys_FA793A89 (tables/keys) will be created',
  '  # aws_dynamodb_table.tables_telemetry_C924420E (tables/telemetry) will be created',
  '  # aws_iam_role.service_role_313DE075 (service/role) will be created',
  'Plan: 3 to add, 0 to change, 0 to destroy.',
);

describe('DeployProgress', () => {
  it('reports each resource type of a stack once all of it is done, then the stack, then a summary with the keys issued', () => {
    const { said, progress } = report([
      PLATFORM_PLAN,
      chunk('keyroll-platform', 'aws_dynamodb_table.tables_keys_FA793A89: Creation complete after 0s [id=keyroll-keys]'),
      chunk('keyroll-platform', 'aws_iam_role.service_role_313DE075: Creation complete after 1s [id=keyroll-service-role]', 'aws_dynamodb_table.tables_telemetry_C924420E: Still creating... [10s elapsed]'),
      chunk('keyroll-platform', 'aws_dynamodb_table.tables_telemetry_C924420E: Creation complete after 12s [id=keyroll-telemetry]'),
      chunk('keyroll-platform', '', 'Apply complete! Resources: 3 added, 0 changed, 0 destroyed.'),
      chunk(
        'keyroll-keys',
        '  # aws_lambda_invocation.acme_a_provision_1 (acme_a/provision) will be created',
        '  # aws_lambda_invocation.acme_b_provision_2 (acme_b/provision) must be replaced',
        '  # aws_secretsmanager_secret.acme_a_secret_3 (acme_a/secret) will be updated in-place',
        'Plan: 2 to add, 1 to change, 1 to destroy.',
      ),
      chunk('keyroll-keys', 'aws_secretsmanager_secret.acme_a_secret_3: Modifications complete after 0s [id=arn:…]'),
      chunk('keyroll-keys', 'aws_lambda_invocation.acme_b_provision_2: Destruction complete after 0s', 'aws_lambda_invocation.acme_a_provision_1: Creation complete after 0s [id=x]'),
      chunk('keyroll-keys', 'aws_lambda_invocation.acme_b_provision_2: Creation complete after 0s [id=y]', 'Apply complete! Resources: 2 added, 1 changed, 1 destroyed.'),
    ]);
    expect(said).toEqual([
      'keyroll-platform: will add 3',
      'keyroll-platform: 1 role created',
      'keyroll-platform: 2 tables created',
      'keyroll-platform: done: 3 added, 0 changed, 0 destroyed',
      'keyroll-keys: will add 2, change 1, destroy 1',
      'keyroll-keys: 1 secret updated',
      'keyroll-keys: 2 keys (1 issued, 1 re-issued)',
      'keyroll-keys: done: 2 added, 1 changed, 1 destroyed',
    ]);
    expect(progress.summary('deploy')).toBe('Deployed keyroll-platform, keyroll-keys: 5 added, 1 changed, 1 destroyed; 2 keys issued, 1 revoked.');
  });

  it('says "no changes" for an unchanged stack, and lists the plan for diff', () => {
    expect(report([chunk('keyroll-keys', 'No changes. Your infrastructure matches the configuration.')]).said).toEqual(['keyroll-keys: no changes']);
    expect(report([PLATFORM_PLAN], ['keyroll-platform'], true).said).toEqual([
      'keyroll-platform: would add 3',
      '  + aws_dynamodb_table.tables_keys_FA793A89',
      '  + aws_dynamodb_table.tables_telemetry_C924420E',
      '  + aws_iam_role.service_role_313DE075',
    ]);
  });

  it('sums a destroy as destroyed resources and revoked keys', () => {
    const { progress } = report(
      [
        chunk('keyroll-keys', '  # aws_lambda_invocation.acme_a_provision_1 (acme_a/provision) will be destroyed', 'Plan: 0 to add, 0 to change, 1 to destroy.'),
        chunk('keyroll-keys', 'aws_lambda_invocation.acme_a_provision_1: Destruction complete after 0s', 'Destroy complete! Resources: 1 destroyed.'),
      ],
      ['keyroll-keys'],
    );
    expect(progress.summary('destroy')).toBe('Destroyed keyroll-keys: 1 destroyed; 1 key revoked.');
  });

  it('has no summary when no stack got as far as applying', () => {
    expect(report([chunk('keyroll-platform', 'Initializing the backend...')]).progress.summary('deploy')).toBeUndefined();
  });

  it('reads the resource type from an address, modules and indexes included', () => {
    expect(resourceType('aws_iam_role.service_role_313DE075')).toBe('aws_iam_role');
    expect(resourceType('module.keys.aws_secretsmanager_secret.s[0]')).toBe('aws_secretsmanager_secret');
  });
});
