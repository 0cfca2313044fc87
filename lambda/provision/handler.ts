/**
 * The provisioner as a Lambda function, invoked by Terraform's `aws_lambda_invocation` with
 * `lifecycle_scope = "CRUD"`. Clients are made on first use and kept for the warm instance.
 */
import type { ProvisionResult } from './key-spec';
import { createProvisioner, type Provisioner } from './provisioner';

let provisioner: Provisioner | undefined;

/** The part of Lambda's context the provisioner reads: the request id names its hold on a key's lease. */
interface InvocationContext {
  readonly awsRequestId?: string;
}

export async function handler(event: unknown, context?: InvocationContext): Promise<ProvisionResult> {
  provisioner ??= createProvisioner();
  return provisioner.handle(event, context?.awsRequestId);
}
