/**
 * `/v1/telemetry`: POST accepts readings from devices and IoT topic rules (needs `telemetry:write`)
 * and answers IoT's topic rule destination confirmations; GET reads a tenant's latest readings
 * back (needs `telemetry:read`).
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { z } from 'zod';
import { errors } from '../../errors';
import { PERMISSIONS } from '../../keys/permissions';
import { CONFIRMATION_HEADER, CONFIRMATION_MESSAGE_TYPE } from '../../telemetry/destination-confirmation';
import { deviceIdSchema, parseReadings, TELEMETRY_BODY_LIMIT_BYTES } from '../../telemetry/reading';
import { parseInput } from '../../validation';
import { authenticate } from '../authenticate';
import type { ServeEnv } from '../context';
import type { ServeDeps } from '../deps';
import { JSON_BODY_LIMIT_BYTES, limitBody, readJson } from '../json-body';
import { limitQuerySchema } from '../list-query';
import { respond, respondPrivately } from '../respond';

const MAX_LATEST = 1000;
const limitConfirmation = limitBody(JSON_BODY_LIMIT_BYTES);

const latestQuerySchema = z.strictObject(
  {
    deviceId: deviceIdSchema.optional(),
    limit: limitQuerySchema(MAX_LATEST).optional(),
  },
  { error: 'must hold only `deviceId` and `limit`' },
);

export function telemetryRoutes(deps: ServeDeps): Hono<ServeEnv> {
  const routes = new Hono<ServeEnv>();
  routes.post(
    '/v1/telemetry',
    // IoT's destination confirmation carries no key: it is answered before authentication, within
    // the small-body limit, since anyone can send one.
    async (c, next) => {
      if (c.req.header(CONFIRMATION_HEADER) !== CONFIRMATION_MESSAGE_TYPE) return next();
      let response: Response | undefined;
      await limitConfirmation(c, async () => {
        response = await confirmDestination(deps, c);
      });
      return response;
    },
    // Authenticate before reading the body: an anonymous caller never gets 256 KiB buffered.
    authenticate(deps, PERMISSIONS.telemetryWrite),
    limitBody(TELEMETRY_BODY_LIMIT_BYTES, 'Split the readings into several requests.'),
    async (c) => {
      const key = c.get('key');
      const readings = parseReadings(await readJson(c));
      // A customer-scoped key speaks only for its customer: a reading naming another is refused
      // whole, before anything is stored, so a batch is never half accepted.
      if (key.customerId) {
        const foreign = readings.findIndex((r) => r.customerId !== undefined && r.customerId !== key.customerId);
        if (foreign >= 0) throw errors.otherCustomer(`reading ${foreign} (customerId \`${readings[foreign].customerId}\`)`);
      }
      await deps.telemetry.save(
        readings.map((reading) => ({ tenant: key.tenant, keyId: key.id, customerId: key.customerId ?? reading.customerId, reading })),
        new Date(),
      );
      return respond(c, { accepted: readings.length }, 202);
    },
  );

  routes.get('/v1/telemetry', authenticate(deps, PERMISSIONS.telemetryRead), async (c) => {
    const key = c.get('key');
    const { deviceId, limit } = parseInput(latestQuerySchema, c.req.query(), 'query');
    const readings = await deps.telemetry.latest({ tenant: key.tenant, deviceId, customerId: key.customerId, limit: limit ?? 100 });
    return respondPrivately(c, { readings });
  });
  return routes;
}

/** Confirms this service's own destination; anything else is refused (and logged by `confirm`). */
async function confirmDestination(deps: ServeDeps, c: Context<ServeEnv>): Promise<Response> {
  const text = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const outcome = await deps.destinations.confirm(body);
  if (!outcome.confirmed) throw errors.foreignDestination(outcome.reason);
  return respond(c, { confirmed: true, arn: outcome.arn });
}

