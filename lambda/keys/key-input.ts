/**
 * What a caller may set on a key, as zod schemas shared by the HTTP API, the CLI and the
 * provisioner, so validation and types never drift apart.
 */
import { z } from 'zod';
import { ENVIRONMENTS } from './environments';
import { PERMISSION_PATTERN } from './permissions';

export const MAX_TAGS = 10;
export const MAX_GRACE_SECONDS = 7 * 24 * 3600;

export const tenantSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit');

/** Lone UTF-16 surrogates are not text: the store would refuse them (a 5xx), so refuse them here. */
const wellFormed = (text: string) => (text as string & { isWellFormed(): boolean }).isWellFormed();

export const nameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .refine(wellFormed, 'must be valid Unicode text');

export const environmentSchema = z.enum(ENVIRONMENTS, {
  error: `must be one of ${ENVIRONMENTS.join(', ')}`,
});

export const permissionsSchema = z
  .array(
    z.string().regex(PERMISSION_PATTERN, 'must look like `resource:action` (lowercase), e.g. `telemetry:write` or `telemetry:*`'),
    { error: 'must be an array of permission strings' },
  )
  .min(1, 'must hold at least one permission, e.g. ["telemetry:write"]')
  .max(50, 'must hold at most 50 permissions')
  .refine((list) => new Set(list).size === list.length, 'must not repeat a permission');

export const rateLimitSchema = z.strictObject(
  {
    limit: z.int('must be a whole number').min(1, 'must be at least 1').max(1_000_000_000, 'must be at most 1000000000'),
    windowSeconds: z.int('must be a whole number').min(1, 'must be at least 1 second').max(86_400, 'must be at most 86400 (one day)'),
  },
  { error: 'must be an object like {"limit": 6000, "windowSeconds": 60}' },
);

/** ISO-8601 with an offset; "in the future" is checked against the clock where the key is written. */
export const expiresAtSchema = z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time, e.g. 2027-01-31T00:00:00Z' });

export const tagsSchema = z
  .array(z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters').refine(wellFormed, 'must be valid Unicode text'), {
    error: 'must be an array of strings',
  })
  .max(MAX_TAGS, `must hold at most ${MAX_TAGS} tags`);

export const customerIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'must be 1-128 letters, digits, dots, colons, underscores or dashes');

const OBJECT = { error: 'must be a JSON object' };

export const createKeyInputSchema = z.strictObject({
  name: nameSchema,
  environment: environmentSchema,
  permissions: permissionsSchema,
  rateLimit: rateLimitSchema.optional(),
  expiresAt: expiresAtSchema.optional(),
  tags: tagsSchema.optional(),
  customerId: customerIdSchema.optional(),
}, OBJECT);
export type CreateKeyInput = z.infer<typeof createKeyInputSchema>;

export const updateKeyInputSchema = z
  .strictObject({
    name: nameSchema.optional(),
    permissions: permissionsSchema.optional(),
    rateLimit: rateLimitSchema.optional(),
    enabled: z.boolean('must be true or false').optional(),
    /** null removes the expiry. */
    expiresAt: expiresAtSchema.nullable().optional(),
    tags: tagsSchema.optional(),
  }, OBJECT)
  .refine((input) => Object.keys(input).length > 0, 'must set at least one of name, permissions, rateLimit, enabled, expiresAt, tags');
export type UpdateKeyInput = z.infer<typeof updateKeyInputSchema>;

export const regenerateKeyInputSchema = z.strictObject({
  graceSeconds: z
    .int('must be a whole number of seconds')
    .min(0, 'must not be negative')
    .max(MAX_GRACE_SECONDS, `must be at most ${MAX_GRACE_SECONDS} (7 days)`)
    .optional(),
}, OBJECT);
export type RegenerateKeyInput = z.infer<typeof regenerateKeyInputSchema>;
