/** A telemetry reading as devices (and IoT topic rules) send it: a device id plus any JSON fields. */
import { z } from 'zod';
import { errors } from '../errors';
import { redactKeys } from '../keys/key-format';
import { customerIdSchema } from '../keys/key-input';
import { parseInput } from '../validation';
import { pathDeeperThan } from './json-depth';

export const MAX_READINGS_PER_REQUEST = 500;
export const TELEMETRY_BODY_LIMIT_BYTES = 256 * 1024;
/**
 * How deep a reading may nest objects and arrays, the reading itself being level 1. It is
 * DynamoDB's own limit for nested attributes, far more than sensor data needs, and far below the
 * depth where recursive JSON code overflows (JSON.stringify, when the reading is stored: ~4k).
 */
export const MAX_READING_DEPTH = 32;

export const deviceIdSchema = z
  .string('must be a string')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/, 'must be 1-128 letters, digits, dots, colons, slashes, underscores or dashes');

export const readingSchema = z.looseObject(
  {
    deviceId: deviceIdSchema,
    customerId: customerIdSchema.optional(),
    timestamp: z.union([z.iso.datetime({ offset: true }), z.number().finite()], { error: 'must be an ISO-8601 date-time or epoch milliseconds' }).optional(),
  },
  { error: 'must be a JSON object with at least `deviceId`' },
);
export type Reading = z.infer<typeof readingSchema>;

const readingArraySchema = z
  .array(readingSchema)
  .min(1, 'must hold at least one reading')
  .max(MAX_READINGS_PER_REQUEST, `must hold at most ${MAX_READINGS_PER_REQUEST} readings; split larger batches`);

/** A body is one reading or an array of them; each shape gets its own field-level errors. */
export function parseReadings(body: unknown): Reading[] {
  // Depth first: nothing after it (zod, the store's JSON.stringify) need cope with deep values.
  if (Array.isArray(body)) body.forEach((reading, index) => assertShallow(reading, ['body', index]));
  else assertShallow(body, ['body']);
  return Array.isArray(body) ? parseInput(readingArraySchema, body, 'body') : [parseInput(readingSchema, body, 'body')];
}

function assertShallow(reading: unknown, where: Array<string | number>): void {
  const path = pathDeeperThan(reading, MAX_READING_DEPTH);
  if (!path) return;
  throw errors.validation(
    echoPath([...where, ...path]),
    `is nested more than ${MAX_READING_DEPTH} levels deep (the reading is level 1)`,
    'Flatten the reading, or send its deeply nested parts as a JSON string.',
  );
}

/** The path runs deeper than the limit and is the caller's own data: echo its start, in parseInput's style. */
function echoPath(path: Array<string | number>): string {
  const shown = path.slice(0, 6).map((step) => {
    const text = String(step);
    return text.length > 24 ? `${text.slice(0, 24)}…` : text;
  });
  return redactKeys(shown.join('.')) + (path.length > shown.length ? '…' : '');
}
