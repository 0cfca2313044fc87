/** Small helpers for inline IAM policy documents, so each grant reads as what it allows. */

export interface Grant {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

export function policyDocument(...grants: Grant[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: grants.map((grant) => ({ Effect: 'Allow', Action: grant.actions, Resource: grant.resources })),
  });
}
