/** A telemetry reading as devices (and IoT topic rules) send it: a device id plus any JSON fields. */
import { z } from 'zod';
import { customerIdSchema } from '../keys/key-input';
import { parseInput } from '../validation';

export const MAX_READINGS_PER_REQUEST = 500;
export const TELEMETRY_BODY_LIMIT_BYTES = 256 * 1024;

export const readingSchema = z.looseObject(
  {
    deviceId: z
      .string('must be a string')
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/, 'must be 1-128 letters, digits, dots, colons, slashes, underscores or dashes'),
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
  return Array.isArray(body) ? parseInput(readingArraySchema, body, 'body') : [parseInput(readingSchema, body, 'body')];
}
