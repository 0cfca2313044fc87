/**
 * The declared keys and their consumers. Its own stack, because its lifecycle differs from the
 * platform's: destroying it revokes its keys and never touches the tables.
 */
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import type { Construct } from 'constructs';
import type { DeployTarget } from '../deploy-target';
import { KeyrollStack } from '../keyroll-stack';
import type { PlatformStack } from '../platform/platform-stack';
import { ApiKey } from './api-key';
import { type ApiKeyProps, assertUniqueKeys } from './api-key-props';
import type { KeyPlatform } from './key-platform';
import { apiKeyConstructId } from './resource-names';

export interface KeysStackProps {
  readonly target: DeployTarget;
  readonly platform: PlatformStack;
  readonly keys: readonly ApiKeyProps[];
}

export class KeysStack extends KeyrollStack {
  readonly apiKeys: ApiKey[];

  constructor(scope: Construct, id: string, props: KeysStackProps) {
    super(scope, id, props.target);
    assertUniqueKeys(props.keys);
    assertUniqueRules(props.keys);
    const platform: KeyPlatform = {
      keysTableName: props.platform.tables.keys.name,
      provisionerFunctionName: props.platform.provisioner.function.functionName,
      telemetryUrl: props.platform.telemetryUrl,
      region: props.target.region,
      accountId: new DataAwsCallerIdentity(this, 'account').accountId,
    };
    this.apiKeys = props.keys.map(
      (key) =>
        new ApiKey(this, apiKeyConstructId(key.tenant, key.name), {
          ...key,
          platform,
          // The emulator has no recovery: a redeploy must be able to reuse the name at once.
          secretRecoveryDays: props.target.local ? 0 : 7,
        }),
    );
  }
}

function assertUniqueRules(keys: readonly ApiKeyProps[]): void {
  const owners = new Map<string, string>();
  for (const key of keys) {
    for (const consumer of key.consumers ?? []) {
      const owner = owners.get(consumer.ruleName);
      if (owner) {
        throw new Error(`IoT rule ${consumer.ruleName} is a consumer of both ${owner} and ${key.tenant}/${key.name}: a rule can carry one key. Give each its own rule.`);
      }
      owners.set(consumer.ruleName, `${key.tenant}/${key.name}`);
    }
  }
}
