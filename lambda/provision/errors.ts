/**
 * Errors of the provisioner, with stable codes. Terraform prints the message of a failed invocation
 * to whoever runs the apply, so each message says what to do; none may ever carry a key.
 */
import { isKeyrollError } from '../errors';
import { redactKeys } from '../keys/key-format';

export type ProvisionErrorCode =
  /** The invocation's event is not what `aws_lambda_invocation` sends with the declared input. */
  | 'INVALID_EVENT'
  /** No spec item where the input says the key is declared. */
  | 'SPEC_NOT_FOUND'
  /** The spec item exists but does not parse as a KeySpec. */
  | 'INVALID_SPEC'
  /** An AWS request the provisioner depends on failed. */
  | 'AWS_REQUEST_FAILED'
  /** The key manager refused a change (validation, conflict, revoked). */
  | 'KEY_CHANGE_FAILED'
  /** An inline consumer's IoT rule exists but was not created by the provisioner for this key. */
  | 'RULE_NOT_OWNED'
  /** Another apply of the same declared key changed its provisioning record while this run was under way. */
  | 'CONCURRENT_APPLY'
  /** Anything else; wrapped so its message is redacted. */
  | 'INTERNAL_ERROR';

export class ProvisionError extends Error {
  constructor(
    readonly code: ProvisionErrorCode,
    message: string,
  ) {
    // Defence in depth: whatever a message was built from, no key leaves through it.
    super(redactKeys(message));
    this.name = 'ProvisionError';
  }
}

export function isProvisionError(error: unknown): error is ProvisionError {
  return error instanceof ProvisionError;
}

const INPUT_FIX = 'Fix the `input` of the aws_lambda_invocation that calls the provisioner.';

export const provisionErrors = {
  invalidEvent: (problems: string, fix: string = INPUT_FIX) =>
    new ProvisionError('INVALID_EVENT', `Malformed event: ${problems} ${fix}`),
  specNotFound: (tenant: string, name: string, tableName: string) =>
    new ProvisionError(
      'SPEC_NOT_FOUND',
      `No key spec for key \`${name}\` of tenant \`${tenant}\` in table \`${tableName}\`. Declare it with an aws_dynamodb_table_item ` +
        'in that table and make the aws_lambda_invocation depend on it, or check that KEYROLL_KEYS_TABLE names the table the stack writes specs to.',
    ),
  invalidSpec: (tenant: string, name: string, problems: string) =>
    new ProvisionError(
      'INVALID_SPEC',
      `The key spec for key \`${name}\` of tenant \`${tenant}\` is invalid: ${problems} Fix the aws_dynamodb_table_item that declares it.`,
    ),
  specMismatch: (tenant: string, name: string, found: { tenant: unknown; name: unknown }) =>
    new ProvisionError(
      'INVALID_SPEC',
      `The spec item stored under key \`${name}\` of tenant \`${tenant}\` declares key \`${String(found.name)}\` of tenant \`${String(found.tenant)}\`. ` +
        'Make the item\'s pk/sk match its `tenant` and `name` attributes (see specItemKey).',
    ),
  awsRequestFailed: (what: string, error: unknown, fix: string) =>
    new ProvisionError('AWS_REQUEST_FAILED', `${what} failed: ${describeError(error)}. ${fix}`),
  /** `tag`: the owner tag's name, the value that names this key, and the value the rule has, if any. */
  ruleNotOwned: (ruleName: string, tag: { name: string; expected: string; found: string | undefined }) =>
    new ProvisionError(
      'RULE_NOT_OWNED',
      `IoT topic rule ${ruleName} exists but was not created by keyroll for key \`${tag.expected}\` ` +
        `(its ${tag.name} tag is ${tag.found === undefined ? 'absent' : `\`${tag.found}\``}), so the provisioner will not write a key into it. ` +
        `Give the consumer a rule name of its own, or hand this rule over deliberately by tagging it ${tag.name}=${tag.expected} ` +
        `(aws iot tag-resource --resource-arn <rule ARN> --tags Key=${tag.name},Value=${tag.expected}).`,
    ),
  concurrentApply: (tenant: string, name: string) =>
    new ProvisionError(
      'CONCURRENT_APPLY',
      `Another apply of key \`${name}\` of tenant \`${tenant}\` is running (pipelines deploying the same key at once), and it changed ` +
        'what was provisioned for the key while this run was under way. This run stopped and revoked the key it issued, if any, unless the other apply took that key over. ' +
        'Re-run this apply after the other one finishes; do not run two applies of one key at the same time.',
    ),
  keyChangeFailed: (what: string, error: unknown) =>
    new ProvisionError(
      'KEY_CHANGE_FAILED',
      `${what} failed: ${describeError(error)}${isKeyrollError(error) ? ` (${error.code})` : ''}. Fix the spec if the message names a field; otherwise retry.`,
    ),
};

/**
 * Wraps a call to an AWS service so its failure becomes a ProvisionError that names what was being
 * done and how to fix it. SDK errors can echo request parameters, and some requests carry a key,
 * so the original error is never rethrown or attached, only its redacted name and message.
 */
export async function awsCall<T>(what: string, fix: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw provisionErrors.awsRequestFailed(what, error, fix);
  }
}

/** Errors leaving the handler: provisioner errors as they are, anything else rebuilt from a redacted message. */
export function toSafeError(error: unknown): ProvisionError {
  if (isProvisionError(error)) return error;
  return new ProvisionError('INTERNAL_ERROR', `${describeError(error)}. Re-run the apply; if it fails again, report it with this message.`);
}

/**
 * The name of an AWS SDK error (`ResourceNotFoundException`, …). Matched by name, not class, so a
 * client from another copy of the SDK is handled alike.
 */
export function awsErrorName(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

/** `Name: message`, redacted, for an error of any shape. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const name = error.name && error.name !== 'Error' ? `${error.name}: ` : '';
    return redactKeys(`${name}${error.message}`).replace(/\.$/, '');
  }
  return redactKeys(String(error));
}
