/** `GET /v1/whoami`: the calling key's identity, straight from the verified record; no other I/O. */
import { Hono } from 'hono';
import { withKey } from '../authenticate';
import type { ServeEnv } from '../context';
import type { ServeDeps } from '../deps';
import { respond } from '../respond';

export function whoamiRoutes(deps: ServeDeps): Hono<ServeEnv> {
  const routes = new Hono<ServeEnv>();
  routes.get(
    '/v1/whoami',
    withKey(deps, undefined, (c) => {
      const key = c.get('key');
      return respond(c, {
        keyId: key.id,
        tenant: key.tenant,
        environment: key.environment,
        permissions: key.permissions,
        customerId: key.customerId ?? null,
      });
    }),
  );
  return routes;
}
