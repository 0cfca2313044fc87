/**
 * The management routes' side of the management rules (lambda/keys/management-rules.ts): the path's
 * tenant and key id, and the caller's view of the tenant's keys.
 */
import type { Context } from 'hono';
import { errors } from '../errors';
import { redactKeys } from '../keys/key-format';
import type { ApiKeyRecord } from '../keys/key-record';
import { assertMayChange, assertMayRead, isVisibleTo } from '../keys/management-rules';
import type { ChangeGuard, KeyManager } from '../manage/key-manager';
import type { ServeEnv } from './context';

const KEY_ID = /^key_[0-9A-Za-z]{20}$/;

/** The path's tenant, once the caller's key is known to belong to it. */
export function callerTenant(c: Context<ServeEnv>): string {
  const tenant = c.req.param('tenant') ?? '';
  if (c.get('key').tenant !== tenant) throw errors.otherTenant(echo(tenant));
  return tenant;
}

/** The path's key id; a malformed id names no key, so it is a 404 like an unknown one. */
export function pathKeyId(c: Context<ServeEnv>, param = 'id'): string {
  const id = c.req.param(param) ?? '';
  if (!isKeyId(id)) throw errors.keyNotFound(echo(c.req.param('tenant') ?? ''), echo(id));
  return id;
}

export function isKeyId(value: string): boolean {
  return KEY_ID.test(value);
}

/** Path segments are echoed in errors: short, and never a key someone pasted into a URL. */
function echo(segment: string): string {
  const safe = redactKeys(segment);
  return safe.length > 64 ? `${safe.slice(0, 64)}…` : safe;
}

/** Keys the caller may see in a list: its customer's (if scoped), its environment and below. */
export function visibleTo(caller: ApiKeyRecord): (record: ApiKeyRecord) => boolean {
  return (record) => isVisibleTo(caller, record);
}

/** Loads the path's key, if the caller may read it (tenant, customer, environment). */
export async function readableKey(deps: { manager: KeyManager }, c: Context<ServeEnv>, param = 'id'): Promise<ApiKeyRecord> {
  const record = await deps.manager.get(callerTenant(c), pathKeyId(c, param));
  assertMayRead(c.get('key'), record);
  return record;
}

/** For regenerate and revoke: the caller may change the key as it is when the change is written. */
export function mayChange(c: Context<ServeEnv>): ChangeGuard {
  const caller = c.get('key');
  return (current) => assertMayChange(caller, current);
}

/** Keys created by a customer-scoped manager belong to its customer; it may not create others'. */
export function scopedCustomerId(caller: ApiKeyRecord, requested: string | undefined): string | undefined {
  if (!caller.customerId) return requested;
  if (requested && requested !== caller.customerId) throw errors.otherCustomer(`customer \`${requested}\``);
  return caller.customerId;
}
