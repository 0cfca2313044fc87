/** A TerraformStack with keyroll's AWS provider and state backend, so every stack targets alike. */
import * as path from 'node:path';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { LocalBackend, S3Backend, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import type { DeployTarget } from './deploy-target';

export class KeyrollStack extends TerraformStack {
  constructor(
    scope: Construct,
    id: string,
    readonly target: DeployTarget,
  ) {
    super(scope, id);
    new AwsProvider(this, 'aws', {
      region: target.region,
      defaultTags: [{ tags: { 'keyroll:stack': id } }],
      // The provider itself honours AWS_ENDPOINT_URL for every service; against the emulator it
      // must not look for real credentials, an account id or instance metadata.
      ...(target.local
        ? {
            skipCredentialsValidation: true,
            skipRequestingAccountId: true,
            skipMetadataApiCheck: 'true',
            s3UsePathStyle: true,
          }
        : {}),
    });
    if (target.stateBucket) {
      new S3Backend(this, { bucket: target.stateBucket, key: `keyroll/${id}.tfstate`, region: target.region, encrypt: true });
    } else {
      new LocalBackend(this, { path: path.join(target.stateDir, `${id}.tfstate`) });
    }
  }
}
