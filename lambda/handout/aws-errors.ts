/** AWS SDK failures as hand-out errors: each names what was being done and how to fix it, and carries no credential. */
import { handoutErrors } from './errors';

/**
 * Wraps a call to an AWS service so its failure becomes an AWS_REQUEST_FAILED error that names what
 * was being done and how to fix it. SDK errors can echo request parameters, and some requests carry
 * a credential, so the original error is never rethrown or attached, only its redacted name and message.
 */
export async function awsCall<T>(what: string, fix: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw handoutErrors.awsRequestFailed(what, error, fix);
  }
}

/**
 * The name of an AWS SDK error (`ResourceNotFoundException`, …). Matched by name, not class, so a
 * client from another copy of the SDK is handled alike.
 */
export function awsErrorName(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}
