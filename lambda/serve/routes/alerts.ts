/**
 * `GET /v1/tenants/{tenant}/alerts?keyId=&type=&cursor=&limit=`: alerts on unusual activity,
 * newest first, the tenant's or one key's. Read as the audit log is: `keys:manage`, the caller's
 * tenant, and only alerts of keys the caller may see (its customer's; its environment and below).
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { ALERT_TYPES, isAlertId } from '../../alerts/alert';
import { assertMayRead, isVisibleTo } from '../../keys/management-rules';
import { PERMISSIONS } from '../../keys/permissions';
import { parseInput } from '../../validation';
import { withKey } from '../authenticate';
import type { ServeEnv } from '../context';
import type { ServeDeps } from '../deps';
import { decodeFeedCursor, encodeFeedCursor } from '../feed-cursor';
import { DEFAULT_PAGE_SIZE, limitQuerySchema, MAX_PAGE_SIZE } from '../list-query';
import { respondPrivately } from '../respond';
import { callerTenant, isKeyId } from '../tenant-scope';

const alertQuerySchema = z.strictObject(
  {
    keyId: z.string().refine(isKeyId, 'must be a key id like `key_` followed by 20 letters and digits').optional(),
    type: z.enum(ALERT_TYPES, { error: `must be one of ${ALERT_TYPES.map((type) => `\`${type}\``).join(', ')}` }).optional(),
    cursor: z.string().max(200, 'is too long to be a cursor this API returned').optional(),
    limit: limitQuerySchema(MAX_PAGE_SIZE).optional(),
  },
  { error: 'must hold only `keyId`, `type`, `cursor` and `limit`' },
);

export function alertRoutes(deps: ServeDeps): Hono<ServeEnv> {
  const routes = new Hono<ServeEnv>();
  routes.get(
    '/v1/tenants/:tenant/alerts',
    withKey(deps, PERMISSIONS.keysManage, async (c) => {
      const tenant = callerTenant(c);
      const query = parseInput(alertQuerySchema, c.req.query(), 'query');
      const caller = c.get('key');
      // One key's alerts are read like the key: 404 for an unknown id, 403 for one the caller may not see.
      if (query.keyId) assertMayRead(caller, await deps.manager.get(tenant, query.keyId));
      const page = await deps.alerts.list(tenant, {
        limit: query.limit ?? DEFAULT_PAGE_SIZE,
        ...(query.keyId ? { keyId: query.keyId } : {}),
        ...(query.type ? { type: query.type } : {}),
        ...(query.cursor !== undefined ? { after: decodeFeedCursor(query.cursor, isAlertId, 'newest alert') } : {}),
        visible: (target) => isVisibleTo(caller, target),
      });
      return respondPrivately(c, { alerts: page.items, nextCursor: encodeFeedCursor(page.next) });
    }),
  );
  return routes;
}
