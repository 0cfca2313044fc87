/** `GET /v1/whoami`: the calling key's identity, straight from the verified record; no other I/O. */
import { Hono } from 'hono';
import type { ApiKeyRecord } from '../../keys/key-record';
import { withKey } from '../authenticate';
import type { ServeEnv } from '../context';
import type { ServeDeps } from '../deps';
import { respond } from '../respond';

export function whoamiRoutes(deps: ServeDeps): Hono<ServeEnv> {
  const routes = new Hono<ServeEnv>();
  routes.get(
    '/v1/whoami',
    withKey(deps, undefined, (c) => respond(c, whoamiBody(c.get('key')))),
  );
  return routes;
}

/** What whoami answers: the key's identity (also built, once per cached key, by hot-path.ts). */
export function whoamiBody(key: ApiKeyRecord) {
  return { keyId: key.id, tenant: key.tenant, environment: key.environment, permissions: key.permissions, customerId: key.customerId ?? null };
}
