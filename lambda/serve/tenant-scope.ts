/** Tenant and customer isolation for management routes: a key only ever reaches its own tenant's keys. */
import type { Context } from 'hono';
import { errors } from '../errors';
import { redactKeys } from '../keys/key-format';
import type { ApiKeyRecord } from '../keys/key-record';
import type { KeyManager } from '../manage/key-manager';
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
  if (!KEY_ID.test(id)) throw errors.keyNotFound(echo(c.req.param('tenant') ?? ''), echo(id));
  return id;
}

/** Path segments are echoed in errors: short, and never a key someone pasted into a URL. */
function echo(segment: string): string {
  const safe = redactKeys(segment);
  return safe.length > 64 ? `${safe.slice(0, 64)}…` : safe;
}

/** A key may only issue keys of its own environment: a dev manager must not mint live keys. */
export function assertOwnEnvironment(caller: ApiKeyRecord, requested: string): void {
  if (requested !== caller.environment) throw errors.otherEnvironment(requested, caller.environment);
}

/** Keys a customer-scoped manager may see. */
export function visibleTo(caller: ApiKeyRecord, records: readonly ApiKeyRecord[]): ApiKeyRecord[] {
  return caller.customerId ? records.filter((record) => record.customerId === caller.customerId) : [...records];
}

/** Loads the path's key, if it belongs to the caller's tenant (and customer, for a customer-scoped caller). */
export async function ownKey(deps: { manager: KeyManager }, c: Context<ServeEnv>, param = 'id'): Promise<ApiKeyRecord> {
  const record = await deps.manager.get(callerTenant(c), pathKeyId(c, param));
  assertSameCustomer(c.get('key'), record);
  return record;
}

/** A customer-scoped manager sees and changes only its own customer's keys. */
export function assertSameCustomer(caller: ApiKeyRecord, target: ApiKeyRecord): void {
  if (caller.customerId && target.customerId !== caller.customerId) throw errors.otherCustomer(`key \`${target.id}\``);
}

/** Keys created by a customer-scoped manager belong to its customer; it may not create others'. */
export function scopedCustomerId(caller: ApiKeyRecord, requested: string | undefined): string | undefined {
  if (!caller.customerId) return requested;
  if (requested && requested !== caller.customerId) throw errors.otherCustomer(`customer \`${requested}\``);
  return caller.customerId;
}
