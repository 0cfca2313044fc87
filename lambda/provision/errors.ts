/**
 * Errors of the provisioner, with stable codes. Terraform prints the message of a failed invocation
 * to whoever runs the apply, so each message says what to do; none may ever carry a key. The
 * hand-out's errors (lambda/handout/errors.ts) leave the provisioner as ProvisionErrors with their
 * code and message unchanged (see toSafeError).
 */
import { isKeyrollError } from '../errors';
import { describeError, type HandoutErrorCode, isHandoutError } from '../handout/errors';
import { redactKeys } from '../keys/key-format';

export type ProvisionErrorCode =
  /** The invocation's event is not what `aws_lambda_invocation` sends with the declared input. */
  | 'INVALID_EVENT'
  /** No spec item where the input says the key is declared. */
  | 'SPEC_NOT_FOUND'
  /** The spec item exists but does not parse as a KeySpec. */
  | 'INVALID_SPEC'
  /** The key manager refused a change (validation, conflict, revoked). */
  | 'KEY_CHANGE_FAILED'
  /** A rotation step or another deploy held the key's lease for longer than an apply waits. */
  | 'KEY_BUSY'
  /** A rotation of the key is under way, and the apply would have to issue, replace or regenerate the key. */
  | 'ROTATION_IN_PROGRESS'
  /** A setting in the provisioner's environment is unusable. */
  | 'INVALID_SETTING'
  /** AWS_REQUEST_FAILED, RULE_NOT_OWNED, CONCURRENT_APPLY, SECRET_VERSION_CONFLICT: from the hand-out. */
  | HandoutErrorCode
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
  keyBusy: (tenant: string, name: string, waitedMs: number, holder: string, untilMs: number) =>
    new ProvisionError(
      'KEY_BUSY',
      `Key \`${name}\` of tenant \`${tenant}\` is busy: a rotation or another deploy of the key is under way (${holder} holds its lease until ` +
        `${new Date(untilMs).toISOString()}), and this run waited ${Math.round(waitedMs / 1000)} s for it without changing anything. ` +
        'Re-run the apply once it has finished (keyroll rotation status shows a rotation); a lease left by a crashed process expires on its own at that time.',
    ),
  rotationInProgress: (tenant: string, name: string, phase: string, versionId: string | undefined, needs: string) =>
    new ProvisionError(
      'ROTATION_IN_PROGRESS',
      `A rotation of key \`${name}\` of tenant \`${tenant}\` is under way (phase ${phase}${versionId ? `, secret version ${versionId}` : ''}), and this apply would ${needs}, ` +
        'which would undo the rotation; it changed nothing. Re-run the apply once the rotation has finished (keyroll rotation status --tenant ' +
        `${tenant}); a rotation that failed is repaired by the sweep (keyroll rotation sweep), after which the apply goes through.`,
    ),
  invalidSetting: (name: string, raw: string, rule: string) =>
    new ProvisionError('INVALID_SETTING', `${name} is ${JSON.stringify(raw)}: ${rule} Fix the provisioner function's environment.`),
  keyChangeFailed: (what: string, error: unknown) =>
    new ProvisionError(
      'KEY_CHANGE_FAILED',
      `${what} failed: ${describeError(error)}${isKeyrollError(error) ? ` (${error.code})` : ''}. Fix the spec if the message names a field; otherwise retry.`,
    ),
};

/**
 * Errors leaving the handler: provisioner errors as they are, the hand-out's with their code and
 * message, anything else rebuilt from a redacted message.
 */
export function toSafeError(error: unknown): ProvisionError {
  if (isProvisionError(error)) return error;
  if (isHandoutError(error)) return new ProvisionError(error.code, error.message);
  return new ProvisionError('INTERNAL_ERROR', `${describeError(error)}. Re-run the apply; if it fails again, report it with this message.`);
}

/** The error as it leaves the handler, with `note` (what undoing the run left to do) appended to its message. */
export function withNote(error: unknown, note: string): ProvisionError {
  const safe = toSafeError(error);
  return new ProvisionError(safe.code, `${safe.message} ${note}`);
}
