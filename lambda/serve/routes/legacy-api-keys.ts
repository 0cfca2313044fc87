/**
 * `/auth/{tenant}/apiKeys`: the widely used minimal shape, for clients written against it. Keys made
 * here get this service's environment, `telemetry:write`, the default rate limit (6000 per 60 s),
 * no expiry, no tags, and the caller's customer scope if it has one.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { nameSchema } from '../../keys/key-input';
import { DEFAULT_RATE_LIMIT } from '../../keys/key-record';
import { PERMISSIONS } from '../../keys/permissions';
import { parseInput } from '../../validation';
import { authenticate } from '../authenticate';
import { MANAGEMENT_METHODS } from './api-keys';
import type { ServeEnv } from '../context';
import { respondPrivately } from '../respond';
import type { ServeDeps } from '../deps';
import { JSON_BODY_LIMIT_BYTES, limitBody, readJson } from '../json-body';
import { assertMayIssue } from '../../keys/management-rules';
import { callerTenant, mayChange, pathKeyId, readableKey, visibleTo } from '../tenant-scope';
import { auditKeyChange, rememberingGuard } from '../key-audit';

export const LEGACY_KEY_PERMISSIONS = [PERMISSIONS.telemetryWrite];

const legacyCreateSchema = z.strictObject({ name: nameSchema }, { error: 'must be a JSON object like {"name": "my integration"}' });

export function legacyApiKeyRoutes(deps: ServeDeps): Hono<ServeEnv> {
  const routes = new Hono<ServeEnv>();
  const base = '/auth/:tenant/apiKeys';
  // `base/*` also matches `base` itself in Hono; registering both would authenticate twice.
  routes.on(MANAGEMENT_METHODS, `${base}/*`, authenticate(deps, PERMISSIONS.keysManage), limitBody(JSON_BODY_LIMIT_BYTES));

  routes.get(base, async (c) => {
    const records = (await deps.manager.list(callerTenant(c))).filter(visibleTo(c.get('key')));
    const keys = records.filter((r) => !r.revokedAt).map((r) => ({ id: r.id, name: r.name }));
    return respondPrivately(c, { keys });
  });

  routes.post(base, async (c) => {
    const tenant = callerTenant(c);
    const { name } = parseInput(legacyCreateSchema, await readJson(c), 'body');
    // The same rules as the v1 route: the caller must hold what the key is given.
    assertMayIssue(c.get('key'), { environment: deps.environment, permissions: LEGACY_KEY_PERMISSIONS });
    const { record, key } = await deps.manager.create(tenant, {
      name,
      environment: deps.environment,
      permissions: LEGACY_KEY_PERMISSIONS,
      rateLimit: DEFAULT_RATE_LIMIT,
      customerId: c.get('key').customerId,
    });
    deps.logger.info('key created', { tenant, keyId: record.id, environment: record.environment, route: 'legacy' });
    await auditKeyChange(deps, c, undefined, record);
    return respondPrivately(c, { id: record.id, name: record.name, key }, 201, { location: `/auth/${tenant}/apiKeys/${record.id}` });
  });

  routes.get(`${base}/:keyId`, async (c) => {
    const record = await readableKey(deps, c, 'keyId');
    return respondPrivately(c, { id: record.id, name: record.name });
  });

  routes.delete(`${base}/:keyId`, async (c) => {
    const applied = rememberingGuard(mayChange(c));
    const record = await deps.manager.revoke(callerTenant(c), pathKeyId(c, 'keyId'), applied.guard);
    deps.logger.info('key revoked', { tenant: record.tenant, keyId: record.id, route: 'legacy' });
    await auditKeyChange(deps, c, applied.before(), record);
    return respondPrivately(c, { message: `API key ${record.id} revoked.` });
  });

  return routes;
}
