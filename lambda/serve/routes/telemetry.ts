/** `POST /v1/telemetry`: accepts readings from devices and IoT topic rules (needs `telemetry:write`). */
import { Hono } from 'hono';
import { errors } from '../../errors';
import { PERMISSIONS } from '../../keys/permissions';
import { parseReadings, TELEMETRY_BODY_LIMIT_BYTES } from '../../telemetry/reading';
import { authenticate } from '../authenticate';
import type { ServeEnv } from '../context';
import { respond } from '../respond';
import type { ServeDeps } from '../deps';
import { limitBody, readJson } from '../json-body';

export function telemetryRoutes(deps: ServeDeps): Hono<ServeEnv> {
  const routes = new Hono<ServeEnv>();
  routes.post(
    '/v1/telemetry',
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
  return routes;
}
