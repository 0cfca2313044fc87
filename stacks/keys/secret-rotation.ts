/**
 * Secrets Manager's own rotation for one declared key: its schedule, and the permission for Secrets
 * Manager to invoke keyroll-rotation for this secret only. Created with `rotate_immediately = false`,
 * so a deploy tests the rotation set-up (SM runs testSecret on the current credential) and never
 * rotates every key at once; the first rotation comes `everyDays` later, or with `keyroll rotate`.
 */
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { SecretsmanagerSecretRotation } from '@cdktf/provider-aws/lib/secretsmanager-secret-rotation';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';

export interface SecretRotationProps {
  readonly secretArn: string;
  readonly rotationFunctionName: string;
  readonly rotationFunctionArn: string;
  readonly everyDays: number;
  /**
   * The window in which SM starts the rotation each time it is due, e.g. `4h`, so many keys due on
   * one day spread over it (see the README's plan for 100,000 keys). @default SM's default (24h)
   */
  readonly window?: string;
  /**
   * The statement id of this secret's own permission to invoke the rotation function (unique per
   * function). Absent when the keys stack grants all its secrets at once (see keys-stack.ts).
   * @default no permission of its own
   */
  readonly statementId?: string;
  /** The key must hold a credential before SM tests the rotation. */
  readonly dependsOn: readonly ITerraformDependable[];
}

export class SecretRotation extends Construct {
  readonly rotation: SecretsmanagerSecretRotation;
  readonly permission?: LambdaPermission;

  constructor(scope: Construct, id: string, props: SecretRotationProps) {
    super(scope, id);
    if (props.statementId) {
      this.permission = new LambdaPermission(this, 'invoke', {
        statementId: props.statementId,
        action: 'lambda:InvokeFunction',
        functionName: props.rotationFunctionName,
        principal: 'secretsmanager.amazonaws.com',
        sourceArn: props.secretArn,
      });
    }
    this.rotation = new SecretsmanagerSecretRotation(this, 'rotation', {
      secretId: props.secretArn,
      rotationLambdaArn: props.rotationFunctionArn,
      rotationRules: { automaticallyAfterDays: props.everyDays, ...(props.window ? { duration: props.window } : {}) },
      rotateImmediately: false,
      dependsOn: [...(this.permission ? [this.permission] : []), ...props.dependsOn],
    });
  }
}
