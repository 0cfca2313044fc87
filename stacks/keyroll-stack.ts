/** A TerraformStack with keyroll's AWS provider and state backend, so every stack targets alike. */
import * as path from 'node:path';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { LocalBackend, S3Backend, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import type { DeployTarget } from './deploy-target';

/** The first Terraform with S3 native state locking (`use_lockfile`). */
export const S3_LOCKFILE_TERRAFORM = '>= 1.10';

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
      const backend = new S3Backend(this, { bucket: target.stateBucket, key: `keyroll/${id}.tfstate`, region: target.region, encrypt: true });
      // Pipelines deploy concurrently: S3's own lock file (a conditional write beside the state)
      // makes a second apply wait its turn instead of overwriting the first one's state. cdktf
      // 0.21's S3Backend has no prop for it yet, hence the override; Terraform < 1.10 does not know
      // the setting, so it is required, and an older Terraform says so before touching state.
      // See https://developer.hashicorp.com/terraform/language/backend/s3#state-locking
      backend.addOverride('use_lockfile', true);
      this.addOverride('terraform.required_version', S3_LOCKFILE_TERRAFORM);
    } else {
      new LocalBackend(this, { path: path.join(target.stateDir, `${id}.tfstate`) });
    }
  }
}
