/**
 * `/v1/tenants/{tenant}/api-keys`: create, list, get, update, regenerate and revoke a tenant's keys.
 * Regenerating a declared key starts its rotation instead (202), so its consumers are moved first.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { errors } from '../../errors';
import { createKeyInputSchema, type RegenerateKeyInput, regenerateKeyInputSchema, updateKeyInputSchema } from '../../keys/key-input';
import type { ApiKeyRecord, DeclaredKey } from '../../keys/key-record';
import { assertMayIssue, assertMayUpdate } from '../../keys/management-rules';
import { assertKnownPermissions } from '../../keys/permission-registry';
import { PERMISSIONS } from '../../keys/permissions';
import { parseInput } from '../../validation';
import { authenticate } from '../authenticate';
import type { ServeEnv } from '../context';
import { respondPrivately } from '../respond';
import type { ServeDeps } from '../deps';
import { JSON_BODY_LIMIT_BYTES, limitBody, readJson } from '../json-body';
import { encodeCursor, parseListQuery } from '../list-query';
import { callerTenant, mayChange, pathKeyId, readableKey, scopedCustomerId, visibleTo } from '../tenant-scope';
import { credentialHashes, keyView } from '../views';
import { auditKeyAction, auditKeyChange, rememberingGuard } from '../key-audit';

/** The methods management routes answer; the auth middleware runs for these only. */
export const MANAGEMENT_METHODS = ['GET', 'POST', 'PATCH', 'DELETE'];

export function apiKeyRoutes(deps: ServeDeps): Hono<ServeEnv> {
  const routes = new Hono<ServeEnv>();
  const base = '/v1/tenants/:tenant/api-keys';
  // `base/*` also matches `base` itself in Hono; registering both would authenticate twice. Only
  // for the methods these routes answer: any other gets 405 with Allow, and OPTIONS needs no key.
  routes.on(MANAGEMENT_METHODS, `${base}/*`, authenticate(deps, PERMISSIONS.keysManage), limitBody(JSON_BODY_LIMIT_BYTES));

  routes.post(base, async (c) => {
    const tenant = callerTenant(c);
    const input = parseInput(createKeyInputSchema, await readJson(c), 'body');
    // Who may grant comes first: a permission the caller lacks is refused as such, known or not.
    assertMayIssue(c.get('key'), input);
    assertKnownPermissions(input.permissions, await deps.declaredPermissions.get(tenant), 'body.permissions');
    const customerId = scopedCustomerId(c.get('key'), input.customerId);
    const { record, key } = await deps.manager.create(tenant, { ...input, customerId });
    deps.logger.info('key created', { tenant, keyId: record.id, environment: record.environment });
    await auditKeyChange(deps, c, undefined, record);
    return respondPrivately(c, { ...keyView(record), key }, 201, { location: `/v1/tenants/${tenant}/api-keys/${record.id}` });
  });

  routes.get(base, async (c) => {
    const tenant = callerTenant(c);
    const { limit, afterId } = parseListQuery(c.req.query());
    const page = await deps.manager.listPage(tenant, { limit, afterId, visible: visibleTo(c.get('key')) });
    const now = Date.now();
    return respondPrivately(c, {
      keys: page.records.map((record) => keyView(record, now)),
      nextCursor: page.nextAfterId ? encodeCursor(page.nextAfterId) : null,
    });
  });

  // The one view that shows each credential's last use: a consistent read per credential (at most five).
  routes.get(`${base}/:id`, async (c) => {
    const record = await readableKey(deps, c);
    const now = Date.now();
    return respondPrivately(c, keyView(record, now, await deps.manager.credentialLastUsed(credentialHashes(record, now))));
  });

  routes.patch(`${base}/:id`, async (c) => {
    // Scope first: another tenant's, customer's or environment's caller learns nothing from how its body is wrong.
    const record = await readableKey(deps, c);
    const input = parseInput(updateKeyInputSchema, await readJson(c), 'body');
    const caller = c.get('key');
    assertMayUpdate(caller, record, input);
    if (input.permissions) assertKnownPermissions(input.permissions, await deps.declaredPermissions.get(record.tenant), 'body.permissions');
    // Checked again against the version the change is written over.
    const applied = rememberingGuard((current) => assertMayUpdate(caller, current, input));
    const updated = await deps.manager.update(record.tenant, record.id, input, applied.guard);
    deps.logger.info('key updated', { tenant: record.tenant, keyId: record.id, fields: Object.keys(input) });
    await auditKeyChange(deps, c, applied.before(), updated);
    return respondPrivately(c, keyView(updated));
  });

  const revokeRoute = async (c: Context<ServeEnv>) => {
    const tenant = callerTenant(c);
    const applied = rememberingGuard(mayChange(c));
    const revoked = await deps.manager.revoke(tenant, pathKeyId(c), applied.guard);
    deps.logger.info('key revoked', { tenant, keyId: revoked.id });
    await auditKeyChange(deps, c, applied.before(), revoked);
    return respondPrivately(c, keyView(revoked));
  };
  routes.delete(`${base}/:id`, revokeRoute);
  routes.post(`${base}/:id/revoke`, revokeRoute);

  routes.post(`${base}/:id/regenerate`, async (c) => {
    const record = await readableKey(deps, c);
    const input = parseInput(regenerateKeyInputSchema, await readJson(c, {}), 'body');
    // A declared key with consumers (the issue's "spec and consumers") is rotated, so every consumer
    // moves; one without any is regenerated like an API key (its secret catches up at the next deploy).
    if (record.declared && (record.declared.consumers ?? 1) > 0) return startRotation(deps, c, record, record.declared, input);
    const applied = rememberingGuard(mayChange(c));
    const { record: regenerated, key } = await deps.manager.regenerate(record.tenant, record.id, input, applied.guard);
    deps.logger.info('key regenerated', { tenant: record.tenant, keyId: record.id, graceSeconds: input.graceSeconds ?? 0 });
    await auditKeyChange(deps, c, applied.before(), regenerated);
    return respondPrivately(c, { ...keyView(regenerated), key });
  });

  return routes;
}

/**
 * A declared key's credential lives in its secret and its consumers: a new one handed out here
 * would reach none of them. Secrets Manager's rotation moves them all, then the grace declared for
 * the key keeps the old credential working; the answer carries the rotation, never a credential.
 */
async function startRotation(deps: ServeDeps, c: Context<ServeEnv>, record: ApiKeyRecord, declared: DeclaredKey, input: RegenerateKeyInput) {
  mayChange(c)(record);
  if (record.revokedAt) throw errors.keyRevoked(record.id);
  if (input.graceSeconds !== undefined) {
    throw errors.validation(
      'body.graceSeconds',
      `does not apply to a declared key (\`${declared.name}\`): regenerating it starts a rotation, whose grace is the key's \`rotation.graceMinutes\` in keys.yaml`,
      'Send the request without `graceSeconds`.',
    );
  }
  const rotation = await deps.rotations.start(record, declared);
  deps.logger.info('key rotation started', { tenant: record.tenant, keyId: record.id, name: declared.name, versionId: rotation.versionId });
  await auditKeyAction(deps, c, record, 'regenerate', `started the rotation of declared key \`${declared.name}\` (Secrets Manager version ${rotation.versionId})`);
  return respondPrivately(c, { rotation }, 202);
}
