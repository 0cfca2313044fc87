/**
 * The declared keys and their consumers, and the permissions each tenant declares. Its own stack,
 * because its lifecycle differs from the platform's: destroying it revokes its keys and never
 * touches the tables.
 */
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import type { Construct } from 'constructs';
import { tenantSchema } from '../../lambda/keys/key-input';
import type { DeployTarget } from '../deploy-target';
import { KeyrollStack } from '../keyroll-stack';
import type { PlatformStack } from '../platform/platform-stack';
import { ApiKey } from './api-key';
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
      telemetryUrl: props.platform.telemetryUrl,
      region: props.target.region,
      accountId: new DataAwsCallerIdentity(this, 'account').accountId,
    };
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
      });
    });
  }
}
