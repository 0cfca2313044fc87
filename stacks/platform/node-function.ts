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
}

export class NodeFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: IamRole;
  readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    super(scope, id);
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
      runtime: 'nodejs20.x',
      architectures: ['arm64'],
      handler: 'index.handler',
      filename: asset.path,
      sourceCodeHash: asset.assetHash,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? 30,
      environment: { variables: { ...props.environment } },
      dependsOn: [this.logGroup],
    });
  }
}
