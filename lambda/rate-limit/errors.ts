/** Errors of the rate limiter, each saying how to fix the call that raised it. */

export function invalidRateLimiterOption(name: string, value: unknown, expected: string): RangeError {
  return new RangeError(`LeasedRateLimiter: option \`${name}\` must be ${expected}, got ${String(value)}.`);
}

export function invalidRateLimit(keyId: string, limit: number, windowSeconds: number): RangeError {
  return new RangeError(
    `Rate limit of key ${keyId} is invalid (limit ${limit}, windowSeconds ${windowSeconds}): the limit must be a whole number ≥ 0 and the window a positive number of seconds. Fix the key's rateLimit with PATCH.`,
  );
}

export function rateLimiterClosed(): Error {
  return new Error('LeasedRateLimiter is closed: create a new limiter instead of consuming after close().');
}
