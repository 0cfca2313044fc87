/**
 * What the provisioner and the rotation may do to the function variables and SSM parameters a keys
 * stack's keys declare (`lambda-env`, `ssm-parameter` consumers), granted by name: exactly those
 * functions, parameters and KMS keys, one inline policy per role per keys stack.
 *
 * By name, not by tag as for secrets and rules (see stacks/platform/provisioner-grants.ts): the
 * functions are the user's, so keyroll cannot tag them, and a parameter's tag cannot guard its own
 * creation. The price is size: IAM allows a role 10,240 characters of inline policy in all, so the
 * number of such consumers is bounded (CONSUMER_POLICY_BUDGET, checked at synth).
 */
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { dependable, type TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import type { ApiKeyProps, ConsumerProps, LambdaEnvConsumer, SsmParameterConsumer } from '../../lambda/declared-key/contract';
import { type Grant, policyDocument } from '../platform/iam-policy';

/**
 * Characters (as IAM counts them: the policy without whitespace, with a 12-digit account id) one
 * keys stack's consumer policy may take on a role. The roles' fixed policies take about 1,800 of
 * IAM's 10,240; consumer-grants.test.ts checks that they and this budget fit together with room to
 * spare. Roughly 75 functions, 75 parameters, or 38 parameters with a customer managed KMS key
 * (each named twice: as a parameter, and in the key's encryption-context condition).
 */
export const CONSUMER_POLICY_BUDGET = 6_000;

/** Calls Lambda authorizes on the function itself: reading its configuration and changing it (its variables). */
const FUNCTION_ACTIONS = ['lambda:GetFunctionConfiguration', 'lambda:UpdateFunctionConfiguration'];
/** Creating a parameter with its tag needs ssm:AddTagsToResource too; ListTagsForResource tells a parameter that is not this key's. */
const PARAMETER_ACTIONS = ['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:AddTagsToResource', 'ssm:ListTagsForResource'];
/**
 * SSM encrypts a standard SecureString with kms:Encrypt and decrypts it with kms:Decrypt on the
 * caller's behalf (advanced parameters use GenerateDataKey), naming the parameter in the
 * encryption context. See https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html
 */
const PARAMETER_KMS_ACTIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'];

export interface ConsumerGrantsProps {
  /** The keys stack's declared keys; only their lambda-env and ssm-parameter consumers are granted. */
  readonly keys: readonly Pick<ApiKeyProps, 'tenant' | 'name' | 'consumers'>[];
  readonly region: string;
  /** The account the functions and parameters named by name (not ARN) are in. */
  readonly accountId: string;
  /** The provisioner's role, e.g. `keyroll-provisioner-role`: it writes consumers at deploy and removes them. */
  readonly provisionerRoleName: string;
  /** The rotation Lambda's role, e.g. `keyroll-rotation-role`: it moves consumers and reads them back. */
  readonly rotationRoleName: string;
  /** The policy's name on both roles: unique per keys stack, e.g. `keyroll-consumers-keyroll-keys`. */
  readonly policyName: string;
}

/** One inline policy on each of the two roles, or none when the keys declare no such consumer. */
export class ConsumerGrants extends Construct {
  /** Empty when no key declares a lambda-env or ssm-parameter consumer. */
  readonly policies: IamRolePolicy[] = [];

  constructor(scope: Construct, id: string, props: ConsumerGrantsProps) {
    super(scope, id);
    const consumers = props.keys.flatMap((key) => key.consumers ?? []);
    const grants = consumerGrants(consumers, props);
    if (grants.length === 0) return;
    assertWithinBudget(consumers, props);
    const policy = policyDocument(...grants);
    for (const [policyId, role] of [
      ['provisioner', props.provisionerRoleName],
      ['rotation', props.rotationRoleName],
    ] as const) {
      this.policies.push(new IamRolePolicy(this, policyId, { role, name: props.policyName, policy }));
    }
  }

  /**
   * Makes `resource` wait for the grants on create (and go before them on destroy), e.g. a key's
   * provisioning, which writes its consumers, or its rotation set-up, which reads them back.
   */
  precede(resource: TerraformResource): void {
    if (this.policies.length === 0) return;
    resource.dependsOn = [...(resource.dependsOn ?? []), ...this.policies.map((policy) => dependable(policy))];
  }
}

/** The grants for `consumers` (declared, any type), one statement per kind of resource; none for IoT consumers. */
export function consumerGrants(consumers: readonly ConsumerProps[], where: { readonly region: string; readonly accountId: string }): Grant[] {
  const functions = unique(consumers.filter(isLambdaEnv).map((consumer) => functionArn(consumer, where)));
  const parameters = consumers.filter(isSsmParameter);
  const grants: Grant[] = [];
  if (functions.length > 0) grants.push({ actions: FUNCTION_ACTIONS, resources: functions });
  if (parameters.length > 0) grants.push({ actions: PARAMETER_ACTIONS, resources: unique(parameters.map((parameter) => parameterArn(parameter, where))) });
  // One statement per KMS key, limited to the parameters that declare it.
  for (const kmsKeyArn of unique(parameters.flatMap((parameter) => (parameter.kmsKeyArn ? [parameter.kmsKeyArn] : [])))) {
    const encrypted = unique(parameters.filter((parameter) => parameter.kmsKeyArn === kmsKeyArn).map((parameter) => parameterArn(parameter, where)));
    grants.push({
      actions: PARAMETER_KMS_ACTIONS,
      resources: [kmsKeyArn],
      conditions: { StringEquals: { 'kms:ViaService': `ssm.${where.region}.amazonaws.com`, 'kms:EncryptionContext:PARAMETER_ARN': encrypted } },
    });
  }
  return grants;
}

/** The function's ARN: as declared if it is one, else the name's in the stack's region and account. */
export function functionArn(consumer: Pick<LambdaEnvConsumer, 'functionName'>, where: { readonly region: string; readonly accountId: string }): string {
  if (consumer.functionName.startsWith('arn:')) return consumer.functionName;
  return `arn:aws:lambda:${where.region}:${where.accountId}:function:${consumer.functionName}`;
}

/** The parameter's ARN: `/a/b` and `a` are `parameter/a/b` and `parameter/a` (SSM drops the leading slash). */
export function parameterArn(consumer: Pick<SsmParameterConsumer, 'name'>, where: { readonly region: string; readonly accountId: string }): string {
  return `arn:aws:ssm:${where.region}:${where.accountId}:parameter/${consumer.name.replace(/^\//, '')}`;
}

/** The account id as IAM will see it, for measuring while it is still a Terraform reference. */
const MEASURED_ACCOUNT = '123456789012';

function assertWithinBudget(consumers: readonly ConsumerProps[], props: ConsumerGrantsProps): void {
  const size = policyDocument(...consumerGrants(consumers, { region: props.region, accountId: MEASURED_ACCOUNT })).length;
  if (size <= CONSUMER_POLICY_BUDGET) return;
  const count = consumers.filter((consumer) => isLambdaEnv(consumer) || isSsmParameter(consumer)).length;
  throw new Error(
    `The keys declare ${count} lambda-env and ssm-parameter consumers, and the grants for them (${size} characters of IAM policy) exceed the ${CONSUMER_POLICY_BUDGET} ` +
      'that IAM leaves for them on the provisioner and rotation roles (10,240 in all per role). Declare fewer such consumers (shorter function and parameter names help), ' +
      'or let more integrations read the key from its secret (an iot-rule reference consumer, or GetSecretValue on keyroll/<tenant>/<name>).',
  );
}

const isLambdaEnv = (consumer: ConsumerProps): consumer is LambdaEnvConsumer => consumer.type === 'lambda-env';
const isSsmParameter = (consumer: ConsumerProps): consumer is SsmParameterConsumer => consumer.type === 'ssm-parameter';
const unique = (values: readonly string[]) => [...new Set(values)];
