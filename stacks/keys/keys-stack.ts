/**
 * The declared keys and their consumers, and the permissions each tenant declares. Its own stack,
 * because its lifecycle differs from the platform's: destroying it revokes its keys and never
 * touches the tables.
 */
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import type { Construct } from 'constructs';
import { tenantSchema } from '../../lambda/keys/key-input';
import type { DeployTarget } from '../deploy-target';
import { KeyrollStack } from '../keyroll-stack';
import type { PlatformStack } from '../platform/platform-stack';
import { keySecretArnPattern } from '../platform/provisioner-grants';
import { ApiKey } from './api-key';
import { ConsumerGrants } from './consumer-grants';
import type { ApiKeyProps } from './api-key-props';
import { DeclaredPermissionsItem } from './declared-permissions-item';
import type { KeyPlatform } from './key-platform';
import { assertValidKeySet } from './key-set-rules';
import { apiKeyConstructId } from './resource-names';

export interface KeysStackProps {
  readonly target: DeployTarget;
  readonly platform: PlatformStack;
  readonly keys: readonly ApiKeyProps[];
  /**
   * By tenant, the permissions it declares for its own services (keys.yaml's top-level
   * `permissions:`). Each list is written into the keys table for the key service, and the
   * tenant's keys may hold only these and keyroll's own.
   * @default {} (no tenant declares any)
   */
  readonly declaredPermissions?: Readonly<Record<string, readonly string[]>>;
}

/** Rotating keys a stack grants the rotation function one by one; more share one statement. */
export const PER_SECRET_PERMISSIONS = 40;

export class KeysStack extends KeyrollStack {
  readonly apiKeys: ApiKey[];
  /** By tenant. */
  readonly declaredPermissions: Record<string, DeclaredPermissionsItem> = {};

  constructor(scope: Construct, id: string, props: KeysStackProps) {
    super(scope, id, props.target);
    assertValidKeySet(props.keys);
    for (const [tenant, permissions] of Object.entries(props.declaredPermissions ?? {})) {
      const parsed = tenantSchema.safeParse(tenant);
      if (!parsed.success) throw new Error(`declaredPermissions names tenant "${tenant}", which ${parsed.error.issues[0].message}: use the tenant's id.`);
      this.declaredPermissions[tenant] = new DeclaredPermissionsItem(this, `permissions-${tenant}`, {
        keysTableName: props.platform.tables.keys.name,
        tenant,
        permissions,
      });
    }
    const platform: KeyPlatform = {
      keysTableName: props.platform.tables.keys.name,
      provisionerFunctionName: props.platform.provisioner.function.functionName,
      rotationFunctionName: props.platform.rotation.lambda.function.functionName,
      rotationFunctionArn: props.platform.rotation.lambda.function.arn,
      telemetryUrl: props.platform.telemetryUrl,
      region: props.target.region,
      accountId: new DataAwsCallerIdentity(this, 'account').accountId,
    };
    // One statement per secret lets Secrets Manager invoke the rotation for exactly that secret, but
    // Lambda's resource policy holds 20 KB (about 60 such statements). Past PER_SECRET_PERMISSIONS
    // rotating keys, one statement covers keyroll's secrets of this account (keyroll/*).
    const rotating = props.keys.filter((key) => key.rotation).length;
    const shared = rotating > PER_SECRET_PERMISSIONS ? this.sharedRotationPermission(props.platform, platform.accountId, props.target.region) : undefined;
    this.apiKeys = props.keys.map((key) => {
      const declared = this.declaredPermissions[key.tenant];
      return new ApiKey(this, apiKeyConstructId(key.tenant, key.name), {
        ...key,
        platform,
        declaredPermissions: props.declaredPermissions?.[key.tenant],
        // A key's permissions are checked against its tenant's declaration when it is issued, so the
        // declaration is written first (and, on destroy, removed last).
        issueAfter: declared ? [declared.item] : [],
        // The emulator has no recovery: a redeploy must be able to reuse the name at once.
        secretRecoveryDays: props.target.local ? 0 : 7,
        consumerCacheSeconds: props.target.consumerCacheSeconds,
        rotationPermissionPerSecret: shared === undefined,
        rotationWindow: props.target.rotationWindow,
        rotationAfter: shared ? [shared] : [],
      });
    });
    // Function variables and SSM parameters are granted by name: the roles reach exactly those (consumer-grants.ts).
    const consumerGrants = new ConsumerGrants(this, 'consumer-grants', {
      keys: props.keys,
      region: props.target.region,
      accountId: platform.accountId,
      provisionerRoleName: props.platform.provisioner.role.name,
      rotationRoleName: props.platform.rotation.lambda.role.name,
      policyName: `keyroll-consumers-${id}`,
    });
    for (const key of this.apiKeys) {
      consumerGrants.precede(key.invocation);
      if (key.rotation) consumerGrants.precede(key.rotation.rotation);
    }
  }

  private sharedRotationPermission(platform: PlatformStack, accountId: string, region: string): LambdaPermission {
    return new LambdaPermission(this, 'rotation-invoke', {
      statementId: 'secretsmanager-keyroll-secrets',
      action: 'lambda:InvokeFunction',
      functionName: platform.rotation.lambda.function.functionName,
      principal: 'secretsmanager.amazonaws.com',
      sourceAccount: accountId,
      sourceArn: keySecretArnPattern(region, accountId),
    });
  }
}
