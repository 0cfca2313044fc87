/** A telemetry reading as devices (and IoT topic rules) send it: a device id plus any JSON fields. */
import { z } from 'zod';
import { customerIdSchema } from '../keys/key-input';

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

export const readingsSchema = z.union(
  [
    readingSchema.transform((reading) => [reading]),
    z
      .array(readingSchema)
      .min(1, 'must hold at least one reading')
      .max(MAX_READINGS_PER_REQUEST, `must hold at most ${MAX_READINGS_PER_REQUEST} readings; split larger batches`),
  ],
  { error: 'must be a reading object or an array of readings' },
);
