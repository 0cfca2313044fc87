/**
 * Every error keyroll returns, with a stable code a client can switch on, the HTTP status it maps
 * to, and a message that tells a human how to fix it. Factories, in the manner of cdktf's
 * `lib/errors.ts`, keep the wording in one place.
 */

export const ERROR_STATUS = {
  MISSING_API_KEY: 401,
  INVALID_API_KEY: 401,
  KEY_EXPIRED: 401,
  KEY_DISABLED: 401,
  ENVIRONMENT_MISMATCH: 401,
  INSUFFICIENT_PERMISSIONS: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  KEY_REVOKED: 409,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMIT_EXCEEDED: 429,
  VALIDATION_ERROR: 400,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
/** The codes that mean "this key may not be used", shared by request auth and `/v1/verify`. */
export type VerificationCode = Extract<
  ErrorCode,
  'MISSING_API_KEY' | 'INVALID_API_KEY' | 'KEY_EXPIRED' | 'KEY_DISABLED' | 'ENVIRONMENT_MISMATCH' | 'INSUFFICIENT_PERMISSIONS' | 'RATE_LIMIT_EXCEEDED'
>;

export class KeyrollError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'KeyrollError';
    this.status = ERROR_STATUS[code];
  }
}

export function isKeyrollError(error: unknown): error is KeyrollError {
  return error instanceof KeyrollError;
}

const HEADER_HINT = 'Send it in the `x-api-key` header or as `Authorization: Bearer <key>`.';

/** Messages for the verification codes; they never echo the presented key. */
export const VERIFICATION_MESSAGES: Record<VerificationCode, string> = {
  MISSING_API_KEY: `No API key was sent. ${HEADER_HINT}`,
  INVALID_API_KEY:
    'The API key is not valid: it is malformed, unknown, or has been revoked or regenerated. Check that it was copied whole, or ask a key manager for a new one.',
  KEY_EXPIRED: 'The API key has expired. Ask a key manager to extend `expiresAt` or to issue a new key.',
  KEY_DISABLED: 'The API key is disabled. Ask a key manager to re-enable it (PATCH `enabled: true`).',
  ENVIRONMENT_MISMATCH:
    "The API key belongs to another environment than this service's. Use a key issued for this environment (kr_live_ = production, kr_test_ = staging, kr_dev_ = development).",
  INSUFFICIENT_PERMISSIONS: 'The API key lacks a permission this request needs.',
  RATE_LIMIT_EXCEEDED: "The API key's rate limit is exhausted. Retry after the number of seconds in `Retry-After`.",
};

export const errors = {
  verification: (code: VerificationCode, detail?: string) =>
    new KeyrollError(code, detail ? `${VERIFICATION_MESSAGES[code]} ${detail}` : VERIFICATION_MESSAGES[code]),
  insufficientPermissions: (permission: string) =>
    new KeyrollError(
      'INSUFFICIENT_PERMISSIONS',
      `The API key lacks the \`${permission}\` permission. Ask a key manager to add it to the key's permissions.`,
    ),
  otherTenant: (tenant: string) =>
    new KeyrollError(
      'FORBIDDEN',
      `The API key belongs to another tenant than \`${tenant}\`. Use a key issued for tenant \`${tenant}\`.`,
    ),
  otherCustomer: (what: string) =>
    new KeyrollError(
      'FORBIDDEN',
      `The API key is scoped to a customer and ${what} belongs to another customer. Use a key of that customer, or a key without a customer scope.`,
    ),
  otherEnvironment: (requested: string, own: string) =>
    new KeyrollError(
      'FORBIDDEN',
      `The API key is a ${own} key and may only issue ${own} keys, not ${requested}. Create ${requested} keys with a ${requested} key manager on the ${requested} service (\`keyroll bootstrap --environment ${requested}\` makes the first one).`,
    ),
  keyNotFound: (tenant: string, id: string) =>
    new KeyrollError(
      'NOT_FOUND',
      `No API key \`${id}\` exists in tenant \`${tenant}\`. List the tenant's keys with GET /v1/tenants/${tenant}/api-keys.`,
    ),
  routeNotFound: (method: string, path: string) =>
    new KeyrollError('NOT_FOUND', `No route for ${method} ${path}. See the README for the API's routes.`),
  keyRevoked: (id: string) =>
    new KeyrollError(
      'KEY_REVOKED',
      `API key \`${id}\` is revoked; revocation is permanent. Create a new key instead.`,
    ),
  conflict: (id: string) =>
    new KeyrollError(
      'CONFLICT',
      `API key \`${id}\` was changed by another request at the same moment. Fetch it again and retry.`,
    ),
  validation: (field: string, problem: string, fix: string) =>
    new KeyrollError('VALIDATION_ERROR', `\`${field}\` ${problem}. ${fix}`),
  payloadTooLarge: (maxBytes: number, fix = 'Send a smaller body.') =>
    new KeyrollError('PAYLOAD_TOO_LARGE', `The request body exceeds ${maxBytes} bytes. ${fix}`),
  serviceUnavailable: () =>
    new KeyrollError('SERVICE_UNAVAILABLE', 'The key store is unavailable right now. Retry with backoff.'),
  internal: () =>
    new KeyrollError('INTERNAL_ERROR', 'Something went wrong on our side. Retry; if it persists, report it with the time of the request.'),
};
