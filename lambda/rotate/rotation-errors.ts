/**
 * Errors a rotation step or the sweep ends with. Secrets Manager records the message of a failed
 * step (CloudTrail's RotationFailed) and status shows it, so each says what to do; none may carry
 * a credential (redacted on the way in, whatever it was built from).
 */
import { redactKeys } from '../keys/key-format';
import type { RotationStep } from './rotation-plan';

export type RotationErrorCode =
  /** The secret is not a declared key's (`keyroll/<tenant>/<name>` with a spec and a key). */
  | 'NOT_DECLARED'
  /** A step arrived out of order for its version; SM retries the rotation from createSecret. */
  | 'STEP_OUT_OF_ORDER'
  /** A consumer could not be written. */
  | 'CONSUMER_WRITE_FAILED'
  /** A declared inline rule exists but is not tagged for the key: keyroll will not write into it. */
  | 'RULE_NOT_OWNED'
  /** A declared Lambda function or SSM parameter belongs to another key or to no keyroll key. */
  | 'CONSUMER_NOT_OWNED'
  /** A consumer read back does not hold the new credential. */
  | 'CONSUMER_MISMATCH'
  /** The key service refused the new credential. */
  | 'VERIFICATION_FAILED'
  /** The rotation made no progress for the stuck limit; the sweep put it back. */
  | 'STUCK'
  /** Another rotation of the key replaced this one before it finished. */
  | 'SUPERSEDED'
  /** Anything else: an AWS call failed. */
  | 'AWS_REQUEST_FAILED';

export class RotationError extends Error {
  constructor(
    readonly code: RotationErrorCode,
    message: string,
    readonly details: { readonly step?: RotationStep | 'sweep'; readonly consumer?: string; readonly fix?: string } = {},
  ) {
    super(redactKeys(details.fix ? `${message} ${details.fix}` : message));
    this.name = 'RotationError';
  }
}

export function isRotationError(error: unknown): error is RotationError {
  return error instanceof RotationError;
}

/** A message safe to log and store: any credential in it redacted. */
export function safeMessage(error: unknown): string {
  const text = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
  return redactKeys(text);
}
