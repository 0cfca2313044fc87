/**
 * `GET /v1/tenants/{tenant}/audit?keyId=&cursor=&limit=`: the tenant's audit log, newest first, or
 * one key's. Read as the key list is: `keys:manage`, the caller's tenant, and only entries of keys
 * the caller may see (its customer's when it is customer-scoped; its environment and below).
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { isAuditEntryId } from '../../audit/audit-log';
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

const auditQuerySchema = z.strictObject(
  {
    keyId: z.string().refine(isKeyId, 'must be a key id like `key_` followed by 20 letters and digits').optional(),
    cursor: z.string().max(200, 'is too long to be a cursor this API returned').optional(),
    limit: limitQuerySchema(MAX_PAGE_SIZE).optional(),
  },
  { error: 'must hold only `keyId`, `cursor` and `limit`' },
);

export function auditRoutes(deps: ServeDeps): Hono<ServeEnv> {
  const routes = new Hono<ServeEnv>();
  routes.get(
    '/v1/tenants/:tenant/audit',
    withKey(deps, PERMISSIONS.keysManage, async (c) => {
      const tenant = callerTenant(c);
      const query = parseInput(auditQuerySchema, c.req.query(), 'query');
      const caller = c.get('key');
      // One key's log is read like the key: 404 for an unknown id, 403 for one the caller may not see.
      if (query.keyId) assertMayRead(caller, await deps.manager.get(tenant, query.keyId));
      const page = await deps.auditLog.list(tenant, {
        limit: query.limit ?? DEFAULT_PAGE_SIZE,
        ...(query.keyId ? { keyId: query.keyId } : {}),
        ...(query.cursor !== undefined ? { after: decodeFeedCursor(query.cursor, isAuditEntryId, 'newest entry') } : {}),
        visible: (target) => isVisibleTo(caller, target),
      });
      return respondPrivately(c, { entries: page.entries, nextCursor: encodeFeedCursor(page.next) });
    }),
  );
  return routes;
}
