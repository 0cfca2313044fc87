/**
 * Errors of the hand-out, with stable codes. Whoever calls the hand-out (the provisioner, rotation)
 * shows the message to a human, so each says what to do; none may ever carry a credential.
 */
import { redactKeys } from '../keys/key-format';

export type HandoutErrorCode =
  /** An AWS request the hand-out depends on failed. */
  | 'AWS_REQUEST_FAILED'
  /** An inline consumer's IoT rule exists but was not created by the provisioner for this key. */
  | 'RULE_NOT_OWNED'
  /** Another apply of the same declared key changed its provisioning record while this run was under way. */
  | 'CONCURRENT_APPLY'
  /** A version of the secret already holds a different value under the token a write asked for. */
  | 'SECRET_VERSION_CONFLICT'
  /** A consumer (an SSM parameter, a function's variable) exists but is not this key's to write or remove: see consumers/consumer-errors.ts. */
  | 'CONSUMER_NOT_OWNED'
  /** A consumer keyroll cannot create (a Lambda function) does not exist. */
  | 'CONSUMER_NOT_FOUND'
  /** A consumer kept changing, or stayed mid-update, for longer than a write waits: retry later. */
  | 'CONSUMER_BUSY'
  /** keyroll may not read what a consumer holds (a function's variables encrypted with a KMS key it cannot use). */
  | 'CONSUMER_UNREADABLE';

export class HandoutError extends Error {
  constructor(
    readonly code: HandoutErrorCode,
    message: string,
  ) {
    // Defence in depth: whatever a message was built from, no credential leaves through it.
    super(redactKeys(message));
    this.name = 'HandoutError';
  }
}

export function isHandoutError(error: unknown): error is HandoutError {
  return error instanceof HandoutError;
}

export const handoutErrors = {
  awsRequestFailed: (what: string, error: unknown, fix: string) =>
    new HandoutError('AWS_REQUEST_FAILED', `${what} failed: ${describeError(error)}. ${fix}`),
  /** `tag`: the owner tag's name, the value that names this key, and the value the rule has, if any. */
  ruleNotOwned: (ruleName: string, tag: { name: string; expected: string; found: string | undefined }) =>
    new HandoutError(
      'RULE_NOT_OWNED',
      `IoT topic rule ${ruleName} exists but was not created by keyroll for key \`${tag.expected}\` ` +
        `(its ${tag.name} tag is ${tag.found === undefined ? 'absent' : `\`${tag.found}\``}), so the provisioner will not write a key into it. ` +
        `Give the consumer a rule name of its own, or hand this rule over deliberately by tagging it ${tag.name}=${tag.expected} ` +
        `(aws iot tag-resource --resource-arn <rule ARN> --tags Key=${tag.name},Value=${tag.expected}).`,
    ),
  concurrentApply: (tenant: string, name: string) =>
    new HandoutError(
      'CONCURRENT_APPLY',
      `Another apply of key \`${name}\` of tenant \`${tenant}\` is running (pipelines deploying the same key at once), and it changed ` +
        'what was provisioned for the key while this run was under way. This run stopped and revoked the key it issued, if any, unless the other apply took that key over. ' +
        'Re-run this apply after the other one finishes; do not run two applies of one key at the same time.',
    ),
  secretVersionConflict: (secretArn: string, versionId: string) =>
    new HandoutError(
      'SECRET_VERSION_CONFLICT',
      `Version ${versionId} of secret ${secretArn} already holds a different value, and a version's value never changes. ` +
        'Read that version back instead of writing a new credential under the same token, or start a new rotation ' +
        `(aws secretsmanager rotate-secret --secret-id ${secretArn}), which uses a new token.`,
    ),
};

/** `Name: message`, redacted, for an error of any shape. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const name = error.name && error.name !== 'Error' ? `${error.name}: ` : '';
    return redactKeys(`${name}${error.message}`).replace(/\.$/, '');
  }
  return redactKeys(String(error));
}
