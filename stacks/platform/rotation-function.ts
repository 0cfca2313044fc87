/**
 * The rotation Lambda `keyroll-rotation` and its sweep schedule. Secrets Manager invokes it for the
 * four rotation steps of each key that declares `rotation` (see stacks/keys/secret-rotation.ts);
 * EventBridge Scheduler invokes it with `{"keyroll": "sweep"}` to retire drained credentials and
 * repair stuck rotations.
 */
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule';
import { Construct } from 'constructs';
import { assumeRolePolicy, policyDocument } from './iam-policy';
import { NodeFunction } from './node-function';
import { rotationGrants, type RotationGrantsProps } from './rotation-grants';

export const ROTATION_FUNCTION_NAME = 'keyroll-rotation';
export const SWEEP_SCHEDULE_NAME = 'keyroll-rotation-sweep';
/** The sweep's event, as the rotation Lambda parses it (lambda/rotate/rotation-event.ts). */
export const SWEEP_EVENT = JSON.stringify({ keyroll: 'sweep' });

export interface RotationFunctionProps extends RotationGrantsProps {
  /** Tables and the like, as the other functions get them. */
  readonly environment: Record<string, string>;
  /**
   * Seconds a consumer may keep serving a credential from its cache (IoT's get_secret: 900). The
   * sweep waits this long after a cutover before the old credential can go.
   */
  readonly consumerCacheSeconds: number;
  /** The key service's base URL, where testSecret verifies new credentials. @default verified against the store only */
  readonly serviceUrl?: string;
  /** @default 'rate(5 minutes)' */
  readonly sweepSchedule?: string;
  /** How late a use may reach lastUsedAt, in seconds. @default the Lambda's own (30) */
  readonly usageLagSeconds?: number;
}

export class RotationFunction extends Construct {
  readonly lambda: NodeFunction;
  readonly sweep: SchedulerSchedule;

  constructor(scope: Construct, id: string, props: RotationFunctionProps) {
    super(scope, id);
    this.lambda = new NodeFunction(this, 'function', {
      functionName: ROTATION_FUNCTION_NAME,
      entry: 'lambda/rotate/handler.ts',
      description: 'keyroll rotation: Secrets Manager rotation steps for declared keys, and the sweep that retires old credentials',
      environment: {
        ...props.environment,
        KEYROLL_CONSUMER_CACHE_SECONDS: String(props.consumerCacheSeconds),
        ...(props.serviceUrl ? { KEYROLL_SERVICE_URL: props.serviceUrl } : {}),
        ...(props.usageLagSeconds !== undefined ? { KEYROLL_USAGE_LAG_SECONDS: String(props.usageLagSeconds) } : {}),
        POWERTOOLS_SERVICE_NAME: 'keyroll-rotation',
      },
      timeout: 60,
    });
    new IamRolePolicy(this, 'grants', { role: this.lambda.role.name, name: 'rotate-declared-keys', policy: policyDocument(...rotationGrants(props)) });

    const scheduler = new IamRole(this, 'scheduler-role', {
      name: `${ROTATION_FUNCTION_NAME}-scheduler`,
      assumeRolePolicy: assumeRolePolicy('scheduler.amazonaws.com', { StringEquals: { 'aws:SourceAccount': props.accountId } }),
    });
    new IamRolePolicy(this, 'scheduler-invoke', {
      role: scheduler.name,
      name: 'invoke-rotation-sweep',
      policy: policyDocument({ actions: ['lambda:InvokeFunction'], resources: [this.lambda.function.arn] }),
    });
    this.sweep = new SchedulerSchedule(this, 'sweep', {
      name: SWEEP_SCHEDULE_NAME,
      description: 'keyroll: retire drained credentials and repair stuck rotations',
      scheduleExpression: props.sweepSchedule ?? 'rate(5 minutes)',
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: this.lambda.function.arn,
        roleArn: scheduler.arn,
        input: SWEEP_EVENT,
        // The next sweep comes within minutes; a retried one would only race it.
        retryPolicy: { maximumRetryAttempts: 0 },
      },
    });
  }
}
