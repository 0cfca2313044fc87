/**
 * Every error keyroll returns, with a stable code a client can switch on, the HTTP status it maps
 * to, and a message that tells a human how to fix it. Factories, in the manner of cdktf's
 * `lib/errors.ts`, keep the wording in one place.
 */
import { type Environment, environmentsManagedBy } from './keys/environments';

export const ERROR_STATUS = {
  MISSING_API_KEY: 401,
  INVALID_API_KEY: 401,
  KEY_EXPIRED: 401,
  KEY_DISABLED: 401,
  ENVIRONMENT_MISMATCH: 401,
  INSUFFICIENT_PERMISSIONS: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  KEY_REVOKED: 409,
  CONFLICT: 409,
  GRACE_LIMIT_REACHED: 409,
  ROTATION_IN_PROGRESS: 409,
  ROTATION_NOT_CONFIGURED: 409,
  NO_PENDING_CREDENTIAL: 409,
  CREDENTIAL_CONFLICT: 409,
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
    /** Sent as `Retry-After` when set: the client should retry after this many seconds. */
    readonly retryAfterSeconds?: number,
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

/** "development", "staging and development", …: what a manager of `own` reaches on the ladder. */
function managedEnvironments(own: Environment): string {
  const reached = environmentsManagedBy(own);
  return reached.length > 1 ? `${reached.slice(0, -1).join(', ')} and ${reached.at(-1)}` : reached.join('');
}

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
  otherEnvironment: (requested: Environment, own: Environment) =>
    new KeyrollError(
      'FORBIDDEN',
      `The API key is a ${own} key manager and may only issue ${managedEnvironments(own)} keys, not ${requested}. Environments form a ladder (production > staging > development): create ${requested} keys with a key manager of ${requested} or above (\`keyroll bootstrap --environment ${requested}\` makes a first one).`,
    ),
  keyAboveEnvironment: (id: string, environment: Environment, own: Environment) =>
    new KeyrollError(
      'FORBIDDEN',
      `API key \`${id}\` is a ${environment} key, above the API key's own environment (${own}); a ${own} key manager reaches only ${managedEnvironments(own)} keys. Use a key manager of ${environment}.`,
    ),
  cannotGrant: (permission: string) =>
    new KeyrollError(
      'INSUFFICIENT_PERMISSIONS',
      `The API key lacks the \`${permission}\` permission, so it cannot grant it: a key manager grants only permissions it holds itself (wildcards count). Remove \`${permission}\` from \`permissions\`, or use a key that holds it (the tenant's owner key holds \`*\`).`,
    ),
  strongerKey: (id: string, permission: string) =>
    new KeyrollError(
      'INSUFFICIENT_PERMISSIONS',
      `API key \`${id}\` holds \`${permission}\`, which the API key lacks: a key manager may change, regenerate or revoke only keys whose permissions it holds itself. Use a key that holds \`${permission}\`.`,
    ),
  selfChange: (fields: readonly string[]) =>
    new KeyrollError(
      'INSUFFICIENT_PERMISSIONS',
      `A key may not change its own ${fields.map((f) => `\`${f}\``).join(', ')}: that would lift a limit another manager set on it. Ask another key manager (holding the key's permissions) to change it.`,
    ),
  graceLimit: (id: string, max: number, endsAt: string) =>
    new KeyrollError(
      'GRACE_LIMIT_REACHED',
      `API key \`${id}\` already has ${max} previous credentials in grace, the most a key keeps. Regenerate it with \`graceSeconds: 0\`, or wait until the first grace ends (${endsAt}).`,
    ),
  graceLimitForRotation: (id: string, max: number, endsAt: string) =>
    new KeyrollError(
      'GRACE_LIMIT_REACHED',
      `API key \`${id}\` already has ${max} previous credentials in grace, the most a key keeps, so a rotation has no room to keep the current one working after its cutover. Retry the rotation after the first grace ends (${endsAt}).`,
    ),
  rotationInProgress: (id: string, detail: string) =>
    new KeyrollError(
      'ROTATION_IN_PROGRESS',
      `API key \`${id}\` has a rotation in progress (${detail}). Wait for it to finish (\`keyroll rotation status\` shows it); if it is stuck, the rotation sweep repairs it (\`keyroll rotation sweep\`). Then retry.`,
    ),
  rotationNotConfigured: (id: string, name: string, reason: string) =>
    new KeyrollError(
      'ROTATION_NOT_CONFIGURED',
      `API key \`${id}\` is declared as code (\`${name}\`) and ${reason}. Regenerating it here would break its consumers, so it is rotated instead: declare \`rotation: {everyDays, graceMinutes}\` for \`${name}\` in keys.yaml and deploy (\`npm run deploy\`), then regenerate it again.`,
    ),
  noPendingCredential: (id: string, rotationToken: string) =>
    new KeyrollError(
      'NO_PENDING_CREDENTIAL',
      `API key \`${id}\` has no pending credential for rotation \`${rotationToken}\`: it was never added, or was dropped (a failed rotation is repaired that way). Start a new rotation.`,
    ),
  credentialConflict: (id: string, problem: string) =>
    new KeyrollError('CREDENTIAL_CONFLICT', `API key \`${id}\` cannot take this pending credential: ${problem}. Generate a new credential for the rotation.`),
  keyNotFound: (tenant: string, id: string) =>
    new KeyrollError(
      'NOT_FOUND',
      `No API key \`${id}\` exists in tenant \`${tenant}\`. List the tenant's keys with GET /v1/tenants/${tenant}/api-keys.`,
    ),
  foreignDestination: (reason: string) =>
    new KeyrollError(
      'FORBIDDEN',
      `keyroll confirms only the topic rule destination of its own telemetry URL, in its own account and region: ${reason}. Point the destination at the service of that account.`,
    ),
  methodNotAllowed: (method: string, path: string, allowed: readonly string[]) =>
    new KeyrollError('METHOD_NOT_ALLOWED', `${path} does not answer ${method}; it answers ${allowed.join(', ')}. See the README for the API's routes.`),
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
  unknownKeyBudgetSpent: (retryAfterSeconds: number) =>
    new KeyrollError(
      'SERVICE_UNAVAILABLE',
      'This service is receiving more API keys it does not know than it checks per second, so it could not check this one yet. Retry after the number of seconds in `Retry-After`; keys it has already checked keep working.',
      retryAfterSeconds,
    ),
  keyChangingWhileRead: () =>
    new KeyrollError(
      'SERVICE_UNAVAILABLE',
      'The API key was changed again each time this service read it, so its current state is not known yet. Retry after the number of seconds in `Retry-After`.',
      1,
    ),
  internal: () =>
    new KeyrollError('INTERNAL_ERROR', 'Something went wrong on our side. Retry; if it persists, report it with the time of the request.'),
};
