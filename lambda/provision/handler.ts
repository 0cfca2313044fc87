/**
 * The provisioner as a Lambda function, invoked by Terraform's `aws_lambda_invocation` with
 * `lifecycle_scope = "CRUD"`. Clients are made on first use and kept for the warm instance.
 */
import type { ProvisionResult } from './key-spec';
import { createProvisioner, type Provisioner } from './provisioner';

let provisioner: Provisioner | undefined;

export async function handler(event: unknown): Promise<ProvisionResult> {
  provisioner ??= createProvisioner();
  return provisioner.handle(event);
}
