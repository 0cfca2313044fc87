/**
 * A Node.js Lambda from a `lambda/` entry point: bundled with esbuild into a TerraformAsset, with its
 * own role (logs only, until callers grant more), and a log group with retention created before it.
 */
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { assumeRolePolicy, policyDocument } from './iam-policy';
import { bundleLambda } from './lambda-bundle';

/**
 * The Lambda runtime of every keyroll function. AWS blocks creating and updating functions on a
 * deprecated runtime (nodejs20.x and older), so a deploy on one fails; the synth tests check this.
 * See https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
 */
export const NODE_RUNTIME = 'nodejs22.x';

export interface NodeFunctionProps {
  readonly functionName: string;
  /** Entry point relative to the project root, exporting `handler`. */
  readonly entry: string;
  readonly description: string;
  /** @default {} */
  readonly environment?: Record<string, string>;
  /** @default 256 */
  readonly memorySize?: number;
  /** Seconds. @default 30 */
  readonly timeout?: number;
  /** @default 30 */
  readonly logRetentionDays?: number;
  /**
   * Concurrent executions reserved for this function, which are also its ceiling. AWS keeps at
   * least 100 of the account's concurrency unreserved, so the sum over reserved functions must
   * stay 100 below the account's quota. @default none (shares the account's unreserved pool)
   */
  readonly reservedConcurrency?: number;
}

export class NodeFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: IamRole;
  readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    super(scope, id);
    const { reservedConcurrency } = props;
    // 0 would be valid for Lambda, and would throttle every request: never what a caller means.
    if (reservedConcurrency !== undefined && !(Number.isInteger(reservedConcurrency) && reservedConcurrency >= 1)) {
      throw new Error(`NodeFunction ${props.functionName}: \`reservedConcurrency\` is ${reservedConcurrency}; give a whole number of at least 1, or leave it out for no reservation.`);
    }
    const asset = new TerraformAsset(this, 'code', {
      path: bundleLambda({ entry: props.entry, name: props.functionName }),
      type: AssetType.ARCHIVE,
    });
    this.role = new IamRole(this, 'role', {
      name: `${props.functionName}-role`,
      assumeRolePolicy: assumeRolePolicy('lambda.amazonaws.com'),
    });
    // Created here rather than by Lambda on first run, so retention applies and destroy removes it.
    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: `/aws/lambda/${props.functionName}`,
      retentionInDays: props.logRetentionDays ?? 30,
    });
    new IamRolePolicy(this, 'logging', {
      role: this.role.name,
      name: 'write-own-logs',
      policy: policyDocument({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${this.logGroup.arn}:*`] }),
    });
    this.function = new LambdaFunction(this, 'function', {
      functionName: props.functionName,
      description: props.description,
      role: this.role.arn,
      runtime: NODE_RUNTIME,
      architectures: ['arm64'],
      handler: 'index.handler',
      filename: asset.path,
      sourceCodeHash: asset.assetHash,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? 30,
      ...(reservedConcurrency === undefined ? {} : { reservedConcurrentExecutions: reservedConcurrency }),
      environment: { variables: { ...props.environment } },
      dependsOn: [this.logGroup],
    });
  }
}
